//! Checkpoints that are complete or absent, and checked when loaded: burn-train's model,
//! optimiser and scheduler records, each written atomically and recorded in `SHA256SUMS`, so a
//! kill leaves no torn file and a resume loads only bytes that match the manifest.

use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};

use lab10_runs::{CHECKPOINT_DIR, RunDir, read_checked};

/// Burn's file layout (`<run>/checkpoint/<name>-<epoch>.bpk`), written atomically and recorded
/// in the run's manifest.
pub struct AtomicFileCheckpointer {
    run: RunDir,
    name: &'static str,
}

impl AtomicFileCheckpointer {
    pub fn new(run: RunDir, name: &'static str) -> Self {
        Self { run, name }
    }

    /// `checkpoint/<name>-<epoch>.bpk`, relative to the run folder.
    fn file(&self, epoch: usize) -> String {
        format!("{CHECKPOINT_DIR}/{}-{epoch}.bpk", self.name)
    }
}

fn io_error(e: lab10_runs::Error) -> CheckpointerError {
    CheckpointerError::IOError(std::io::Error::other(e.to_string()))
}

impl<R: Checkpoint> Checkpointer<R> for AtomicFileCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let bytes = record
            .checkpoint_into_bytes()
            .map_err(CheckpointerError::Record)?;
        std::fs::create_dir_all(self.run.checkpoint_dir()).map_err(CheckpointerError::IOError)?;
        self.run.write(&self.file(epoch), &bytes).map_err(io_error)
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        self.run.remove(&self.file(epoch)).map_err(io_error)
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        let bytes = read_checked(&self.run.file(&self.file(epoch))).map_err(io_error)?;
        R::checkpoint_from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .map_err(CheckpointerError::Record)
    }
}
