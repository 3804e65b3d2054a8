//! The `skein` command: parse the command line, then hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Everything this process creates (store segments, the SQLite
    // metastore, secrets, logs under the storage root) is private to the
    // service's user: files 0600, directories 0700.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe { libc::umask(0o077) };
    let cli = skein::cli::Cli::parse();
    // The node service logs what it does; one-shot commands only problems.
    let default_filter = match cli.command {
        skein::cli::Command::Run(_) => "info,sqlx=warn,sea_orm_migration=warn,actix_server=warn",
        _ => "warn,sqlx=warn",
    };
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_filter));
    // `skein run --log-file`: records go to the rotated file.
    if let skein::cli::Command::Run(args) = &cli.command {
        match args.open_log_file() {
            Ok(Some(file)) => {
                logger.target(env_logger::Target::Pipe(Box::new(file)));
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("error: {}", skein::cli::error_message(&e));
                return ExitCode::FAILURE;
            }
        }
    }
    logger.init();
    let env = skein::cli::process_env();
    match skein::cli::run(cli, &env, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", skein::cli::error_message(&e));
            ExitCode::FAILURE
        }
    }
}
