//! Models that travel: a lab model written as safetensors in PyTorch's layout, and PyTorch
//! weights (safetensors or a `.pt` state_dict) read back into a run folder.
//!
//! The obvious PyTorch rebuild of a lab model is a `torch.nn.Sequential` of Linear, then the
//! activation, then Dropout when the model has dropout, per hidden layer, and a last Linear:
//! keys `0.weight`, `0.bias`, `2.weight`, ... (or `0.`, `3.`, `6.`, ... with dropout), Linear
//! weights `[out, in]`. Burn's own store does the work: `SafetensorsStore` / `PytorchStore`,
//! `BurnToPyTorchAdapter` / `PyTorchToBurnAdapter` (which transpose Linear weights), and key
//! remapping between Burn's `hidden.N.` / `output.` and the Sequential's indices.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::DType;
use burn_store::{
    BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter,
    PytorchStore, SafetensorsStore,
};
use lab10_models::{Mlp, MlpConfig, PixelScale};
use serde::{Deserialize, Serialize};

use lab10_experiment::{
    Clock, Compute, DataOptions, Experiment, Provenance, RunEnd, load_test, save_model_atomically,
};
use lab10_runs::{Error, MODEL_FILE, Report, Result, RunDir, dataset_root};

/// The safetensors metadata key that holds [`Architecture`] as JSON.
pub const METADATA_KEY: &str = "lab10";

/// What a PyTorch user needs to rebuild the model around the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Always `torch.nn.Sequential`.
    pub layout: String,
    pub inputs: usize,
    pub hidden: Vec<usize>,
    pub classes: usize,
    /// `relu`, `sigmoid` or `tanh` after every hidden Linear.
    pub activation: String,
    /// Dropout probability after every hidden activation (a `nn.Dropout` layer when > 0).
    pub dropout: f64,
    /// Index in the Sequential of each Linear, first hidden layer first.
    pub linear_indices: Vec<usize>,
    /// How pixels (0..255) become inputs: `unit` divides by 255, `raw` feeds them as they are.
    pub pixels: PixelScale,
    /// The dataset the model was trained on, and its class names by output index.
    pub dataset: String,
    pub classes_names: Vec<String>,
    pub experiment: String,
    /// The run the weights come from (its folder), when exported from a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

impl Architecture {
    pub fn of(experiment: &Experiment, run: Option<String>) -> Self {
        let m = &experiment.model;
        Self {
            layout: "torch.nn.Sequential".into(),
            inputs: m.inputs,
            hidden: m.hidden.clone(),
            classes: m.classes,
            activation: m.activation.name().to_ascii_lowercase(),
            dropout: m.dropout,
            linear_indices: linear_indices(m),
            pixels: experiment.training.pixels,
            dataset: experiment.dataset.clone(),
            classes_names: lab10_data::class_names(&experiment.dataset)
                .iter()
                .map(|c| c.to_string())
                .collect(),
            experiment: experiment.name.clone(),
            run,
        }
    }
}

/// The Sequential index of each Linear: Linear, activation (and Dropout) per hidden layer.
pub fn linear_indices(config: &MlpConfig) -> Vec<usize> {
    let step = if config.dropout > 0.0 { 3 } else { 2 };
    (0..=config.hidden.len()).map(|j| j * step).collect()
}

/// Renames between Burn's `hidden.N.` / `output.` and the Sequential's indices `indices`:
/// Burn's names to PyTorch's when `to_torch`, back otherwise.
fn remapper(config: &MlpConfig, indices: &[usize], to_torch: bool) -> KeyRemapper {
    let pairs = indices.iter().enumerate().map(|(j, k)| {
        let burn = if j < config.hidden.len() {
            format!("hidden.{j}.")
        } else {
            "output.".into()
        };
        let (from, to) = if to_torch {
            (burn, format!("{k}."))
        } else {
            (format!("{k}."), burn)
        };
        (format!("^{}", from.replace('.', "\\.")), to)
    });
    KeyRemapper::from_pattern_iter(pairs).expect("valid patterns")
}

