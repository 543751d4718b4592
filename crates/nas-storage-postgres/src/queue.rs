//! [`PostgresQueue`]: a worker's connection to an experiment that many processes share
//! (the protocol is [`nas_core::queue`]'s).
//!
//! - The ask lock is the experiment's row, locked `FOR UPDATE` for the ask's transaction:
//!   PostgreSQL releases it when the transaction ends, or when a killed worker's
//!   connection drops, which also rolls back whatever that ask had written.
//! - A lease is a row of `nas_leases` with an expiry; claims take expired ones with
//!   `FOR UPDATE SKIP LOCKED`, so two workers never wait on, or take, the same trial.
//! - A result is inserted with `ON CONFLICT DO NOTHING` on the events' primary key, in
//!   an ask's transaction: the first result of a trial is the one kept and told.
//! - Workers hold the experiment's advisory lock shared, so a one-process `nas search`
//!   (which holds it exclusively) cannot write the experiment while they run.

use crate::journal::lock_experiment;
use crate::schema::{self, db_err};
use crate::url::Target;
use nas_core::journal::events::{asked_data, finished_data, trial_of};
use nas_core::journal::{JournalError, JournalState, check_joining};
use nas_core::queue::{AskAnswer, AskRound, Heartbeat, TrialQueue, WorkerIdentity};
use nas_core::search::SearchError;
use nas_core::storage::{JournalRequest, Render};
use nas_core::trial::{Trial, TrialResult};
use postgres::{Client, SimpleQueryMessage, SimpleQueryRow};
use std::time::Duration;

/// What the `writer` column says of an experiment that workers run.
const WORKERS: &str = "workers (nas worker)";

/// A worker's connection to one experiment.
pub struct PostgresQueue {
    target: Target,
    /// Holds the experiment's advisory lock shared for as long as it is open.
    client: Client,
    identity: WorkerIdentity,
    /// The checkpoint version this queue stored last: while the stored one is still it,
    /// the worker's strategy is in the stored state and is not restored.
    written: Option<i64>,
    render: Option<Render>,
}

impl std::fmt::Debug for PostgresQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresQueue")
            .field("location", &self.target.location())
            .field("worker", &self.identity.name)
            .finish()
    }
}

impl PostgresQueue {
    /// Connects the worker `identity` to the experiment at `target`, creating the tables
    /// if need be.
    ///
    /// # Errors
    /// The server unreachable or refusing; a newer schema; a one-process search writing
    /// the experiment now ([`JournalError::Locked`]).
    pub fn open(target: &Target, identity: WorkerIdentity) -> Result<Self, JournalError> {
        let mut client = target.connect()?;
        schema::ensure(&mut client, target)?;
        lock_experiment(&mut client, target, "pg_try_advisory_lock_shared")?;
        Ok(PostgresQueue {
            target: target.clone(),
            client,
            identity,
            written: None,
            render: None,
        })
    }

    fn invalid(&self, reason: impl Into<String>) -> JournalError {
        JournalError::Invalid {
            location: self.target.location(),
            reason: reason.into(),
        }
    }

    fn lease_seconds(&self) -> f64 {
        self.identity.lease.as_secs_f64()
    }

    /// An ask round in two round trips: the first begins the transaction, takes the ask
    /// lock, records `finished` and reads the round ([`PostgresQueue::open_round`]); the
    /// second stores the answer and commits ([`PostgresQueue::store_answer`]). Both are
    /// simple-query batches with their values written as literals ([`literal`]): with
    /// parameters, each statement would be a round trip of its own, and a round of five
    /// of them cost 2.9 ms of the 3.9 ms a trial took.
    /// The ids recorded, and the checkpoint version written, if one was.
    fn ask_in(
        &mut self,
        finished: &[TrialResult],
        round: &mut dyn FnMut(AskRound) -> Result<AskAnswer, SearchError>,
    ) -> Result<(Vec<u64>, Option<i64>), SearchError> {
        let (opened, recorded, version) = self.open_round(finished)?;
        let (asked, told) = (
            opened.asked as i64,
            opened.told as i64 + opened.untold.len() as i64,
        );
        let answer = round(opened)?;
        if answer.checkpoint.is_none() {
            self.client
                .batch_execute("COMMIT")
                .map_err(db_err(&self.target))?;
            return Ok((recorded, None));
        }
        self.store_answer(&answer, version, asked, told)?;
        Ok((recorded, Some(version + 1)))
    }

