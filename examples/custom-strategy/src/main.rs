//! `nas` with one more strategy: naming the crate links its registration.

use custom_strategy as _;

fn main() -> std::process::ExitCode {
    nas_cli::main_with_args(std::env::args_os())
}
