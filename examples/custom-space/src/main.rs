//! `nas` with one more space: naming the crate links its registrations.

use custom_space as _;

fn main() -> std::process::ExitCode {
    nas_cli::main_with_args(std::env::args_os())
}