    /// Begins an ask round's transaction: takes the ask lock, records `finished`, and reads
    /// the round, the ids recorded and the stored checkpoint's version.
    fn open_round(
        &mut self,
        finished: &[TrialResult],
    ) -> Result<(AskRound, Vec<u64>, i64), JournalError> {
        let target = &self.target;
        let invalid = |reason: String| JournalError::Invalid {
            location: target.location(),
            reason,
        };
        let exp = literal(&target.experiment);
        let mut sql = format!(
            "BEGIN;
             SELECT checkpoint_version, coalesce(checkpoint_asked, 0),
                    coalesce(checkpoint_finished, 0), checkpoint_seconds,
                    CASE WHEN checkpoint_version = {written} THEN NULL ELSE checkpoint END
             FROM nas_experiments WHERE name = {exp} FOR UPDATE;",
            written = self.written.unwrap_or(-1)
        );
        if !finished.is_empty() {
            let (ids, data) = arrays(finished.iter().map(|r| (r.trial.id, finished_data(r))))
                .map_err(|e| invalid(e.to_string()))?;
            sql += &format!(
                "WITH r AS (
                    INSERT INTO nas_events (experiment, trial_id, kind, data)
                    SELECT {exp}, id, 'finished', d
                    FROM unnest(ARRAY[{ids}]::bigint[], ARRAY[{data}]::text[]) AS x (id, d)
                    ON CONFLICT DO NOTHING RETURNING trial_id),
                 l AS (DELETE FROM nas_leases WHERE experiment = {exp} AND trial_id IN ({ids}))
                 SELECT trial_id FROM r;"
            );
        }
        sql += &format!(
            "SELECT count(*), count(*) FILTER (WHERE expires < now())
             FROM nas_leases WHERE experiment = {exp};"
        );
        let messages = self.client.simple_query(&sql).map_err(db_err(target))?;
        // The rows of each statement: BEGIN, the experiment, [the results recorded,]
        // the lease counts.
        let statements = rows_by_statement(messages);
        let at = |i: usize| statements.get(i).map(Vec::as_slice).unwrap_or_default();
        let experiment = at(1)
            .first()
            .ok_or_else(|| invalid("no such experiment: a worker joins it first".into()))?;
        let number = |row: &SimpleQueryRow, i: usize| -> Result<f64, JournalError> {
            row.get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| invalid(format!("column {i} is not a number")))
        };
        let version = number(experiment, 0)? as i64;
        let asked = number(experiment, 1)? as i64;
        let told = number(experiment, 2)? as i64;
        let told_seconds = number(experiment, 3)?;
        let checkpoint = match experiment.get(4) {
            Some(text) => Some(
                serde_json::from_str::<serde_json::Value>(text)
                    .map_err(|e| invalid(format!("stored checkpoint is not JSON: {e}")))?,
            ),
            None => None,
        };
        let mut recorded = Vec::new();
        if !finished.is_empty() {
            for row in at(2) {
                recorded.push(number(row, 0)? as u64);
            }
        }
        let mut untold: Vec<TrialResult> = finished
            .iter()
            .filter(|r| recorded.contains(&r.trial.id))
            .cloned()
            .collect();
        untold.sort_by_key(|r| r.trial.id);
        let leases = at(if finished.is_empty() { 2 } else { 3 })
            .first()
            .ok_or_else(|| invalid("no lease counts".into()))?;
        let (in_flight, expired) = (number(leases, 0)? as u64, number(leases, 1)? as u64);
        let round = AskRound {
            checkpoint,
            untold,
            asked: asked as u64,
            told: told as u64,
            told_seconds,
            in_flight,
            expired,
        };
        Ok((round, recorded, version))
    }

    /// Stores `answer` (its trials, their leases, its checkpoint as version `version + 1`
    /// covering `asked` plus its trials and `told` results) and commits.
    fn store_answer(
        &mut self,
        answer: &AskAnswer,
        version: i64,
        asked: i64,
        told: i64,
    ) -> Result<(), JournalError> {
        let target = &self.target;
        let invalid = |reason: String| JournalError::Invalid {
            location: target.location(),
            reason,
        };
        let exp = literal(&target.experiment);
        let checkpoint = answer
            .checkpoint
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let render = self.render.as_ref();
        let (ids, data) = arrays(answer.trials.iter().map(|t| {
            let arch = render.map(|r| r(t)).unwrap_or_default();
            (t.id, asked_data(t, arch))
        }))
        .map_err(|e| invalid(e.to_string()))?;
        // The trials' events, their leases and the checkpoint, then the commit.
        let sql = format!(
            "WITH e AS (
                INSERT INTO nas_events (experiment, trial_id, kind, data)
                SELECT {exp}, id, 'asked', d
                FROM unnest(ARRAY[{ids}]::bigint[], ARRAY[{data}]::text[]) AS x (id, d)),
             l AS (
                INSERT INTO nas_leases (experiment, trial_id, worker, expires)
                SELECT {exp}, id, {worker}, now() + make_interval(secs => {lease})
                FROM unnest(ARRAY[{ids}]::bigint[]) AS x (id))
             UPDATE nas_experiments SET checkpoint = {checkpoint}, checkpoint_version = {v},
                checkpoint_asked = {a}, checkpoint_finished = {f}, checkpoint_seconds = {s}
             WHERE name = {exp};
             COMMIT;",
            worker = literal(&self.identity.name),
            lease = self.lease_seconds(),
            checkpoint = literal(&checkpoint),
            v = version + 1,
            a = asked + answer.trials.len() as i64,
            f = told,
            s = finite(answer.told_seconds),
        );
        self.client.batch_execute(&sql).map_err(db_err(target))?;
        Ok(())
    }
}

