//! Checkpoints that are complete or absent. burn-train's learner saves the model, optimiser
//! and scheduler records of every finished epoch through three checkpointers; these write each
//! file atomically (temporary file, then rename), so a full disk or a kill leaves no torn file,
//! and [`crate::store::run_dir::RunDir::last_checkpoint`] only offers an epoch whose three files are
//! all there.

use std::path::PathBuf;

use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};
use lab10_data::atomic::write_atomically;

/// Burn's file layout (`<dir>/<name>-<epoch>.bpk`), written atomically.
pub struct AtomicFileCheckpointer {
    dir: PathBuf,
    name: &'static str,
}

impl AtomicFileCheckpointer {
    pub fn new(dir: PathBuf, name: &'static str) -> Self {
        Self { dir, name }
    }

    fn path(&self, epoch: usize) -> PathBuf {
        self.dir.join(format!("{}-{epoch}.bpk", self.name))
    }
}

impl<R: Checkpoint> Checkpointer<R> for AtomicFileCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let bytes = record
            .checkpoint_into_bytes()
            .map_err(CheckpointerError::Record)?;
        std::fs::create_dir_all(&self.dir).map_err(CheckpointerError::IOError)?;
        let path = self.path(epoch);
        write_atomically(&path, &bytes).map_err(|e| {
            CheckpointerError::IOError(std::io::Error::new(
                e.kind(),
                format!("cannot write {}: {e}", path.display()),
            ))
        })
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        match std::fs::remove_file(self.path(epoch)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CheckpointerError::IOError(e))
            }
            _ => Ok(()),
        }
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        R::load(self.path(epoch))
    }
}
