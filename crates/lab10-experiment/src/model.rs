//! The model file of a run (burnpack): written atomically, read back into an experiment's
//! architecture with a clear message when it does not fit.

use burn::prelude::*;

use crate::config::experiment::Experiment;
use lab10_runs::{Error, Result, RunDir, read_checked};

/// Saves `model` as the run's file `name` (burnpack), written atomically (a reader sees the
/// whole model or none) and recorded in the run's manifest.
pub fn save_model_atomically(model: &lab10_models::Mlp, run: &RunDir, name: &str) -> Result<()> {
    let path = run.file(name);
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::write(&path, std::io::Error::other(e.to_string())))?;
    run.write(name, &bytes)
}

/// Builds `experiment`'s model on `device` and loads weights from `path`, checked against the
/// manifest of the run it belongs to (a damaged file is refused by name). A file of another
/// architecture is refused with the shapes of both.
pub fn load_model(
    path: &std::path::Path,
    experiment: &Experiment,
    device: &Device,
) -> Result<lab10_models::Mlp> {
    if !path.is_file() {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            message: "no such model file".into(),
        });
    }
    let bytes = read_checked(path)?;
    let loaded = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
        .and_then(|record| experiment.model.init(device).try_load_record(record));
    loaded.map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        message: describe_load_error(&e, experiment),
    })
}

/// Burn's load error, said for a user: an unreadable file, or one whose tensors do not fit the
/// experiment's model. (The variant decides; only the tensor list inside is Burn's text.)
fn describe_load_error(e: &burn::store::RecordError, experiment: &Experiment) -> String {
    use burn::store::RecordError;
    let (RecordError::Io(raw) | RecordError::Validation(raw)) = e;
    let detail = raw
        .replace("Apply errors: ", "")
        .replace("Shape { dims: ", "")
        .replace("] }", "]")
        .replace("[\"", "")
        .replace("\"]", "");
    if let RecordError::Io(_) = e {
        return format!("not a readable Burn model file (burnpack .bpk): {detail}");
    }
    // Burn lists every mismatching tensor; the first few say enough.
    let problems: Vec<&str> = detail.split("\", \"").collect();
    let mut shown = problems[..problems.len().min(3)].join("; ");
    if problems.len() > 3 {
        shown.push_str(&format!("; and {} more", problems.len() - 3));
    }
    format!(
        "does not fit experiment '{}' ({}): {shown}. \
         Evaluate it with the experiment it was trained with (--experiment NAME).",
        experiment.name,
        experiment.model.widths_text(),
    )
}