/// The rows of each statement of a simple-query batch, in order.
fn rows_by_statement(messages: Vec<SimpleQueryMessage>) -> Vec<Vec<SimpleQueryRow>> {
    let mut statements = vec![Vec::new()];
    for m in messages {
        match m {
            SimpleQueryMessage::Row(row) => {
                if let Some(last) = statements.last_mut() {
                    last.push(row);
                }
            }
            SimpleQueryMessage::CommandComplete(_) => statements.push(Vec::new()),
            _ => {}
        }
    }
    statements
}

/// Trial ids and their events' data as the insides of two SQL array literals
/// (`1,2` and `E'..',E'..'`).
fn arrays(
    events: impl Iterator<Item = (u64, Result<String, serde_json::Error>)>,
) -> Result<(String, String), serde_json::Error> {
    let mut ids = Vec::new();
    let mut data = Vec::new();
    for (id, text) in events {
        ids.push(id.to_string());
        data.push(literal(&text?));
    }
    Ok((ids.join(","), data.join(",")))
}

/// `text` as an SQL string literal: an escape string (`E'...'`) with its backslashes and
/// quotes doubled, which reads back as `text` whatever `standard_conforming_strings` is.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    out.push_str("E'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A number as SQL reads it: a double that is not finite would be read as a column name.
fn finite(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "'NaN'::float8".into()
    }
}

