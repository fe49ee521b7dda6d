//! Where a run's records go as it trains: one small trait that the metrics files
//! ([`MetricsFiles`]), the progress events, TensorBoard and MLflow each
//! implement. lab10-train registers them in one place (`run::sinks`) and hands every sink the
//! same records in the same order.

use crate::error::{Error, Result};
use crate::store::metrics::{self, EpochRecord};
use crate::store::report::Report;
use crate::store::run_dir::RunDir;

pub trait RunSink: Send {
    /// An epoch ended: `records` are the run's epochs so far, the new one last (a resumed
    /// run's begin with those of its checkpoint).
    fn epoch(&mut self, run: &RunDir, records: &[EpochRecord]) -> Result<()>;

    /// The run ended with `report`, written to its folder.
    fn end(&mut self, _run: &RunDir, _records: &[EpochRecord], _report: &Report) -> Result<()> {
        Ok(())
    }

    /// The run ended with `error` before its report.
    fn failed(&mut self, _error: &Error) {}
}

/// The metrics files (`metrics.csv`, `metrics.json`, the checkpoint's snapshot) as a sink.
pub struct MetricsFiles;

impl RunSink for MetricsFiles {
    fn epoch(&mut self, run: &RunDir, records: &[EpochRecord]) -> Result<()> {
        metrics::write(run, records)
    }
}
