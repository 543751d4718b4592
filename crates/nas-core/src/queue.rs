//! A trial queue: one experiment shared by worker processes on any number of machines.
//!
//! A storage that many processes can reach (a database server) may offer one, beside its
//! journal. The protocol keeps every registered strategy unchanged:
//!
//! - **Asks are serialized.** One worker at a time holds the experiment's ask lock; it
//!   records its results, restores the strategy from the stored checkpoint (unless that
//!   checkpoint is the one it wrote itself), tells it those results, asks, and stores the
//!   new checkpoint with the new trial, all in one transaction. Since results are only
//!   recorded under the ask lock, the stored checkpoint has always been told every
//!   recorded result, once; a worker killed mid-ask leaves the stored state as it was.
//! - **Trials are leased.** An asked trial is held by its worker under a lease that the
//!   worker's heartbeat keeps alive; a trial whose lease ran out (its worker died or hung)
//!   is claimed by another worker with the same id and seed.
//! - **A result is written once.** The first result of a trial is recorded; a later one
//!   (a worker that came back after its lease ran out) is refused by the storage, never
//!   told to the strategy, and the worker is told.
//!
//! The worker loop itself is storage-neutral: [`crate::worker`].

use crate::journal::JournalError;
use crate::search::SearchError;
use crate::trial::{Trial, TrialResult};
use std::time::Duration;

/// What a worker sees when it holds the ask lock.
#[derive(Debug)]
pub struct AskRound {
    /// The stored checkpoint, when the strategy must be restored from it: `None` when
    /// nothing was stored yet, or when the stored one is the one this queue wrote last
    /// (the strategy in memory is already in that state).
    pub checkpoint: Option<serde_json::Value>,
    /// The results this round recorded (this worker's, less those another worker had
    /// recorded first), in trial-id order: the strategy is told them now. Every result is
    /// recorded in an ask round, under the ask lock, so the stored checkpoint covers every
    /// recorded result and these are the only ones it has not been told.
    pub untold: Vec<TrialResult>,
    /// Trials asked so far, over all workers: the next trial's id.
    pub asked: u64,
    /// Results recorded before this round.
    pub told: u64,
    /// The simulated training seconds of the results recorded before this round.
    pub told_seconds: f64,
    /// Trials asked and not finished (running, or waiting for a worker).
    pub in_flight: u64,
    /// Of those, the ones whose lease ran out: their worker stopped, and they wait for
    /// another to [claim](TrialQueue::claim) them.
    pub expired: u64,
}

/// What a worker stores when it releases the ask lock.
#[derive(Debug)]
pub struct AskAnswer {
    /// The strategy's checkpoint after it was told [`AskRound::untold`] and asked;
    /// `None` when the round told and asked nothing, so the stored state stands.
    pub checkpoint: Option<serde_json::Value>,
    /// The new trials (ids from [`AskRound::asked`] on), leased to this worker.
    pub trials: Vec<Trial>,
    /// The simulated seconds of every result told, `untold` included.
    pub told_seconds: f64,
}

/// One worker's connection to a shared experiment.
pub trait TrialQueue: Send {
    /// The config stored with the experiment, if it exists.
    ///
    /// # Errors
    /// The storage failed.
    fn stored_config(&mut self) -> Result<Option<serde_json::Value>, JournalError>;

    /// Creates the experiment of `request`, or joins it: an experiment that exists must
    /// hold a config that differs in no more than its budget and name, and must be run by
    /// workers (a journal written by one `nas search` process is continued by one).
    ///
    /// # Errors
    /// As the refusals above, and a storage failure.
    fn join(&mut self, request: crate::storage::JournalRequest<'_>) -> Result<(), JournalError>;

    /// Leases the lowest-id trial that is asked, unfinished, and held by no live lease.
    ///
    /// # Errors
    /// The storage failed.
    fn claim(&mut self) -> Result<Option<Trial>, JournalError>;

    /// Holds the ask lock, records `finished` (this worker's results; each trial's first
    /// result only, its lease ended), runs `round`, and stores its answer, all in one
    /// transaction: nothing is stored when `round` fails. The ids of the results of
    /// `finished` that were recorded (the others were recorded first by another worker).
    ///
    /// # Errors
    /// What `round` returned, or a storage failure.
    fn ask(
        &mut self,
        finished: &[TrialResult],
        round: &mut dyn FnMut(AskRound) -> Result<AskAnswer, SearchError>,
    ) -> Result<Vec<u64>, SearchError>;

    /// Gives up the lease of trial `id` unfinished, so that another worker takes it now.
    ///
    /// # Errors
    /// The storage failed.
    fn release(&mut self, id: u64) -> Result<(), JournalError>;

    /// A heartbeat on its own connection, for another thread: while the worker evaluates,
    /// it keeps this worker's leases alive.
    ///
    /// # Errors
    /// The storage could not be reached.
    fn heartbeat(&self) -> Result<Box<dyn Heartbeat>, JournalError>;

    /// How long a lease lasts without a heartbeat.
    fn lease(&self) -> Duration;

    /// The experiment as a journal reader sees it: finished trials, and the trials in
    /// flight as pending.
    ///
    /// # Errors
    /// The storage failed.
    fn read(&mut self) -> Result<crate::journal::JournalState, JournalError>;
}

/// Keeps a worker's leases alive.
pub trait Heartbeat: Send {
    /// Extends every lease this worker holds by the lease duration.
    ///
    /// # Errors
    /// The storage failed.
    fn beat(&mut self) -> Result<(), JournalError>;
}

/// Who a worker is and how long its leases last.
#[derive(Debug, Clone)]
pub struct WorkerIdentity {
    /// Unique among the experiment's workers: shown in the storage beside its leases.
    pub name: String,
    pub lease: Duration,
}
