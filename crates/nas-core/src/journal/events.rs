//! What every storage does with trial events alike: their JSON, the batch waiting for the
//! next flush, and rebuilding the finished and pending trials from the stored rows. A
//! storage keeps rows `(trial id, kind, data)` with kind `asked` or `finished`, and the
//! data this module writes; where and how is its own.

use crate::trial::{Metrics, Outcome, Trial, TrialResult};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Pending events are written when this many have gathered...
pub const FLUSH_EVENTS: usize = 4096;
/// ...or when the last write is this old, so a slow trial is durable as soon as it ends.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// The `asked` event's data: the trial, with its rendering for people.
#[derive(Serialize, Deserialize)]
struct AskedData {
    #[serde(flatten)]
    trial: Trial,
    #[serde(default)]
    arch: String,
}

/// The `finished` event's data.
#[derive(Deserialize)]
struct FinishedData {
    outcome: Outcome,
    #[serde(default)]
    intermediate: Vec<Metrics>,
}

#[derive(Serialize)]
struct FinishedRef<'a> {
    outcome: &'a Outcome,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    intermediate: &'a [Metrics],
}

/// The data of a trial's `asked` event: the trial, and `arch`, its rendering for people.
///
/// # Errors
/// The trial cannot be written as JSON.
pub fn asked_data(trial: &Trial, arch: String) -> Result<String, serde_json::Error> {
    serde_json::to_string(&AskedData {
        trial: trial.clone(),
        arch,
    })
}

/// The data of a trial's `finished` event.
///
/// # Errors
/// The outcome cannot be written as JSON.
pub fn finished_data(result: &TrialResult) -> Result<String, serde_json::Error> {
    serde_json::to_string(&FinishedRef {
        outcome: &result.outcome,
        intermediate: &result.intermediate,
    })
}

/// The trial of the `asked` event `data` of trial `id`.
///
/// # Errors
/// Data that is not such an event: the reason, naming the trial.
pub fn trial_of(id: u64, data: &str) -> Result<Trial, String> {
    let a: AskedData =
        serde_json::from_str(data).map_err(|e| format!("trial {id}: bad event: {e}"))?;
    Ok(a.trial)
}

/// The result of `trial` from its `finished` event `data`.
///
/// # Errors
/// Data that is not such an event: the reason, naming the trial.
pub fn result_of(trial: Trial, data: &str) -> Result<TrialResult, String> {
    let f: FinishedData =
        serde_json::from_str(data).map_err(|e| format!("trial {}: bad event: {e}", trial.id))?;
    Ok(TrialResult {
        trial,
        outcome: f.outcome,
        intermediate: f.intermediate,
    })
}

/// Events not yet written, and how many trials were asked and finished in all (the
/// counts a checkpoint covers).
#[derive(Debug)]
pub struct PendingEvents {
    /// `(trial id, kind, data)`, in the order they happened.
    pub rows: Vec<(u64, &'static str, String)>,
    pub asked: u64,
    pub finished: u64,
    last_flush: Instant,
}

impl PendingEvents {
    /// No events yet, counting on from `asked` and `finished` stored trials.
    pub fn new(asked: u64, finished: u64) -> Self {
        PendingEvents {
            rows: Vec::new(),
            asked,
            finished,
            last_flush: Instant::now(),
        }
    }

    /// Adds the `asked` event of `trial`, rendered `arch` for people.
    ///
    /// # Errors
    /// The trial cannot be written as JSON.
    pub fn asked(&mut self, trial: &Trial, arch: String) -> Result<(), serde_json::Error> {
        self.rows
            .push((trial.id, "asked", asked_data(trial, arch)?));
        self.asked += 1;
        Ok(())
    }

    /// Adds the `finished` event of `result`.
    ///
    /// # Errors
    /// The outcome cannot be written as JSON.
    pub fn finished(&mut self, result: &TrialResult) -> Result<(), serde_json::Error> {
        self.rows
            .push((result.trial.id, "finished", finished_data(result)?));
        self.finished += 1;
        Ok(())
    }

    /// Enough is pending, or it has waited long enough, to be written now.
    pub fn wants_flush(&self) -> bool {
        !self.rows.is_empty()
            && (self.rows.len() >= FLUSH_EVENTS || self.last_flush.elapsed() >= FLUSH_INTERVAL)
    }

    /// The rows were written.
    pub fn written(&mut self) {
        self.rows.clear();
        self.last_flush = Instant::now();
    }
}

/// Rebuilds trials from stored rows fed in `(trial id, kind)` order (`asked` sorts before
/// `finished`, so a trial's finished row follows its asked row).
#[derive(Debug, Default)]
pub struct Replay {
    asked: Vec<Trial>,
    finished: Vec<TrialResult>,
}

impl Replay {
    /// Takes the next row.
    ///
    /// # Errors
    /// Data that is not an event, or a trial finished but never asked: the reason, naming
    /// the trial.
    pub fn push(&mut self, id: u64, kind: &str, data: &str) -> Result<(), String> {
        if kind == "asked" {
            self.asked.push(trial_of(id, data)?);
            return Ok(());
        }
        let trial = match self.asked.pop() {
            Some(t) if t.id == id => t,
            _ => return Err(format!("trial {id}: finished but never asked")),
        };
        self.finished.push(result_of(trial, data)?);
        Ok(())
    }

    /// The finished trials and the trials asked but not finished, each in id order.
    pub fn trials(self) -> (Vec<TrialResult>, Vec<Trial>) {
        (self.finished, self.asked)
    }
}

/// Refuses a checkpoint that does not cover exactly the stored events: the checkpoint's
/// `(asked, finished)` counts (none stored: `None`) against the trials rebuilt from them.
///
/// # Errors
/// The disagreement, in words.
pub fn check_checkpoint(
    checkpoint: Option<(i64, i64)>,
    finished: usize,
    pending: usize,
) -> Result<(), String> {
    let n_asked = (finished + pending) as i64;
    match checkpoint {
        Some((a, f)) if a != n_asked || f != finished as i64 => Err(format!(
            "checkpoint covers {a} asked / {f} finished trials but the events hold {n_asked} / \
             {finished}"
        )),
        None if n_asked > 0 => Err("trial events without a strategy checkpoint".into()),
        _ => Ok(()),
    }
}