/// Writes `model` (of `experiment`) to `out` as safetensors in PyTorch's layout, with the
/// architecture as metadata. Refuses to replace an existing file unless `force`.
pub fn export(
    model: &Mlp,
    experiment: &Experiment,
    run: Option<String>,
    out: &Path,
    force: bool,
) -> Result<Architecture> {
    crate::refuse_existing(out, force)?;
    let architecture = Architecture::of(experiment, run);
    let json = serde_json::to_string(&architecture).expect("architecture serialises");
    let mut store = SafetensorsStore::from_file(out)
        .with_to_adapter(BurnToPyTorchAdapter)
        .overwrite(force)
        .metadata(METADATA_KEY, json)
        .remap(remapper(
            &experiment.model,
            &architecture.linear_indices,
            true,
        ));
    model
        .save_into(&mut store)
        .map_err(|e| Error::write(out, std::io::Error::other(e.to_string())))?;
    Ok(architecture)
}

/// One tensor of a file being imported: its shape and element type.
#[derive(Debug, Clone)]
struct Found {
    shape: Vec<usize>,
    dtype: DType,
}

/// Reads PyTorch weights of `experiment`'s architecture from `path` (`.safetensors`, or a
/// `.pt`/`.pth` state_dict) into a new model on `device`. Every tensor is checked first: names
/// (a Sequential's `N.weight`/`N.bias`, any index gaps), count, shapes and dtype; any problem
/// is one error naming the tensor and the shapes.
pub fn import(path: &Path, experiment: &Experiment, device: &Device) -> Result<Mlp> {
    let bad = |message: String| Error::Checkpoint {
        path: path.to_path_buf(),
        message,
    };
    if !path.is_file() {
        return Err(bad("no such file".into()));
    }
    let torch = path.extension().is_some_and(|x| x == "pt" || x == "pth");
    let kind = if torch {
        "PyTorch state_dict"
    } else {
        "safetensors"
    };
    let found = if torch {
        tensors_of(&mut PytorchStore::from_file(path).map_indices_contiguous(false))
    } else {
        check_architecture(path, experiment)?;
        tensors_of(&mut SafetensorsStore::from_file(path))
    }
    .map_err(|e| bad(format!("not a readable {kind} file ({e})")))?;
    let indices = check_tensors(&found, &experiment.model).map_err(bad)?;

    let mut model = experiment.model.init(device);
    let remap = remapper(&experiment.model, &indices, false);
    let result = if torch {
        let store = PytorchStore::from_file(path).map_indices_contiguous(false);
        model
            .load_from(&mut store.remap(remap))
            .map_err(|e| e.to_string())
    } else {
        let store = SafetensorsStore::from_file(path).with_from_adapter(PyTorchToBurnAdapter);
        model
            .load_from(&mut store.remap(remap))
            .map_err(|e| e.to_string())
    }
    .map_err(|e| bad(format!("cannot load the weights: {e}")))?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        return Err(bad(format!("cannot load the weights: {result}")));
    }
    Ok(model)
}

fn tensors_of<S: ModuleStore>(
    store: &mut S,
) -> std::result::Result<BTreeMap<String, Found>, String> {
    let all = store.get_all_tensors().map_err(|e| e.to_string())?;
    Ok(all
        .iter()
        .map(|(name, t)| {
            (
                name.clone(),
                Found {
                    shape: t.shape.to_vec(),
                    dtype: t.dtype,
                },
            )
        })
        .collect())
}