impl TrialQueue for PostgresQueue {
    fn stored_config(&mut self) -> Result<Option<serde_json::Value>, JournalError> {
        let row = self
            .client
            .query_opt(
                "SELECT config FROM nas_experiments WHERE name = $1",
                &[&self.target.experiment],
            )
            .map_err(db_err(&self.target))?;
        match row {
            Some(row) => {
                let text: String = row.get(0);
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| self.invalid(format!("stored config is not JSON: {e}")))
            }
            None => Ok(None),
        }
    }

    fn join(&mut self, request: JournalRequest<'_>) -> Result<(), JournalError> {
        let target = &self.target;
        let err = db_err(target);
        let config = request.config.to_string();
        let objectives =
            serde_json::to_string(request.objectives).map_err(|e| self.invalid(e.to_string()))?;
        let created = self
            .client
            .execute(
                "INSERT INTO nas_experiments (name, config, objectives, writer, mode)
                 VALUES ($1, $2, $3, $4, 'workers') ON CONFLICT (name) DO NOTHING",
                &[&target.experiment, &config, &objectives, &WORKERS],
            )
            .map_err(&err)?;
        if created == 0 {
            let row = self
                .client
                .query_one(
                    "SELECT config, mode FROM nas_experiments WHERE name = $1",
                    &[&target.experiment],
                )
                .map_err(&err)?;
            let (stored, mode): (String, String) = (row.get(0), row.get(1));
            if mode != "workers" {
                return Err(self.invalid(format!(
                    "this experiment was run by one `nas search` process; continue it with \
                     `nas search --resume --storage {}`, or give the workers another name",
                    target.url
                )));
            }
            let stored: serde_json::Value = serde_json::from_str(&stored)
                .map_err(|e| self.invalid(format!("stored config is not JSON: {e}")))?;
            check_joining(&target.location(), &stored, request.config)?;
            if stored != *request.config {
                self.client
                    .execute(
                        "UPDATE nas_experiments SET config = $2 WHERE name = $1",
                        &[&target.experiment, &config],
                    )
                    .map_err(&err)?;
            }
        }
        self.render = Some(request.render);
        Ok(())
    }

    fn claim(&mut self) -> Result<Option<Trial>, JournalError> {
        let target = &self.target;
        let row = self
            .client
            .query_opt(
                "WITH c AS (
                    UPDATE nas_leases SET worker = $2,
                        expires = now() + make_interval(secs => $3), attempts = attempts + 1
                    WHERE experiment = $1 AND trial_id = (
                        SELECT trial_id FROM nas_leases
                        WHERE experiment = $1 AND expires < now()
                        ORDER BY trial_id LIMIT 1 FOR UPDATE SKIP LOCKED)
                    RETURNING trial_id)
                 SELECT c.trial_id, e.data FROM c
                 JOIN nas_events e
                   ON e.experiment = $1 AND e.trial_id = c.trial_id AND e.kind = 'asked'",
                &[
                    &target.experiment,
                    &self.identity.name,
                    &self.lease_seconds(),
                ],
            )
            .map_err(db_err(target))?;
        match row {
            Some(row) => {
                let (id, data): (i64, String) = (row.get(0), row.get(1));
                trial_of(id as u64, &data)
                    .map(Some)
                    .map_err(|reason| self.invalid(reason))
            }
            None => Ok(None),
        }
    }

    fn ask(
        &mut self,
        finished: &[TrialResult],
        round: &mut dyn FnMut(AskRound) -> Result<AskAnswer, SearchError>,
    ) -> Result<Vec<u64>, SearchError> {
        match self.ask_in(finished, round) {
            Ok((recorded, version)) => {
                if version.is_some() {
                    self.written = version;
                }
                Ok(recorded)
            }
            Err(e) => {
                // Rolled back: the strategy in memory may be ahead of the stored one.
                let _ = self.client.batch_execute("ROLLBACK");
                self.written = None;
                Err(e)
            }
        }
    }

    fn release(&mut self, id: u64) -> Result<(), JournalError> {
        let target = &self.target;
        self.client
            .execute(
                "UPDATE nas_leases SET expires = now() - interval '1 second'
                 WHERE experiment = $1 AND trial_id = $2 AND worker = $3",
                &[&target.experiment, &(id as i64), &self.identity.name],
            )
            .map_err(db_err(target))?;
        Ok(())
    }

    fn heartbeat(&self) -> Result<Box<dyn Heartbeat>, JournalError> {
        Ok(Box::new(PostgresHeartbeat {
            client: self.target.connect()?,
            target: self.target.clone(),
            worker: self.identity.name.clone(),
            lease_seconds: self.lease_seconds(),
        }))
    }

    fn lease(&self) -> Duration {
        self.identity.lease
    }

    fn read(&mut self) -> Result<JournalState, JournalError> {
        crate::PostgresJournal::read(&self.target)
    }
}

/// A worker's heartbeat, on a connection of its own.
struct PostgresHeartbeat {
    client: Client,
    target: Target,
    worker: String,
    lease_seconds: f64,
}

impl Heartbeat for PostgresHeartbeat {
    fn beat(&mut self) -> Result<(), JournalError> {
        self.client
            .execute(
                "UPDATE nas_leases SET expires = now() + make_interval(secs => $3)
                 WHERE experiment = $1 AND worker = $2",
                &[&self.target.experiment, &self.worker, &self.lease_seconds],
            )
            .map_err(db_err(&self.target))?;
        Ok(())
    }
}
