//! The runner: drives a black-box strategy against an evaluator with N trials in flight.
//!
//! Results are told to the strategy in trial-id order, whatever order the worker threads
//! finish in. That costs a little parallelism when one trial is much slower than the
//! others, and buys reproducibility: the sequence of `ask` and `tell` calls, hence every
//! proposal, depends only on the seed and the config, never on thread timing. It is also
//! what makes resume exact (see [`crate::journal`]).

use crate::config::Budget;
use crate::evaluator::{CollectingReporter, EvalError, Evaluator};
use crate::journal::{Journal, JournalState};
use crate::pareto;
use crate::rng::derive_seed;
use crate::search::{Observer, Progress, Search, SearchError, SearchReport, StopReason};
use crate::space::SearchSpace;
use crate::strategy::Strategy;
use crate::trial::{Objective, Outcome, Proposal, Trial, TrialResult};
use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Evaluates one trial, turning every way it can end into an outcome. A panic inside the
/// evaluator is a failed trial, not a crashed search.
pub fn evaluate_trial(evaluator: &dyn Evaluator, trial: Trial) -> Result<TrialResult, SearchError> {
    let mut reporter = CollectingReporter::default();
    let run = catch_unwind(AssertUnwindSafe(|| {
        evaluator.evaluate(&trial, &mut reporter)
    }));
    let outcome = match run {
        Ok(Ok(metrics)) => Outcome::Completed { metrics },
        Ok(Err(EvalError::Failed(reason))) => Outcome::Failed { reason },
        Ok(Err(EvalError::Pruned { step, metrics })) => Outcome::Pruned { step, metrics },
        Ok(Err(EvalError::Fatal(reason))) => return Err(SearchError::Fatal(reason)),
        Err(panic) => Outcome::Failed {
            reason: format!("evaluator panicked: {}", panic_message(&panic)),
        },
    };
    Ok(TrialResult {
        trial,
        outcome,
        intermediate: reporter.reports,
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A space, a strategy and an evaluator: the black-box [`Search`].
#[derive(Debug)]
pub struct BlackBoxSearch {
    pub space: Arc<dyn SearchSpace>,
    pub strategy: Box<dyn Strategy>,
    pub evaluator: Arc<dyn Evaluator>,
    pub objectives: Vec<Objective>,
    pub seed: u64,
    pub workers: usize,
}

/// Where trials are evaluated: inline for one worker (no threads, no channels: the
/// tabular benchmarks run millions of trials), on a thread pool otherwise.
trait Executor {
    fn submit(&mut self, trial: Trial);
    /// A finished trial if one is ready now.
    fn try_next(&mut self) -> Result<Option<TrialResult>, SearchError>;
    /// Waits for a finished trial.
    fn next(&mut self) -> Result<TrialResult, SearchError>;
}

struct Inline<'a> {
    evaluator: &'a dyn Evaluator,
    queue: VecDeque<Trial>,
}

impl Executor for Inline<'_> {
    fn submit(&mut self, trial: Trial) {
        self.queue.push_back(trial);
    }
    fn try_next(&mut self) -> Result<Option<TrialResult>, SearchError> {
        match self.queue.pop_front() {
            Some(trial) => evaluate_trial(self.evaluator, trial).map(Some),
            None => Ok(None),
        }
    }
    fn next(&mut self) -> Result<TrialResult, SearchError> {
        self.try_next()?
            .ok_or_else(|| SearchError::Fatal("runner waited with no trial in flight".into()))
    }
}

struct Pool {
    to_workers: Option<mpsc::Sender<Trial>>,
    from_workers: mpsc::Receiver<Result<TrialResult, SearchError>>,
}

impl Executor for Pool {
    fn submit(&mut self, trial: Trial) {
        if let Some(tx) = &self.to_workers {
            // A send fails only when every worker is gone, which `next` then reports.
            let _ = tx.send(trial);
        }
    }
    fn try_next(&mut self) -> Result<Option<TrialResult>, SearchError> {
        match self.from_workers.try_recv() {
            Ok(r) => r.map(Some),
            Err(mpsc::TryRecvError::Empty) => Ok(None),
            Err(mpsc::TryRecvError::Disconnected) => {
                Err(SearchError::Fatal("all worker threads stopped".into()))
            }
        }
    }
    fn next(&mut self) -> Result<TrialResult, SearchError> {
        self.from_workers
            .recv()
            .map_err(|_| SearchError::Fatal("all worker threads stopped".into()))?
    }
}

impl Search for BlackBoxSearch {
    fn space(&self) -> &Arc<dyn SearchSpace> {
        &self.space
    }

    fn run(
        &mut self,
        budget: &Budget,
        journal: &mut dyn Journal,
        observer: &mut dyn Observer,
        resume: Option<JournalState>,
    ) -> Result<SearchReport, SearchError> {
        budget.check()?;
        if self.workers <= 1 {
            let evaluator = Arc::clone(&self.evaluator);
            let mut inline = Inline {
                evaluator: &*evaluator,
                queue: VecDeque::new(),
            };
            return self.drive(budget, journal, observer, resume, &mut inline);
        }
        let evaluator = Arc::clone(&self.evaluator);
        let workers = self.workers;
        std::thread::scope(|scope| {
            let (to_workers, work) = mpsc::channel::<Trial>();
            let (done, from_workers) = mpsc::channel();
            let work = Arc::new(Mutex::new(work));
            for _ in 0..workers {
                let work = Arc::clone(&work);
                let done = done.clone();
                let evaluator = Arc::clone(&evaluator);
                scope.spawn(move || {
                    loop {
                        // The lock is held only to take the next trial.
                        let next = match work.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(trial) = next else { return };
                        if done.send(evaluate_trial(&*evaluator, trial)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(done);
            let mut pool = Pool {
                to_workers: Some(to_workers),
                from_workers,
            };
            let report = self.drive(budget, journal, observer, resume, &mut pool);
            // Closing the work channel ends the workers; the scope joins them.
            pool.to_workers = None;
            report
        })
    }
}

impl BlackBoxSearch {
    fn trial_for(&self, id: u64, proposal: Proposal) -> Trial {
        Trial {
            id,
            genotype: proposal.genotype,
            fidelity: proposal.fidelity,
            seed: derive_seed(self.seed, id),
        }
    }

    fn drive(
        &mut self,
        budget: &Budget,
        journal: &mut dyn Journal,
        observer: &mut dyn Observer,
        resume: Option<JournalState>,
        exec: &mut dyn Executor,
    ) -> Result<SearchReport, SearchError> {
        let started = Instant::now();
        let mut progress = Progress::default();
        let mut next_id = 0u64;
        let mut in_flight = 0u64;
        let multi = self.objectives.len() > 1;
        let mut all_completed: Vec<TrialResult> = Vec::new();

        if let Some(state) = resume {
            if let Some(checkpoint) = state.checkpoint.clone() {
                self.strategy
                    .restore(checkpoint)
                    .map_err(|e| SearchError::Resume(e.to_string()))?;
            }
            next_id = state.next_id();
            for (expected, r) in state.finished.iter().enumerate() {
                if r.trial.id != expected as u64 {
                    return Err(SearchError::Resume(format!(
                        "finished trials are not 0..{}: trial {} is missing",
                        state.finished.len(),
                        expected
                    )));
                }
                progress.record(r, &self.objectives);
                if multi && matches!(r.outcome, Outcome::Completed { .. }) {
                    all_completed.push(r.clone());
                }
            }
            for trial in state.pending {
                exec.submit(trial);
                in_flight += 1;
            }
        }
        let resumed = progress.finished;
        let mut next_tell = progress.finished;
        observer.on_start(budget, &progress);

        let mut reorder: BTreeMap<u64, TrialResult> = BTreeMap::new();
        let mut exhausted = false;
        loop {
            // Refill free slots while the budget allows.
            while !exhausted && (in_flight as usize) < self.workers.max(1) {
                let room = self.room(budget, &progress, in_flight, started);
                if room == 0 {
                    break;
                }
                let want = room.min(self.workers.max(1) as u64 - in_flight) as usize;
                let proposals = self.strategy.ask(want);
                if proposals.is_empty() {
                    if in_flight == 0 {
                        exhausted = true;
                    }
                    break;
                }
                for proposal in proposals.into_iter().take(want) {
                    self.space
                        .validate(&proposal.genotype)
                        .map_err(|e| SearchError::InvalidProposal(e.to_string()))?;
                    let trial = self.trial_for(next_id, proposal);
                    next_id += 1;
                    journal.asked(&trial)?;
                    exec.submit(trial);
                    in_flight += 1;
                }
            }
            if in_flight == 0 {
                break;
            }
            // The next result in id order.
            let result = loop {
                if let Some(r) = reorder.remove(&next_tell) {
                    break r;
                }
                let r = match exec.try_next()? {
                    Some(r) => r,
                    None => {
                        // About to wait: make what we have durable first.
                        let strategy = &self.strategy;
                        journal.flush(&mut || strategy.checkpoint())?;
                        exec.next()?
                    }
                };
                reorder.insert(r.trial.id, r);
            };
            next_tell += 1;
            in_flight -= 1;
            journal.finished(&result)?;
            self.strategy.tell(&result);
            progress.record(&result, &self.objectives);
            observer.on_result(&result, &progress);
            if multi && matches!(result.outcome, Outcome::Completed { .. }) {
                all_completed.push(result);
            }
            if journal.wants_flush() {
                let strategy = &self.strategy;
                journal.flush(&mut || strategy.checkpoint())?;
            }
        }
        let strategy = &self.strategy;
        journal.flush(&mut || strategy.checkpoint())?;

        let pareto_front = if multi {
            let points: Vec<Vec<f64>> = all_completed
                .iter()
                .map(|r| {
                    self.objectives
                        .iter()
                        .map(|o| o.score(&r.outcome).unwrap_or(f64::NEG_INFINITY))
                        .collect()
                })
                .collect();
            pareto::pareto_front(&points)
                .into_iter()
                .map(|i| all_completed[i].clone())
                .collect()
        } else {
            Vec::new()
        };
        Ok(SearchReport {
            progress,
            stop: if exhausted {
                StopReason::Exhausted
            } else {
                StopReason::Budget
            },
            objectives: self.objectives.clone(),
            resumed,
            wall_seconds: started.elapsed().as_secs_f64(),
            pareto_front,
        })
    }

    /// How many more trials may be asked now.
    fn room(&self, budget: &Budget, progress: &Progress, in_flight: u64, started: Instant) -> u64 {
        if let Some(limit) = budget.wall_seconds {
            if started.elapsed().as_secs_f64() >= limit {
                return 0;
            }
        }
        if let Some(limit) = budget.simulated_seconds {
            if progress.simulated_seconds >= limit {
                return 0;
            }
        }
        match budget.trials {
            Some(limit) => limit.saturating_sub(progress.finished + in_flight),
            None => u64::MAX,
        }
    }
}
