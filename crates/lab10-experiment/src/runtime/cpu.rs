//! How lab10 uses the CPU while it trains (measured on `deep` with flex on a 2-core machine):
//!
//! - Subnormals are flushed to zero, as TensorFlow does, on the main thread and every thread of
//!   the rayon pool: Adam's late-training values decay into subnormals, which x86 handles in
//!   microcode; without flushing, epoch time doubled between epochs 1 and 3.
//! - The training step runs on a pool worker, which takes part in flex's rayon forks instead
//!   of parking while sleeping workers wake: about 30 context switches per step instead of
//!   775, and the step 25 % shorter
//!   (`cargo run --release --example step_profile -- deep flex 200`).

/// The pool threads' stack, as they run the training step: 8 MiB like a main thread (rayon: 2).
const WORKER_STACK_BYTES: usize = 8 << 20;

/// Sets flush-to-zero and denormals-are-zero on this thread (x86-64; a no-op elsewhere).
fn flush_denormals_on_this_thread() {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)]
    // SAFETY: only the FTZ (bit 15) and DAZ (bit 6) flags of this thread's MXCSR change; both
    // are supported by every x86-64 CPU and affect nothing but subnormal arithmetic.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}

/// Applies [`flush_denormals_on_this_thread`] to this thread and to the global rayon pool.
/// Must run before anything else uses rayon; later calls (and a pool already built) are fine.
fn flush_denormals() {
    flush_denormals_on_this_thread();
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK_BYTES)
        .start_handler(|_| flush_denormals_on_this_thread())
        .build_global();
}

/// Runs `work` on a worker of the global rayon pool (subnormals flushed) and waits for it.
pub fn on_compute_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    flush_denormals();
    // `rayon::scope` runs its body on a worker of the current (here: global) pool.
    rayon::scope(|_| work())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_pool_worker_with_subnormals_flushed() {
        let (worker, flushed) = on_compute_pool(|| {
            let tiny = std::hint::black_box(f32::MIN_POSITIVE);
            (
                rayon::current_thread_index().is_some(),
                std::hint::black_box(tiny / 4.0) == 0.0,
            )
        });
        assert!(worker, "work ran outside the rayon pool");
        #[cfg(target_arch = "x86_64")]
        assert!(flushed, "a subnormal result survived on the worker");
    }
}
