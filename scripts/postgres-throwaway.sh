#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the tests of nas-storage-postgres.
#
#   scripts/postgres-throwaway.sh start DIR   prints the cluster's URL (password included)
#   scripts/postgres-throwaway.sh stop DIR
#
# Installs Debian's postgresql package if no server is installed. The cluster lives in DIR
# (made anew), listens on 127.0.0.1 at a free port, and has one superuser `nas` whose
# password is in DIR/password; DIR is removed by `stop`. initdb refuses to run as root, so
# as root the server runs as the `postgres` user the package creates.
set -euo pipefail
cmd=${1:?usage: $0 start|stop DIR}
dir=${2:?usage: $0 start|stop DIR}

server_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    if [ -z "$(server_bin)" ] || [ ! -x "$(server_bin)/initdb" ]; then
        sudo_if_needed=""
        [ "$(id -u)" -eq 0 ] || sudo_if_needed="sudo"
        export DEBIAN_FRONTEND=noninteractive
        $sudo_if_needed apt-get install -y -q postgresql >/dev/null ||
            { $sudo_if_needed apt-get update -q >/dev/null &&
                $sudo_if_needed apt-get install -y -q postgresql >/dev/null; }
    fi
    bin=$(server_bin)
    rm -rf "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    password="nas-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
    printf '%s\n' "$password" >"$dir/password"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$dir"; fi
    as_server_user "$bin/initdb" -D "$dir/data" -U nas --pwfile="$dir/password" \
        --auth=scram-sha-256 -E UTF8 >"$dir/initdb.log" 2>&1
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >/dev/null
    echo "postgresql://nas:$password@127.0.0.1:$port/postgres"
    ;;
stop)
    bin=$(server_bin)
    if [ -d "$dir/data" ]; then
        as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
