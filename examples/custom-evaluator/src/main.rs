//! `nas` with one more evaluator: naming the crate links its registration.

use custom_evaluator as _;

fn main() -> std::process::ExitCode {
    nas_cli::main_with_args(std::env::args_os())
}