/// The Sequential index of each Linear in `found`, after checking every tensor against
/// `config`; or what is wrong, naming the tensor.
fn check_tensors(
    found: &BTreeMap<String, Found>,
    config: &MlpConfig,
) -> std::result::Result<Vec<usize>, String> {
    let widths = config.widths();
    let shapes = config.widths_text();
    let mut layers: BTreeMap<usize, (Option<&Found>, Option<&Found>)> = BTreeMap::new();
    for (name, t) in found {
        let parsed = name
            .split_once('.')
            .and_then(|(i, kind)| Some((i.parse::<usize>().ok()?, kind)));
        match parsed {
            Some((i, "weight")) => layers.entry(i).or_default().0 = Some(t),
            Some((i, "bias")) => layers.entry(i).or_default().1 = Some(t),
            _ => {
                return Err(format!(
                    "unexpected tensor '{name}' {:?}: a {shapes} model as torch.nn.Sequential has \
                     only N.weight and N.bias of its Linear layers",
                    t.shape
                ));
            }
        }
    }
    let expected = widths.len() - 1;
    if layers.len() != expected {
        return Err(format!(
            "the file has {} Linear layers (Sequential indices {:?}), a {shapes} model has \
             {expected}: it is another architecture; import it with the experiment it was \
             trained as (--experiment NAME)",
            layers.len(),
            layers.keys().collect::<Vec<_>>()
        ));
    }
    for (j, (&k, (weight, bias))) in layers.iter().enumerate() {
        let (fan_in, fan_out) = (widths[j], widths[j + 1]);
        for (what, tensor, shape) in [
            ("weight", weight, vec![fan_out, fan_in]),
            ("bias", bias, vec![fan_out]),
        ] {
            let name = format!("{k}.{what}");
            let Some(t) = tensor else {
                return Err(format!(
                    "tensor '{name}' is missing (Linear layer {} of {shapes} needs {name} {shape:?})",
                    j + 1
                ));
            };
            if t.shape != shape {
                return Err(format!(
                    "tensor '{name}' has shape {:?}, a {shapes} model needs {shape:?} there \
                     (PyTorch's Linear weight is [out, in]); import it with the experiment it \
                     was trained as (--experiment NAME)",
                    t.shape
                ));
            }
            if t.dtype != DType::F32 {
                return Err(format!(
                    "tensor '{name}' is {:?}; lab10 models are float32: convert it first \
                     (in PyTorch: model.float())",
                    t.dtype
                ));
            }
        }
    }
    Ok(layers.keys().copied().collect())
}

/// A file exported by lab10 carries its architecture: it must be the experiment's.
fn check_architecture(path: &Path, experiment: &Experiment) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    let Ok((_, metadata)) = safetensors::SafeTensors::read_metadata(&bytes) else {
        return Ok(()); // the store's own reading says what is wrong
    };
    let Some(json) = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get(METADATA_KEY))
    else {
        return Ok(()); // written by PyTorch: the tensors are checked instead
    };
    let Ok(theirs) = serde_json::from_str::<Architecture>(json) else {
        return Ok(());
    };
    let mine = Architecture::of(experiment, None);
    for (what, a, b) in [
        ("activation", &theirs.activation, &mine.activation),
        (
            "pixel scaling",
            &format!("{:?}", theirs.pixels),
            &format!("{:?}", mine.pixels),
        ),
    ] {
        if a != b {
            return Err(Error::Checkpoint {
                path: path.to_path_buf(),
                message: format!(
                    "the file's {what} is {a} (exported from experiment '{}'), experiment '{}' \
                     uses {b}; import it with --experiment {}",
                    theirs.experiment, experiment.name, theirs.experiment
                ),
            });
        }
    }
    Ok(())
}

/// Where an imported run's weights came from, for its report.
pub fn describe_source(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::read(path, e))?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path));
    Ok(format!(
        "imported from {} (SHA-256 {})",
        absolute.display(),
        lab10_data::idx::sha256_hex(&bytes)
    ))
}

/// `lab10 import`: the weights in `path` as a run of `experiment` on `backend`, under
/// `artifacts`, like any other run: `model.bpk`, `experiment.toml` (with its data record), and a
/// `report.json` whose test numbers come from lab10's own evaluation, with where the weights
/// came from. The run becomes its experiment's `latest` once finished.
pub fn import_run(
    path: &Path,
    experiment: &Experiment,
    backend: &Compute,
    data: &DataOptions,
    artifacts: &Path,
    provenance: &Provenance,
) -> Result<(RunDir, Report)> {
    let clock = Clock::start();
    let compute = backend.open()?;
    // Everything is checked before anything is written.
    let model = import(path, experiment, &compute.device)?;
    let source = describe_source(path)?;
    let (record, test) = load_test(&data.request_for(experiment)?, &experiment.training)?;
    let mut experiment = experiment.clone();
    experiment.dataset = record.name.clone();
    experiment.data = Some(record.clone());

    let root = dataset_root(artifacts, &experiment.dataset);
    let toml = experiment.to_toml();
    let (run, _lock) = RunDir::start(&root, &experiment.name, &toml, "import")?;
    let model_path = run.file(MODEL_FILE);
    save_model_atomically(&model, &run, MODEL_FILE)?;
    let end = RunEnd {
        run: &run,
        experiment: &experiment,
        record: &record,
        test: &test,
        backend,
        compute: &compute,
        provenance,
        clock: &clock,
    };
    let report = end.finish_imported(&model_path, source)?;
    run.mark_latest()?;
    Ok((run, report))
}
