//! A worker: one process of many that run one experiment through a [`TrialQueue`].
//!
//! It loops: take a trial whose lease ran out, else ask the strategy for a new one under
//! the ask lock, evaluate it while a heartbeat thread keeps its lease alive, record the
//! result. It stops when the budget is spent (or the strategy has nothing more to
//! propose) and no trial is left in flight, or when its own wall budget is spent.
//!
//! Unlike the one-process [runner](crate::runner), results reach the strategy in the order
//! the asks see them, not in trial-id order: with workers on many machines, which results
//! exist when a trial is asked depends on timing, so a search with several workers is not
//! reproducible trial by trial (a search with one worker is: it asks, evaluates and tells
//! exactly as the runner does with one worker). Every trial is still seeded from its id.

use crate::config::Budget;
use crate::evaluator::SIMULATED_SECONDS;
use crate::queue::{AskAnswer, AskRound, Heartbeat, TrialQueue};
use crate::registry::ConfigError;
use crate::runner::{BlackBoxSearch, deadline, evaluate_until};
use crate::search::{Observer, Progress, SearchError};
use crate::trial::{Trial, TrialResult};
use serde::Serialize;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Why a worker stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerStop {
    /// The budget is spent and every trial is finished.
    Budget,
    /// The strategy had nothing more to propose, and every trial is finished.
    Exhausted,
    /// This worker's wall budget is spent; the others go on.
    Wall,
}

/// What one worker did.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerReport {
    /// Trials this worker asked the strategy for.
    pub asked: u64,
    /// Trials it took over from a worker whose lease ran out.
    pub claimed: u64,
    /// Results it recorded.
    pub recorded: u64,
    /// Results it did not record, because another worker had recorded the trial's first.
    pub late: u64,
    /// Its results, counted.
    pub progress: Progress,
    pub stop: WorkerStop,
    pub wall_seconds: f64,
    /// Where the wall time went.
    pub seconds: WorkerSeconds,
}

/// A worker's wall time by what it did: the coordination cost is everything but
/// `evaluate`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerSeconds {
    /// Taking over trials whose lease ran out (or finding none).
    pub claim: f64,
    /// Ask rounds, waiting for the ask lock, recording this worker's results and the
    /// strategy's work included.
    pub ask: f64,
    /// The strategy's share of `ask`: restore, tell, ask and checkpoint.
    pub strategy: f64,
    /// Evaluating trials.
    pub evaluate: f64,
    /// Waiting while every trial was in flight elsewhere.
    pub idle: f64,
}

/// How long a worker waits before asking again when every trial is in flight elsewhere:
/// from the first value, doubling up to the second.
const IDLE_WAIT: (Duration, Duration) = (Duration::from_millis(5), Duration::from_millis(250));

/// Runs `search`'s strategy and evaluator as one worker of the experiment behind `queue`,
/// which must have been joined ([`TrialQueue::join`]).
///
/// # Errors
/// A config the workers cannot run (a pruner, whose decisions depend on every trial's
/// reports in one process); a storage failure; a checkpoint that does not restore; an
/// invalid proposal; a fatal evaluation (the trial's lease is given up first).
pub fn run_worker(
    search: &mut BlackBoxSearch,
    budget: &Budget,
    queue: &mut dyn TrialQueue,
    observer: &mut dyn Observer,
) -> Result<WorkerReport, SearchError> {
    budget.check()?;
    if search.pruner.is_some() {
        return Err(ConfigError(
            "field `pruner`: workers run without a pruner (a pruner compares each report \
             with every trial's in one process); use `nas search` in one process, or \
             drop the pruner"
                .into(),
        )
        .into());
    }
    let started = Instant::now();
    let heartbeat = HeartbeatThread::start(queue.heartbeat()?, queue.lease() / 3);
    let mut worker = Worker {
        search,
        budget,
        deadline: deadline(budget, started),
        report: WorkerReport {
            asked: 0,
            claimed: 0,
            recorded: 0,
            late: 0,
            progress: Progress::default(),
            stop: WorkerStop::Budget,
            wall_seconds: 0.0,
            seconds: WorkerSeconds::default(),
        },
        done: Vec::new(),
        asking: true,
    };
    let stop = worker.work(queue, observer);
    heartbeat.stop();
    let mut report = worker.report;
    report.stop = stop?;
    report.wall_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

struct Worker<'a> {
    search: &'a mut BlackBoxSearch,
    budget: &'a Budget,
    deadline: Option<Instant>,
    report: WorkerReport,
    /// Results evaluated and not yet recorded: the next ask round records them.
    done: Vec<TrialResult>,
    /// Whether ask rounds may ask for trials (not when recording the last results).
    asking: bool,
}

