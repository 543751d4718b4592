//! The progress bar of `nas search`.

use indicatif::{ProgressBar, ProgressStyle};
use nas_core::TrialResult;
use nas_core::config::Budget;
use nas_core::search::{Observer, Progress};

/// Shows finished trials against the budget and the best score so far. Hidden when stderr
/// is not a terminal.
pub struct ProgressObserver {
    bar: Option<ProgressBar>,
}

impl ProgressObserver {
    pub fn new(show: bool) -> Self {
        ProgressObserver {
            bar: show.then(ProgressBar::hidden),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for ProgressObserver {
    fn on_start(&mut self, budget: &Budget, progress: &Progress) {
        if self.bar.is_none() {
            return;
        }
        let bar = match budget.trials {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} trials  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_position(progress.finished);
        self.bar = Some(bar);
    }

    fn on_result(&mut self, _result: &TrialResult, progress: &Progress) {
        if let Some(bar) = &self.bar {
            bar.set_position(progress.finished);
            if let Some(best) = progress.best.as_ref().and_then(|b| b.outcome.metrics())
                && let Some((name, value)) = best.iter().next()
            {
                bar.set_message(format!("best {name} {value:.2}"));
            }
        }
    }

    /// One-shot methods' phases (supernet training, deriving) go to stderr as lines,
    /// progress bar or not: they are the search cost the user waits for.
    fn on_message(&mut self, message: &str) {
        match &self.bar {
            Some(bar) => bar.println(message),
            None => eprintln!("{message}"),
        }
    }
}
