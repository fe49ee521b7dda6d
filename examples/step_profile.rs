//! Where a training step's time goes, phase by phase, for one experiment's model on one
//! backend: batching (items -> tensors), forward + loss, backward, optimiser step, and the
//! metrics' read-back. The CPU backends run eagerly, so each phase's wall time is its own. A GPU
//! queues work (and fusion defers it further), so there each phase ends with a device sync, which
//! makes the phases' sum an upper bound on a step; the unsynced step is printed beside it.
//!
//!     cargo run --release --example step_profile -- deep flex 300
//!     lab10-step-profile dropout vulkan 300    # the same, from a copied binary
//!
//! Prints milliseconds per step (median over steps, after 20 warm-up steps) and the share of
//! each phase; an epoch is 600 such steps.

use std::time::Instant;

use burn::optim::GradientsParams;
use lab10_experiment::BackendKind;

mod common;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // As the CLI does: the step runs on a rayon worker (see lab10-runs' runtime/cpu.rs).
    lab10_experiment::on_compute_pool(run)
}

fn run() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("deep", String::as_str);
    let backend: BackendKind = args.get(2).map_or("flex", String::as_str).parse().unwrap();
    let steps: usize = args.get(3).map_or(300, |s| s.parse().unwrap());
    let mut s = common::Steps::new(name, backend);

    let phases = [
        "batching",
        "forward + loss",
        "backward",
        "optimiser",
        "metrics read-back",
    ];
    let gpu = matches!(backend, BackendKind::Wgpu | BackendKind::Vulkan);
    let device = s.device.clone();
    let sync = |on: bool| {
        if on {
            device.sync().expect("device sync");
        }
    };
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); phases.len()];
    let mut unsynced = Vec::new();
    let warmup = 20;
    for step in 0..2 * (warmup + steps) {
        // The second half: whole steps as the learner runs them, no sync between phases.
        let phased = gpu && step < warmup + steps;
        let timed = if gpu {
            step % (warmup + steps) >= warmup
        } else {
            step >= warmup
        };
        if !gpu && step >= warmup + steps {
            break;
        }
        let t0 = Instant::now();
        let batch = s.batch(step);
        sync(phased);
        let t1 = Instant::now();
        let out = s.model.forward_classification(batch);
        sync(phased);
        let t2 = Instant::now();
        let grads = GradientsParams::from_grads(out.loss.backward(), &s.model);
        sync(phased);
        let t3 = Instant::now();
        s.model = s.optim.step(s.lr, s.model, grads);
        sync(phased);
        let t4 = Instant::now();
        // What burn-train's Loss and Accuracy metrics read back every step.
        let _loss: f64 = out.loss.into_scalar();
        let _correct: i64 = out
            .output
            .argmax(1)
            .squeeze_dim::<1>(1)
            .equal(out.targets)
            .int()
            .sum()
            .into_scalar();
        let t5 = Instant::now();
        if gpu && !phased && timed {
            unsynced.push((t5 - t0).as_secs_f64() * 1e3);
            continue;
        }
        if timed {
            for (k, (a, b)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)]
                .into_iter()
                .enumerate()
            {
                times[k].push((b - a).as_secs_f64() * 1e3);
            }
        }
    }
    let medians: Vec<f64> = times.iter_mut().map(|t| median(t)).collect();
    let total: f64 = medians.iter().sum();
    println!(
        "{name} on {backend}, batch {}, {steps} steps (median ms per step; x600 = one epoch)",
        s.batch_size
    );
    for (phase, ms) in phases.iter().zip(&medians) {
        println!("  {phase:<18} {ms:8.3} ms  {:5.1} %", 100.0 * ms / total);
    }
    println!(
        "  {:<18} {total:8.3} ms  -> {:.2} s per 600-step epoch",
        "total",
        total * 0.6
    );
    if gpu {
        let step = median(&mut unsynced);
        println!(
            "  {:<18} {step:8.3} ms  -> {:.2} s per 600-step epoch (no sync between phases)",
            "whole step",
            step * 0.6
        );
    }
}
