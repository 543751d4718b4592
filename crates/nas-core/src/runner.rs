//! The runner: drives a black-box strategy against an evaluator with N trials in flight.
//!
//! Results are told to the strategy in trial-id order, whatever order the worker threads
//! finish in. That costs a little parallelism when one trial is much slower than the
//! others, and buys reproducibility: the sequence of `ask` and `tell` calls, hence every
//! proposal, depends only on the seed and the config, never on thread timing. It is also
//! what makes resume exact (see [`crate::journal`]).

use crate::config::Budget;
use crate::evaluator::{Control, EvalError, Evaluator, Reporter};
use crate::journal::{Journal, JournalState};
use crate::pareto;
use crate::pruner::{Pruner, Pruning};
use crate::rng::derive_seed;
use crate::search::{Observer, Progress, Search, SearchError, SearchReport, StopReason};
use crate::space::SearchSpace;
use crate::strategy::Strategy;
use crate::trial::{Metrics, Objective, Outcome, Proposal, Trial, TrialResult};
use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Evaluates one trial, turning every way it can end into an outcome. A panic inside the
/// evaluator is a failed trial, not a crashed search.
///
/// # Errors
/// [`EvalError::Fatal`]: the search cannot go on.
pub fn evaluate_trial(evaluator: &dyn Evaluator, trial: Trial) -> Result<TrialResult, SearchError> {
    evaluate_until(evaluator, trial, None, None).map(|e| e.result)
}

/// A trial's result, and whether the wall budget ended it before the evaluator did.
pub(crate) struct Evaluated {
    pub(crate) result: TrialResult,
    /// Pruned because the reporter answered [`Control::Stop`] at the deadline: the result
    /// says what the budget was, not what the architecture is worth, so it is neither told
    /// nor journaled as finished; the trial stays unfinished and runs again on resume.
    pub(crate) wall_stopped: bool,
}

/// The reporter the runner hands an evaluator: it keeps every report and, once the wall
/// budget is spent, answers [`Control::Stop`], so that an evaluator that reports as it
/// goes (the training one, every epoch) ends its trial instead of running past the budget.
///
/// With a pruner, each report also goes to it, and the trial stops when it says so. The
/// kept reports carry their step (`step`), so a resumed search gives the pruner the
/// same history.
struct DeadlineReporter<'a> {
    reports: Vec<Metrics>,
    deadline: Option<Instant>,
    stopped: bool,
    pruning: Option<(&'a Pruning, u64)>,
}

impl Reporter for DeadlineReporter<'_> {
    fn report(&mut self, step: u32, metrics: &Metrics) -> Control {
        let mut kept = metrics.clone();
        if kept.get("step").is_none() {
            kept.set("step", step as f64);
        }
        self.reports.push(kept);
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.stopped = true;
            return Control::Stop;
        }
        if let Some((pruning, trial)) = self.pruning
            && pruning.report(trial, step, metrics)
        {
            return Control::Stop;
        }
        Control::Continue
    }
}

