//! The `nas` command line, as a library so that a third party can build its own `nas`
//! binary with its plugins linked in (see `examples/custom-strategy`): a plugin crate
//! registers itself, and `nas_cli::main_with_args` finds it through the registry.
//!
//! Every built-in plugin is linked through `nas-builtins`, named once here: a crate that
//! is linked but never named loses its registrations.

mod commands;
mod edit;
mod out;
mod progress;

use nas_builtins as _;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "nas",
    version,
    about = "Neural architecture search: every family, side by side."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every registered space, strategy and evaluator with its default config.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run a search (or continue one: the same experiment picks up where it stopped).
    Search(Box<commands::search::SearchArgs>),
    /// Work on an experiment that many processes share through a storage they all reach
    /// (`postgresql://...`): start any number, on any machines.
    Worker(Box<commands::worker::WorkerArgs>),
    /// Evaluate one architecture (look a cell up in a benchmark, say).
    Eval(commands::eval::EvalArgs),
    /// Write the trade-off report of experiments: one self-contained HTML page.
    Report(commands::report::ReportArgs),
    /// Export an experiment's best architecture: its string, JSON, Graphviz DOT, and the
    /// configs that evaluate it again (`nas eval`).
    Export(commands::export::ExportArgs),
    /// Summarize an experiment: counts and best trials.
    Show {
        /// The experiment's name (in --dir), the path of its journal file, or its storage
        /// URL (`sqlite:runs/x.sqlite`).
        experiment: String,
        /// Folder of the experiment journals.
        #[arg(long, default_value = "runs")]
        dir: PathBuf,
        /// How many of the best trials to list.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command line with these arguments (the first is the program name).
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::List { json } => commands::list::run(json),
        Command::Search(args) => commands::search::run(*args),
        Command::Worker(args) => commands::worker::run(*args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Show {
            experiment,
            dir,
            top,
            json,
        } => commands::show::run(&experiment, &dir, top, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`nas show | head -1`): it has what it
        // wanted, so end quietly, as `ls | head` does. A search's results are journaled.
        Err(e) if out::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the chain of causes joined, never a backtrace.
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
