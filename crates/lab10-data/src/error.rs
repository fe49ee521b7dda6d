use std::path::PathBuf;

use crate::idx::IdxError;

/// Everything that can go wrong while getting MNIST into memory. Each variant names the file
/// (or the places searched) and says how to fix it, because these are user mistakes, not bugs.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: {source}. Replace it with an intact copy of the MNIST file.")]
    Format {
        path: PathBuf,
        #[source]
        source: IdxError,
    },

    #[error(
        "{path}: SHA-256 of the decompressed bytes is {actual}, expected {expected} for {name}. \
         The file is corrupt or not the MNIST {name}; replace it with an intact copy \
         (or pass --no-verify to use another IDX dataset of the same format knowingly)."
    )]
    Checksum {
        path: PathBuf,
        name: &'static str,
        expected: &'static str,
        actual: String,
    },

    #[error("{path}: {what}. Replace it with an intact copy of the MNIST file.")]
    Content { path: PathBuf, what: String },

    #[error(
        "{images} holds {n_images} images but {labels} holds {n_labels} labels; \
         the two files of one split must come from the same dataset: replace them with a \
         matching pair"
    )]
    CountMismatch {
        images: PathBuf,
        labels: PathBuf,
        n_images: usize,
        n_labels: usize,
    },

    #[error(
        "MNIST file {name} is missing from {dir} (looked for {name} and {name}.gz); \
         put it there, or point --data-dir at a folder holding all four files"
    )]
    MissingFile { dir: PathBuf, name: &'static str },

    #[error(
        "MNIST was not found and could not be downloaded.\n\
         Looked in:\n{searched}\n\
         Download failed: {download}\n\
         Fix: put the four MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, \
         t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; gzip or not) in one of those \
         folders, or point --data-dir (or LAB10_DATA_DIR) at a folder holding them."
    )]
    NotFound { searched: String, download: String },
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
