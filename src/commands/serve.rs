//! `lab10 serve`: the draw-a-digit page and its JSON API (crates/lab10-serve) for trained runs.

use std::path::PathBuf;

use anyhow::{Context, Result};
use lab10_runs::{RunDir, dataset_root};
use lab10_train::experiments_by_topic;

use crate::cli::{Global, ServeArgs};

pub fn serve(g: &Global, args: ServeArgs) -> Result<()> {
    let (listen, timeout) = (args.listen, args.timeout);
    if !(timeout.is_finite() && timeout > 0.0) {
        anyhow::bail!("--timeout must be a positive number of seconds, not {timeout}");
    }
    let runs = if args.targets.is_empty() {
        newest_completed_runs(g)?
    } else {
        g.run_targets().resolve_all(&args.targets)?
    };
    crate::printer::note_unverified(&runs);
    let device = g.backend()?.device()?;
    let served = lab10_serve::Served::load(&runs, &g.data()?, device)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}; pass another --listen"))?;
        let names: Vec<&str> = served
            .models
            .iter()
            .map(|m| m.info.experiment.as_str())
            .collect();
        println!(
            "serving {} model(s) ({}) trained on {} at http://{}/ (API: /api/models, /api/predict, \
             /api/sample?index=N, /healthz); Ctrl-C stops",
            names.len(),
            names.join(", "),
            served.dataset,
            listener.local_addr()?
        );
        if !listen.ip().is_loopback() {
            println!(
                "warning: listening on {listen}, beyond this machine; lab10 serve has no \
                 authentication"
            );
        }
        let options = lab10_serve::Options {
            request_timeout: std::time::Duration::from_secs_f64(timeout),
        };
        lab10_serve::serve(
            listener,
            std::sync::Arc::new(served),
            options,
            std::future::pending(),
        )
        .await
        .context("serving")
    })
}

/// With no targets: the newest completed run of every experiment, in `lab10 list`'s order.
fn newest_completed_runs(g: &Global) -> Result<Vec<PathBuf>> {
    let dataset = g.dataset.as_deref().unwrap_or(lab10_data::MNIST.name);
    let root = dataset_root(&g.artifacts, dataset);
    let mut runs: Vec<PathBuf> = Vec::new();
    for (_, names) in experiments_by_topic(&g.catalog()) {
        for name in names {
            runs.extend(RunDir::latest_completed(&root.join(name))?.map(|run| run.path));
        }
    }
    if runs.is_empty() {
        anyhow::bail!(
            "no completed {dataset} runs under {}; train some first, e.g. \
             `lab10 train softmax` and `lab10 train dropout`, or name run folders",
            root.display()
        );
    }
    Ok(runs)
}
