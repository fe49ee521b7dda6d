//! `lab10`: the lab-10 MNIST experiments by name. A thin layer: `cli.rs` parses the flags, a
//! function per command in `commands/` calls the libraries and prints what came back. Errors
//! print one line and exit non-zero.

mod cli;
mod commands;
mod jobs;
mod member;
mod printer;
mod signals;
mod slurm;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use lab10_experiment::Stop;

use cli::{Cli, Command, MlflowCommand};

// glibc's malloc hands the CPU backends' per-op buffers back to the kernel every step; mimalloc
// keeps them (`deep`'s step with and without it: bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = Stop::default();
    // Training stops gracefully on the first Ctrl-C; everything else exits at once.
    let graceful = matches!(cli.command, Command::Train(_) | Command::Ensemble(_));
    let signals = match cli.command {
        // A worker stops on Ctrl-C through the handlers of Burn's server.
        Command::Worker(_) => Ok(()),
        _ => signals::install(stop.clone(), graceful),
    };
    match signals.and_then(|()| lab10_experiment::on_compute_pool(|| run(cli, stop))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<lab10_runs::Error>() {
            Some(lab10_runs::Error::Stopped { reason, message }) => {
                eprintln!("{message}");
                ExitCode::from(reason.exit_code())
            }
            _ => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn run(cli: Cli, stop: Stop) -> Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::List => commands::info::list(g),
        Command::Summary { experiment } => commands::info::summary(g, &experiment),
        Command::Train(args) => commands::train::train(g, args, &stop),
        Command::Ensemble(args) => commands::train::ensemble(g, args, &stop),
        Command::Eval(args) => commands::saved::eval(g, args),
        Command::Export(args) => commands::interop::export(g, args),
        Command::Import { file, experiment } => commands::interop::import(g, &file, &experiment),
        Command::Predict(args) => commands::saved::predict(g, args),
        Command::Report(args) => commands::report::report(g, args),
        Command::Serve(args) => commands::serve::serve(g, args),
        Command::Worker(args) => commands::worker::worker(g, args),
        Command::Backends => commands::info::backends(),
        Command::Datasets => commands::info::datasets(g),
        Command::Verify(args) => commands::verify::verify(g, args),
        Command::Mlflow(MlflowCommand::Sync(args)) => commands::mlflow::mlflow_sync(g, args),
        Command::Mlflow(MlflowCommand::Register(args)) => commands::mlflow::register(g, args),
    }
}
