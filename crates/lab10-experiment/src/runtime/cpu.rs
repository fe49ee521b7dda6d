//! How lab10 uses the CPU's threads and floating-point unit while it trains.
//!
//! Two settings, both measured on `deep` with flex on a 2-core machine:
//!
//! - Subnormals. Adam's second-moment estimates and late-training gradients decay into
//!   subnormal floats, which x86 cores handle in microcode, tens of times slower than normal
//!   numbers: epoch time doubled between epoch 1 and epoch 3 without flushing them. TensorFlow
//!   flushes subnormals to zero by default for the same reason; lab10 does too, on the main
//!   thread and on every thread of the rayon pool that the CPU backends compute on.
//! - Where the training step runs. flex's matmuls fork onto rayon's pool. Called from a thread
//!   outside the pool, every fork wakes the sleeping workers and parks the caller until they
//!   finish: about 775 context switches per `deep` step, with the process using 0.98 of its 2
//!   cores. Run on one of the pool's own workers, the caller takes part in the fork instead:
//!   about 30 switches per step, 1.2 cores busy, and the step 25 % shorter
//!   (`cargo run --release --example step_profile -- deep flex 200`).

/// Stack size of the pool's threads, which run the training step: 8 MiB, as a main thread has
/// (rayon's own default is 2 MiB).
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

/// Runs `work` on a worker thread of the global rayon pool, with subnormals flushed on every
/// thread of the pool and on the caller's, so that the backends' parallel kernels called from
/// it run in place instead of handing off to sleeping threads. The caller waits for the result.
/// Called from a pool worker, it simply runs `work`.
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
