//! What the two slowest parts of a lab10 CPU training step would cost as single fused loops,
//! measured side by side with Burn's own: the Adam update of `deep`'s 1.2 M parameters, and the
//! dropout masks of a `dropout` step (one Bernoulli draw per hidden unit per image).
//!
//!     cargo run --release --example fused_whatif -- 200
//!
//! lab10 trains with Burn's Adam and Burn's dropout, as the project requires; this example does
//! not change that. It measures how far those two are from the memory-bound cost of the same
//! work, which is the evidence behind the benchmark section of the README (issue 7). The fused
//! loops are written for this measurement only and are not used for training.

use std::time::Instant;

use burn::optim::GradientsParams;
use burn::tensor::{Distribution, Tensor};
use lab10_experiment::BackendKind;
use rand::{Rng, SeedableRng, rngs::StdRng};
use rayon::prelude::*;

mod common;

/// Elements per rayon task in the fused loops: large enough to amortise the fork, small
/// enough to split 1.2 M parameters over every core.
const CHUNK: usize = 16 * 1024;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// One Adam step (Kingma & Ba, with the bias corrections folded into the step size, as Burn
/// does) over flat buffers: one read of each of p, g, m, v and one write of p, m, v.
/// Betas and epsilon are Adam's defaults, which `deep` uses.
fn fused_adam(t: i32, lr: f32, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    let (beta1, beta2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    let correction2 = (1.0 - beta2.powi(t)).sqrt();
    let step = lr * correction2 / (1.0 - beta1.powi(t));
    let eps = eps * correction2;
    p.par_chunks_mut(CHUNK)
        .zip(g.par_chunks(CHUNK))
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .for_each(|(((p, g), m), v)| {
            for i in 0..p.len() {
                m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
                p[i] -= step * m[i] / (v[i].sqrt() + eps);
            }
        });
}

/// A keep-mask drawn a block of random words at a time (ChaCha12, as Burn's CPU backends use).
fn fused_mask(rng: &mut StdRng, words: &mut [u32], mask: &mut [f32], keep: f64) {
    let threshold = (keep * (u32::MAX as f64 + 1.0)) as u64;
    rng.fill(words);
    for (m, &w) in mask.iter_mut().zip(words.iter()) {
        *m = if (w as u64) < threshold { 1.0 } else { 0.0 };
    }
}

fn main() {
    let steps: usize = std::env::args()
        .nth(1)
        .map_or(200, |s| s.parse().expect("steps: a number"));
    lab10_experiment::on_compute_pool(|| run(steps));
}

fn run(steps: usize) {
    let mut s = common::Steps::new("deep", BackendKind::Flex);
    let batch = s.batch_size;
    let warmup = 10;

    // Burn's Adam on flex: forward and backward untimed, the optimiser step timed.
    let mut burn_adam = Vec::new();
    for step in 0..warmup + steps {
        let out = s.model.forward_classification(s.batch(step));
        let grads = GradientsParams::from_grads(out.loss.backward(), &s.model);
        let t = Instant::now();
        s.model = s.optim.step(s.lr, s.model, grads);
        if step >= warmup {
            burn_adam.push(ms_since(t));
        }
    }

    // The same update as one pass over flat buffers of the same size.
    let n = s.experiment.model.num_params();
    let (mut p, g) = (vec![0.01f32; n], vec![1e-3f32; n]);
    let (mut m, mut v) = (vec![0f32; n], vec![0f32; n]);
    let mut fused = Vec::new();
    for step in 0..warmup + steps {
        let t = Instant::now();
        fused_adam(step as i32 + 1, s.lr as f32, &mut p, &g, &mut m, &mut v);
        if step >= warmup {
            fused.push(ms_since(t));
        }
    }

    // Dropout's masks for one `dropout` step: Burn's Bernoulli sampler vs a block-wise draw.
    let dropout = common::experiment("dropout").model;
    let keep = 1.0 - dropout.dropout;
    let widest = dropout.hidden.iter().copied().max().unwrap_or(0);
    let mut burn_mask = Vec::new();
    let mut block_mask = Vec::new();
    let mut rng = StdRng::seed_from_u64(777);
    let (mut words, mut mask) = (vec![0u32; batch * widest], vec![0f32; batch * widest]);
    for step in 0..warmup + steps {
        let t = Instant::now();
        for &width in &dropout.hidden {
            let shape = [batch, width];
            let mask = Tensor::<2>::random(shape, Distribution::Bernoulli(keep), &s.device);
            std::hint::black_box(mask);
        }
        let burn_ms = ms_since(t);
        let t = Instant::now();
        for &width in &dropout.hidden {
            let n = batch * width;
            fused_mask(&mut rng, &mut words[..n], &mut mask[..n], keep);
            std::hint::black_box(&mask);
        }
        if step >= warmup {
            burn_mask.push(burn_ms);
            block_mask.push(ms_since(t));
        }
    }

    let rows = [
        (
            format!("Adam step, deep ({n} parameters)"),
            median(burn_adam),
            median(fused),
        ),
        (
            format!("dropout masks, {batch} x {:?}", dropout.hidden),
            median(burn_mask),
            median(block_mask),
        ),
    ];
    println!(
        "median ms per training step over {steps} steps, flex, {} threads",
        rayon::current_num_threads()
    );
    println!(
        "{:<44} {:>10} {:>10} {:>7} {:>14}",
        "", "Burn", "fused", "ratio", "s/epoch saved"
    );
    for (what, burn, fused) in rows {
        println!(
            "{what:<44} {burn:10.3} {fused:10.3} {:7.1} {:14.2}",
            burn / fused,
            (burn - fused) * 0.6
        );
    }
}
