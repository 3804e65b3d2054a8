//! The `skein` command: parse the command line, then hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn,sqlx=warn"))
        .init();
    let cli = skein::cli::Cli::parse();
    let env = skein::cli::process_env();
    match skein::cli::run(cli, &env, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", skein::cli::error_message(&e));
            ExitCode::FAILURE
        }
    }
}
