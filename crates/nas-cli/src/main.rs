//! The `nas` binary.

fn main() -> std::process::ExitCode {
    // Training kernels split their work with this thread instead of handing it over.
    nas_nn::work_on_this_thread();
    nas_cli::main_with_args(std::env::args_os())
}
