//! `lab10 worker`: this machine's device, served to other lab10 processes (Burn's remote).

use anyhow::Result;
use lab10_experiment::{Access, Worker, new_token, read_token_file};

use crate::cli::{Global, WorkerArgs};

pub fn worker(g: &Global, args: WorkerArgs) -> Result<()> {
    let token_file = &args.token_file;
    let (access, token_note) = match (token_file, args.no_auth) {
        (_, true) => (Access::Open, "no token (--no-auth)".to_string()),
        (Some(file), false) => (
            Access::Token(read_token_file(file)?),
            format!("the token in {}", file.display()),
        ),
        (None, false) => {
            let token = new_token();
            let note = format!(
                "token {token} (shown once; save it in a file for the clients' --token-file)"
            );
            (Access::Token(token), note)
        }
    };
    let worker = Worker::bind(&args.listen, g.backend()?, access)?;
    let client_flags = match (token_file, worker.requires_token()) {
        (Some(file), true) => format!(" --token-file {}", file.display()),
        (None, true) => " --token-file FILE".to_string(),
        (_, false) => String::new(),
    };
    // Listening on every interface (0.0.0.0): clients dial this machine's name or address.
    let dial = match worker.address.ip().is_unspecified() {
        true => format!("ws://THIS-MACHINE:{}", worker.address.port()),
        false => worker.url.to_string(),
    };
    println!(
        "lab10 worker: serving {} ({}) on {} with {token_note}\nconnect with: lab10 train \
         EXPERIMENT --remote {dial}{client_flags}   (Ctrl-C stops the worker)",
        worker.backend, worker.device.description, worker.url,
    );
    worker.serve()?;
    println!("lab10 worker: stopped");
    Ok(())
}