pub(crate) fn evaluate_until(
    evaluator: &dyn Evaluator,
    trial: Trial,
    deadline: Option<Instant>,
    pruning: Option<&Pruning>,
) -> Result<Evaluated, SearchError> {
    if deadline.is_some_and(|d| Instant::now() >= d) {
        // Queued before the budget was spent, started after: not started at all.
        return Ok(Evaluated {
            result: TrialResult {
                trial,
                outcome: Outcome::Pruned {
                    step: 0,
                    metrics: Metrics::default(),
                },
                intermediate: Vec::new(),
            },
            wall_stopped: true,
        });
    }
    let mut reporter = DeadlineReporter {
        reports: Vec::new(),
        deadline,
        stopped: false,
        pruning: pruning.map(|p| (p, trial.id)),
    };
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
    let wall_stopped = reporter.stopped && matches!(outcome, Outcome::Pruned { .. });
    Ok(Evaluated {
        result: TrialResult {
            trial,
            outcome,
            intermediate: reporter.reports,
        },
        wall_stopped,
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The results of `results` that no other result dominates on `objectives`.
pub fn pareto_of(results: &[TrialResult], objectives: &[Objective]) -> Vec<TrialResult> {
    let points: Vec<Vec<f64>> = results
        .iter()
        .map(|r| {
            objectives
                .iter()
                .map(|o| o.score(&r.outcome).unwrap_or(f64::NEG_INFINITY))
                .collect()
        })
        .collect();
    pareto::pareto_front(&points)
        .into_iter()
        .filter_map(|i| results.get(i).cloned())
        .collect()
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
    /// Stops trials early from their intermediate reports; `None`: every trial runs to
    /// its end.
    pub pruner: Option<Arc<dyn Pruner>>,
}

/// Where trials are evaluated: inline for one worker (no threads, no channels: the
/// tabular benchmarks run millions of trials), on a thread pool otherwise.
trait Executor {
    fn submit(&mut self, trial: Trial);
    /// A finished trial if one is ready now (inline: evaluates the next one).
    fn try_next(&mut self) -> Result<Option<Evaluated>, SearchError>;
    /// Waits for a finished trial.
    fn next(&mut self) -> Result<Evaluated, SearchError>;
    /// `true` when [`Executor::try_next`] is about to run a long evaluation on this
    /// thread: the runner makes its asked events durable first, so that a reader of the
    /// journal sees the trial in flight.
    fn long_evaluation_next(&self) -> bool;
}

/// An evaluation at least this long is worth a flush before the next one: a flush costs
/// well under a millisecond, and a trial this slow is a trial someone may watch.
const LONG_EVALUATION: Duration = Duration::from_millis(50);

struct Inline<'a> {
    evaluator: &'a dyn Evaluator,
    queue: VecDeque<Trial>,
    deadline: Option<Instant>,
    pruning: Option<&'a Pruning>,
    /// Whether the last evaluation was long; `true` before the first (nothing is known).
    last_was_long: bool,
}

impl Executor for Inline<'_> {
    fn submit(&mut self, trial: Trial) {
        self.queue.push_back(trial);
    }
    fn try_next(&mut self) -> Result<Option<Evaluated>, SearchError> {
        let Some(trial) = self.queue.pop_front() else {
            return Ok(None);
        };
        let started = Instant::now();
        let evaluated = evaluate_until(self.evaluator, trial, self.deadline, self.pruning)?;
        self.last_was_long = started.elapsed() >= LONG_EVALUATION;
        Ok(Some(evaluated))
    }
    fn next(&mut self) -> Result<Evaluated, SearchError> {
        self.try_next()?
            .ok_or_else(|| SearchError::Fatal("runner waited with no trial in flight".into()))
    }
    fn long_evaluation_next(&self) -> bool {
        self.last_was_long && !self.queue.is_empty()
    }
}

struct Pool {
    to_workers: Option<mpsc::Sender<Trial>>,
    from_workers: mpsc::Receiver<Result<Evaluated, SearchError>>,
}

impl Executor for Pool {
    fn submit(&mut self, trial: Trial) {
        if let Some(tx) = &self.to_workers {
            // A send fails only when every worker is gone, which `next` then reports.
            let _ = tx.send(trial);
        }
    }
    fn try_next(&mut self) -> Result<Option<Evaluated>, SearchError> {
        match self.from_workers.try_recv() {
            Ok(r) => r.map(Some),
            Err(mpsc::TryRecvError::Empty) => Ok(None),
            Err(mpsc::TryRecvError::Disconnected) => {
                Err(SearchError::Fatal("all worker threads stopped".into()))
            }
        }
    }
    fn next(&mut self) -> Result<Evaluated, SearchError> {
        self.from_workers
            .recv()
            .map_err(|_| SearchError::Fatal("all worker threads stopped".into()))?
    }
    fn long_evaluation_next(&self) -> bool {
        // Never evaluates on this thread: the runner flushes before it waits in `next`.
        false
    }
}

/// When the wall budget is spent, if there is one (a budget too large for an `Instant`
/// has none).
pub(crate) fn deadline(budget: &Budget, started: Instant) -> Option<Instant> {
    let seconds = Duration::try_from_secs_f64(budget.wall_seconds?).ok()?;
    started.checked_add(seconds)
}

impl Search for BlackBoxSearch {
    fn space(&self) -> &Arc<dyn SearchSpace> {
        &self.space
    }

    fn as_black_box(&mut self) -> Option<&mut BlackBoxSearch> {
        Some(self)
    }

    fn run(
        &mut self,
        budget: &Budget,
        journal: &mut dyn Journal,
        observer: &mut dyn Observer,
        resume: Option<JournalState>,
    ) -> Result<SearchReport, SearchError> {
        budget.check()?;
        let started = Instant::now();
        let deadline = deadline(budget, started);
        let pruning = match (&self.pruner, self.objectives.first()) {
            (Some(p), Some(o)) => Some(Arc::new(Pruning::new(Arc::clone(p), o.clone()))),
            _ => None,
        };
        if let (Some(p), Some(state)) = (&pruning, &resume) {
            p.replay(&state.finished);
        }
        if self.workers <= 1 {
            let evaluator = Arc::clone(&self.evaluator);
            let mut inline = Inline {
                evaluator: &*evaluator,
                queue: VecDeque::new(),
                deadline,
                pruning: pruning.as_deref(),
                last_was_long: true,
            };
            let run = Run { started, deadline };
            return self.drive(budget, run, journal, observer, resume, &mut inline);
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
                let pruning = pruning.clone();
                scope.spawn(move || {
                    loop {
                        // The lock is held only to take the next trial.
                        let next = match work.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(trial) = next else { return };
                        let evaluated =
                            evaluate_until(&*evaluator, trial, deadline, pruning.as_deref());
                        if done.send(evaluated).is_err() {
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
            let run = Run { started, deadline };
            let report = self.drive(budget, run, journal, observer, resume, &mut pool);
            // Closing the work channel ends the workers; the scope joins them.
            pool.to_workers = None;
            report
        })
    }
}

/// When this run started and when its wall budget ends.
#[derive(Debug, Clone, Copy)]
struct Run {
    started: Instant,
    deadline: Option<Instant>,
}

/// The runner's counts while it drives a search.
#[derive(Default)]
struct Tally {
    progress: Progress,
    next_id: u64,
    /// The id of the next result to tell.
    next_tell: u64,
    in_flight: u64,
    multi: bool,
    /// Completed trials, kept for the Pareto front when there are several objectives.
    all_completed: Vec<TrialResult>,
    /// The first trial the wall budget stopped before it finished.
    stopped_at: Option<u64>,
    /// Trials left unfinished from `stopped_at` on.
    unfinished: u64,
}

impl Tally {
    fn record(
        &mut self,
        result: TrialResult,
        objectives: &[Objective],
        observer: &mut dyn Observer,
    ) {
        self.progress.record(&result, objectives);
        observer.on_result(&result, &self.progress);
        if self.multi && matches!(result.outcome, Outcome::Completed { .. }) {
            self.all_completed.push(result);
        }
    }
}

impl BlackBoxSearch {
    /// Trial `id` of `proposal`, with its seed derived from the experiment seed.
    pub fn trial_for(&self, id: u64, proposal: Proposal) -> Trial {
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
        run: Run,
        journal: &mut dyn Journal,
        observer: &mut dyn Observer,
        resume: Option<JournalState>,
        exec: &mut dyn Executor,
    ) -> Result<SearchReport, SearchError> {
        let mut tally = Tally {
            multi: self.objectives.len() > 1,
            ..Tally::default()
        };
        if let Some(state) = resume {
            self.resume(state, exec, &mut tally)?;
        }
        let resumed = tally.progress.finished;
        observer.on_start(budget, &tally.progress);

        let mut reorder: BTreeMap<u64, Evaluated> = BTreeMap::new();
        let mut exhausted = false;
        loop {
            if !exhausted {
                exhausted = self.refill(budget, run, journal, exec, &mut tally)?;
            }
            if tally.in_flight == 0 {
                break;
            }
            let evaluated = self.next_in_order(journal, exec, &mut reorder, tally.next_tell)?;
            tally.next_tell += 1;
            tally.in_flight -= 1;
            if evaluated.wall_stopped || tally.stopped_at.is_some() {
                // Results are told in id order: once one trial stays unfinished, every
                // later one does too, or a resume would find a gap in the finished ids.
                tally.stopped_at.get_or_insert(evaluated.result.trial.id);
                tally.unfinished += 1;
                continue;
            }
            let result = evaluated.result;
            journal.finished(&result)?;
            self.strategy.tell(&result);
            tally.record(result, &self.objectives, observer);
            if journal.wants_flush() {
                self.flush(journal)?;
            }
        }
        self.flush(journal)?;
        if let Some(first) = tally.stopped_at {
            observer.on_message(&format!(
                "wall budget spent: trial #{first} was stopped before it finished; {} \
                 trial(s) stay unfinished in the journal and run again when the search is \
                 resumed",
                tally.unfinished
            ));
        }
        Ok(self.report(tally, exhausted, resumed, run.started))
    }

    /// Restores the strategy and the finished trials, and resubmits the unfinished ones.
    fn resume(
        &mut self,
        mut state: JournalState,
        exec: &mut dyn Executor,
        tally: &mut Tally,
    ) -> Result<(), SearchError> {
        state.conform(self.space.as_ref());
        if let Some(checkpoint) = state.checkpoint.clone() {
            let strategy = &mut self.strategy;
            crate::space::typed_by(self.space.decisions(), || strategy.restore(checkpoint))
                .map_err(|e| SearchError::Resume(e.to_string()))?;
        }
        tally.next_id = state.next_id();
        let count = state.finished.len();
        for (expected, r) in state.finished.into_iter().enumerate() {
            if r.trial.id != expected as u64 {
                return Err(SearchError::Resume(format!(
                    "finished trials are not 0..{count}: trial {expected} is missing"
                )));
            }
            tally.record(r, &self.objectives, &mut crate::search::Quiet);
        }
        tally.next_tell = tally.progress.finished;
        for trial in state.pending {
            exec.submit(trial);
            tally.in_flight += 1;
        }
        Ok(())
    }

    /// Asks the strategy for trials while slots are free and the budget allows; `true`
    /// when the strategy has nothing more to propose and nothing is in flight.
    fn refill(
        &mut self,
        budget: &Budget,
        run: Run,
        journal: &mut dyn Journal,
        exec: &mut dyn Executor,
        tally: &mut Tally,
    ) -> Result<bool, SearchError> {
        let slots = self.workers.max(1) as u64;
        while tally.in_flight < slots {
            let room = self.room(budget, &tally.progress, tally.in_flight, run.deadline);
            if room == 0 {
                break;
            }
            let want = room.min(slots - tally.in_flight) as usize;
            let proposals = self.strategy.ask(want);
            if proposals.is_empty() {
                return Ok(tally.in_flight == 0);
            }
            for proposal in proposals.into_iter().take(want) {
                self.space
                    .validate(&proposal.genotype)
                    .map_err(|e| SearchError::InvalidProposal(e.to_string()))?;
                let trial = self.trial_for(tally.next_id, proposal);
                tally.next_id += 1;
                journal.asked(&trial)?;
                exec.submit(trial);
                tally.in_flight += 1;
            }
        }
        Ok(false)
    }

    /// The result of trial `id`, the next in id order, waiting for it if need be.
    fn next_in_order(
        &self,
        journal: &mut dyn Journal,
        exec: &mut dyn Executor,
        reorder: &mut BTreeMap<u64, Evaluated>,
        id: u64,
    ) -> Result<Evaluated, SearchError> {
        loop {
            if let Some(r) = reorder.remove(&id) {
                return Ok(r);
            }
            if exec.long_evaluation_next() {
                // The evaluation is the wait: the trial is durable as in flight first.
                self.flush(journal)?;
            }
            let r = match exec.try_next()? {
                Some(r) => r,
                None => {
                    // About to wait: make what we have durable first.
                    self.flush(journal)?;
                    exec.next()?
                }
            };
            reorder.insert(r.result.trial.id, r);
        }
    }

    /// Writes pending events with the strategy's checkpoint.
    fn flush(&self, journal: &mut dyn Journal) -> Result<(), SearchError> {
        let strategy = &self.strategy;
        journal.flush(&mut || strategy.checkpoint())?;
        Ok(())
    }

    fn report(
        &self,
        tally: Tally,
        exhausted: bool,
        resumed: u64,
        started: Instant,
    ) -> SearchReport {
        let pareto_front = if tally.multi {
            pareto_of(&tally.all_completed, &self.objectives)
        } else {
            Vec::new()
        };
        SearchReport {
            progress: tally.progress,
            stop: if exhausted {
                StopReason::Exhausted
            } else {
                StopReason::Budget
            },
            objectives: self.objectives.clone(),
            resumed,
            wall_seconds: started.elapsed().as_secs_f64(),
            pareto_front,
        }
    }

    /// How many more trials may be asked now.
    fn room(
        &self,
        budget: &Budget,
        progress: &Progress,
        in_flight: u64,
        deadline: Option<Instant>,
    ) -> u64 {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return 0;
        }
        if let Some(limit) = budget.simulated_seconds
            && progress.simulated_seconds >= limit
        {
            return 0;
        }
        match budget.trials {
            Some(limit) => limit.saturating_sub(progress.finished + in_flight),
            None => u64::MAX,
        }
    }
}