/// What one ask round decided.
enum Asked {
    Trials(Vec<Trial>),
    /// Nothing to ask now, but trials are in flight: wait.
    Wait,
    Done(WorkerStop),
}

impl Worker<'_> {
    fn work(
        &mut self,
        queue: &mut dyn TrialQueue,
        observer: &mut dyn Observer,
    ) -> Result<WorkerStop, SearchError> {
        let stop = self.work_until_stopped(queue, observer);
        // Whatever ended the work, the results evaluated are recorded (in a round that
        // asks nothing).
        if !self.done.is_empty() {
            self.asking = false;
            self.ask(queue, observer)?;
        }
        stop
    }

    fn work_until_stopped(
        &mut self,
        queue: &mut dyn TrialQueue,
        observer: &mut dyn Observer,
    ) -> Result<WorkerStop, SearchError> {
        let mut idle = IDLE_WAIT.0;
        // Leases run out only when a worker stops: look for such trials at the start,
        // when an ask saw one, and while waiting.
        let mut look_for_expired = true;
        loop {
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(WorkerStop::Wall);
            }
            if look_for_expired {
                let claiming = Instant::now();
                let claimed = queue.claim()?;
                self.report.seconds.claim += claiming.elapsed().as_secs_f64();
                if let Some(mut trial) = claimed {
                    trial.genotype.conform(self.search.space.decisions());
                    self.report.claimed += 1;
                    if !self.evaluate(queue, trial)? {
                        return Ok(WorkerStop::Wall);
                    }
                    idle = IDLE_WAIT.0;
                    continue;
                }
            }
            let (asked, expired) = self.ask(queue, observer)?;
            look_for_expired = expired;
            match asked {
                Asked::Trials(trials) => {
                    idle = IDLE_WAIT.0;
                    for trial in trials {
                        if !self.evaluate(queue, trial)? {
                            return Ok(WorkerStop::Wall);
                        }
                    }
                }
                Asked::Wait => {
                    self.report.seconds.idle += idle.as_secs_f64();
                    std::thread::sleep(idle);
                    idle = (idle * 2).min(IDLE_WAIT.1);
                    look_for_expired = true;
                }
                Asked::Done(stop) => return Ok(stop),
            }
        }
    }

    /// One ask round under the ask lock, recording this worker's results first; what it
    /// decided, and whether it saw trials whose lease ran out.
    fn ask(
        &mut self,
        queue: &mut dyn TrialQueue,
        observer: &mut dyn Observer,
    ) -> Result<(Asked, bool), SearchError> {
        let mut asked = Asked::Wait;
        let mut expired = false;
        let asking = Instant::now();
        let mut strategy = 0.0;
        let done = std::mem::take(&mut self.done);
        let recorded = queue.ask(&done, &mut |round| {
            let started = Instant::now();
            expired = round.expired > 0;
            let (answer, decided) = self.round(round)?;
            strategy += started.elapsed().as_secs_f64();
            asked = decided;
            Ok(answer)
        });
        let recorded = match recorded {
            Ok(r) => r,
            Err(e) => {
                self.done = done;
                return Err(e);
            }
        };
        self.report.seconds.ask += asking.elapsed().as_secs_f64();
        self.report.seconds.strategy += strategy;
        for result in done {
            let first = recorded.contains(&result.trial.id);
            self.record(first, result, observer);
        }
        if let Asked::Trials(trials) = &asked {
            self.report.asked += trials.len() as u64;
        }
        Ok((asked, expired))
    }

    fn record(&mut self, first: bool, result: TrialResult, observer: &mut dyn Observer) {
        if first {
            self.report.recorded += 1;
            self.report
                .progress
                .record(&result, &self.search.objectives);
            observer.on_result(&result, &self.report.progress);
        } else {
            self.report.late += 1;
        }
    }

    fn round(&mut self, round: AskRound) -> Result<(AskAnswer, Asked), SearchError> {
        let search = &mut *self.search;
        let decisions = search.space.decisions();
        if let Some(checkpoint) = round.checkpoint {
            let strategy = &mut search.strategy;
            crate::space::typed_by(decisions, || strategy.restore(checkpoint))
                .map_err(|e| SearchError::Resume(e.to_string()))?;
        }
        let mut told_seconds = round.told_seconds;
        let changed = !round.untold.is_empty();
        for mut result in round.untold {
            result.trial.genotype.conform(decisions);
            search.strategy.tell(&result);
            told_seconds += simulated_seconds(&result);
        }
        let mut room = match self.budget.trials {
            _ if !self.asking => 0,
            Some(limit) => limit.saturating_sub(round.asked),
            None => u64::MAX,
        };
        if self
            .budget
            .simulated_seconds
            .is_some_and(|limit| told_seconds >= limit)
        {
            room = 0;
        }
        let mut trials = Vec::new();
        let mut decided = Asked::Wait;
        if room > 0 {
            let proposals = search.strategy.ask(1);
            if proposals.is_empty() && round.in_flight == 0 {
                decided = Asked::Done(WorkerStop::Exhausted);
            }
            for (i, proposal) in proposals.into_iter().take(1).enumerate() {
                search
                    .space
                    .validate(&proposal.genotype)
                    .map_err(|e| SearchError::InvalidProposal(e.to_string()))?;
                trials.push(search.trial_for(round.asked + i as u64, proposal));
            }
        } else if round.in_flight == 0 && self.asking {
            decided = Asked::Done(WorkerStop::Budget);
        }
        // A round that told nothing and asked nothing leaves the stored state as it was.
        let checkpoint = if changed || !trials.is_empty() {
            Some(
                search
                    .strategy
                    .checkpoint()
                    .map_err(crate::journal::JournalError::from)?,
            )
        } else {
            None
        };
        if !trials.is_empty() {
            decided = Asked::Trials(trials.clone());
        }
        Ok((
            AskAnswer {
                checkpoint,
                trials,
                told_seconds,
            },
            decided,
        ))
    }

    /// Evaluates `trial`, keeping its result for the next ask to record; `false` when the
    /// wall budget stopped it (its lease is given up, for another worker to run it).
    fn evaluate(&mut self, queue: &mut dyn TrialQueue, trial: Trial) -> Result<bool, SearchError> {
        let id = trial.id;
        let evaluating = Instant::now();
        let evaluated = evaluate_until(&*self.search.evaluator, trial, self.deadline, None);
        self.report.seconds.evaluate += evaluating.elapsed().as_secs_f64();
        let evaluated = match evaluated {
            Ok(e) => e,
            Err(e) => {
                queue.release(id)?;
                return Err(e);
            }
        };
        if evaluated.wall_stopped {
            queue.release(id)?;
            return Ok(false);
        }
        self.done.push(evaluated.result);
        Ok(true)
    }
}

fn simulated_seconds(result: &TrialResult) -> f64 {
    result
        .outcome
        .metrics()
        .and_then(|m| m.get(SIMULATED_SECONDS))
        .unwrap_or(0.0)
}

/// Beats every `interval` on its own thread until stopped.
struct HeartbeatThread {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl HeartbeatThread {
    fn start(mut heartbeat: Box<dyn Heartbeat>, interval: Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // A failed beat is tried again at the next one; if the storage stays away
            // longer than a lease, another worker runs the trial, and the first result
            // recorded is the one kept.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                let _ = heartbeat.beat();
            }
        });
        HeartbeatThread { stop, thread }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
