"""Optuna's side of `cargo xtask bench storage`: trials per second of Optuna's random
sampler on a trivial objective (6 integer suggestions and a dict lookup), with N worker
processes sharing one study through the storage in OPTUNA_STORAGE (an SQLAlchemy URL:
postgresql+psycopg2://... or sqlite:///...). The rate is trials over the wall time from
starting the workers to the last one's exit, as for ours. Prints JSON.

Installed by the bench into a throwaway venv (requirements: optuna, psycopg2-binary),
never by CI.
"""

import argparse
import itertools
import json
import multiprocessing
import os
import time

import optuna

# The stand-in for the tabular benchmark: every cell of 6 edges with 5 operations.
TABLE = {cell: (sum(cell) * 7919 % 1000) / 10.0
         for cell in itertools.product(range(5), repeat=6)}


def objective(trial):
    cell = tuple(trial.suggest_int(f"edge{i}", 0, 4) for i in range(6))
    return TABLE[cell]


def work(storage, n_trials, seed):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="bench", storage=storage,
                              sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    storage = os.environ["OPTUNA_STORAGE"]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="bench", storage=storage, direction="maximize")
    shares = [args.trials // args.workers + (1 if i < args.trials % args.workers else 0)
              for i in range(args.workers)]
    started = time.perf_counter()
    workers = [multiprocessing.Process(target=work, args=(storage, n, i))
               for i, n in enumerate(shares)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - started
    if any(w.exitcode != 0 for w in workers):
        raise SystemExit("an Optuna worker failed")
    print(json.dumps({"trials": args.trials, "workers": args.workers,
                      "seconds": seconds, "trials_per_second": args.trials / seconds,
                      "optuna": optuna.__version__}))


if __name__ == "__main__":
    main()
