use std::path::PathBuf;

use crate::idx::IdxError;

/// Everything that can go wrong while getting a dataset into memory. Each variant names the file
/// (or the places searched) and says how to fix it, because these are user mistakes, not bugs.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: {source}. Replace it with an intact copy of the file.")]
    Format {
        path: PathBuf,
        #[source]
        source: IdxError,
    },

    #[error(
        "{path}: SHA-256 of the decompressed bytes is {actual}, expected {expected} for \
         {dataset}'s {name}. The file is corrupt or not {dataset}'s; replace it with an intact \
         copy (or pass --no-verify to use other IDX files of the same format knowingly: the run \
         is then recorded as dataset 'custom' with these digests)."
    )]
    Checksum {
        path: PathBuf,
        dataset: String,
        name: &'static str,
        expected: String,
        actual: String,
    },

    #[error("{path}: {what}. Replace it with an intact copy of the file.")]
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
        "file {name} is missing from {dir} (looked for {name} and {name}.gz); \
         put it there, or point --data-dir at a folder holding all four files"
    )]
    MissingFile { dir: PathBuf, name: &'static str },

    #[error(
        "dataset {dataset} was not found and could not be downloaded.\n\
         Looked in:\n{searched}\n\
         Download failed: {download}\n\
         Fix: {how_to_get}; or put the four files (train-images-idx3-ubyte.gz, \
         train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; gzip \
         or not) in one of those folders, or point --data-dir (or LAB10_DATA_DIR) at a folder \
         holding them."
    )]
    NotFound {
        dataset: &'static str,
        searched: String,
        download: String,
        how_to_get: &'static str,
    },

    #[error("unknown dataset '{name}'; known datasets: {known} (see `lab10 datasets`)")]
    UnknownDataset { name: String, known: String },

    #[error(
        "{dir} holds {found}, not {wanted}: pass --dataset {found} to use it, or point --data-dir \
         at a folder with {wanted}'s files"
    )]
    OtherDataset {
        dir: PathBuf,
        found: &'static str,
        wanted: String,
    },

    #[error(
        "this run was trained on custom data read from {dir}, and file {name} is no longer there; \
         point --data-dir at a folder holding the same four files (their digests are in the \
         run's experiment.toml, [data])"
    )]
    CustomMissing { dir: PathBuf, name: &'static str },
}
impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
