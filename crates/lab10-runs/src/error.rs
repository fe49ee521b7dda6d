use std::path::PathBuf;

/// User-facing failures. Each message names the file or value at fault and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Data(#[from] lab10_data::DataError),

    #[error("unknown experiment '{name}'. Known experiments: {known}. (Looked in {dir}.)")]
    UnknownExperiment {
        name: String,
        known: String,
        dir: PathBuf,
    },

    #[error("{path}: {message}")]
    ExperimentFile { path: PathBuf, message: String },

    #[error("{0}")]
    Invalid(String),

    #[error(
        "backend '{name}' is not compiled into this binary; rebuild with `--features {feature}` \
         (compiled in: {compiled})"
    )]
    BackendNotCompiled {
        name: String,
        feature: &'static str,
        compiled: String,
    },

    #[error("unknown backend '{0}'; known backends: flex, ndarray, wgpu")]
    UnknownBackend(String),

    #[error("backend '{name}' is compiled in but cannot start: {message}")]
    BackendUnavailable { name: &'static str, message: String },

    #[error(
        "this binary was built without Burn's remote backend; rebuild it with `--features \
         remote` (e.g. `cargo run --release --features remote -- ...`)"
    )]
    RemoteNotCompiled,

    #[error(
        "cannot reach the worker at {url}: {message}\n  (a worker is started there with \
         `lab10 worker --listen HOST:PORT`; check that this machine can reach that port)"
    )]
    WorkerUnreachable { url: String, message: String },

    #[error("the worker at {url} refused this client: {message}")]
    WorkerRefused { url: String, message: String },

    #[error("{path}: {message}")]
    Checkpoint { path: PathBuf, message: String },

    /// A file in a run folder that its SHA256SUMS does not list: not part of the run.
    #[error(
        "{path}: not part of the run: SHA256SUMS does not list it (the run was stopped between \
         writing it and recording it); `lab10 verify` says what the run holds"
    )]
    Unrecorded { path: PathBuf },

    /// A file that does not match its folder's manifest (`SHA256SUMS`), or that it lacks.
    #[error(
        "{path} is damaged: {message}. Nothing was computed from it. `lab10 verify` checks the \
         whole run; resume the run from a checkpoint that verifies (`lab10 train NAME --resume \
         RUN`), or train it again"
    )]
    Damaged { path: PathBuf, message: String },

    #[error(
        "cannot write {path}: {source}. Check that the artifacts directory is writable (--artifacts)."
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The MLflow tracking server could not be reached, or refused a call.
    #[error("MLflow: {0}")]
    Tracking(String),

    #[error("training failed: {0}")]
    Training(String),

    #[error(
        "{run} is being written by another lab10 process{}; wait for it to finish, or stop it \
         (Ctrl-C) and resume",
        pid.map_or(String::new(), |p| format!(" (PID {p})"))
    )]
    Locked { run: PathBuf, pid: Option<u32> },

    /// Stopped on request (Ctrl-C, SIGTERM) after saving what could be saved.
    #[error("{message}")]
    Stopped {
        reason: crate::stop::StopReason,
        message: String,
    },
}

impl Error {
    /// The same error with `tail` added to its message (what a study says after it ended:
    /// how many members are done, where its summary is). Keeps the kind, hence the exit status.
    pub fn with_tail(mut self, tail: &str) -> Self {
        match &mut self {
            Error::Stopped { message, .. }
            | Error::WorkerUnreachable { message, .. }
            | Error::WorkerRefused { message, .. } => {
                message.push('\n');
                message.push_str(tail);
                self
            }
            other => Error::Invalid(format!("{other}\n{tail}")),
        }
    }

    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Write {
            path: path.into(),
            source,
        }
    }

    pub fn damaged(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Damaged {
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Read {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
