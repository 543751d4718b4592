//! The `nas` binary.

fn main() -> std::process::ExitCode {
    nas_cli::main_with_args(std::env::args_os())
}
