//! A lab model as an ONNX graph (`lab10 export RUN --out model.onnx`), for ONNX Runtime and
//! every tool that reads ONNX. Burn imports ONNX but writes none; burn-onnx's exporter needs
//! Burn's `capture` feature, another build of all of Burn's crates. lab10's models are small
//! and fixed, so the graph is written here with prost (the handful of `onnx.proto` messages
//! below, no `protoc`):
//!
//! `pixels [batch, 784]` (raw 0-255) -> `Mul` by the run's input scale (when it is not 1) ->
//! per hidden layer `Gemm` (weights `[in, out]`, bias) and the activation (`Relu`, `Sigmoid`
//! or `Tanh`; dropout is the identity at inference) -> the output `Gemm`: `logits [batch, 10]`
//! -> `Softmax` (axis 1): `probabilities [batch, 10]`. The batch is dynamic.
//!
//! The same file, with an `MLmodel` beside it, is the run's MLflow Model ([`write_mlflow_model`]).

use std::path::Path;

use burn::prelude::*;
use lab10_data::atomic::write_atomically;
use lab10_models::{ActivationKind, Mlp};
use prost::Message;

use lab10_experiment::{BackendKind, Experiment, SavedModel};
use lab10_runs::{Error, MODEL_FILE, Result, RunDir, RunStatus};
use lab10_track::mlflow::{MLMODEL, MODEL_ONNX};
use serde_json::json;

/// The ONNX IR version and the default domain's opset the graph is written for: both read by
/// ONNX Runtime 1.14 and later (1.31 and 1.32 tested) and by onnx's checker.
pub const IR_VERSION: i64 = 8;
pub const OPSET: i64 = 17;

/// The graph's input and outputs.
pub const INPUT: &str = "pixels";
pub const LOGITS: &str = "logits";
pub const PROBABILITIES: &str = "probabilities";

/// What the file's `metadata_props` say besides the model itself.
#[derive(Debug, Clone, Default)]
pub struct OnnxFacts {
    /// lab10's version and the commit the binary was built from.
    pub producer_version: String,
    pub commit: Option<String>,
    /// The run's test accuracy (%), when exported from a run.
    pub test_accuracy: Option<f64>,
    /// The SHA-256 of the weights file the model was read from.
    pub weights_sha256: String,
}

/// Writes `model` (of `experiment`) to `out` as ONNX, atomically. Refuses to replace an
/// existing file unless `force`. Returns the number of graph nodes.
pub fn export_onnx(
    model: &Mlp,
    experiment: &Experiment,
    facts: &OnnxFacts,
    out: &Path,
    force: bool,
) -> Result<usize> {
    crate::refuse_existing(out, force)?;
    let (bytes, nodes) = onnx_bytes(model, experiment, facts)?;
    write_atomically(out, &bytes).map_err(|e| Error::write(out, e))?;
    Ok(nodes)
}

/// The run's model as an MLflow Model in its folder (`model/`, recorded in SHA256SUMS), which
/// lab10-track sends with the run's files: `model.onnx` as `lab10 export` writes it and
/// `MLmodel` (JSON, which is YAML) with the `onnx` and `python_function` flavours and the
/// signature: `pixels` float32 [-1, 784] raw 0-255 in, `logits` and `probabilities` out. What
/// `mlflow models predict|serve -m runs:/<id>/model` load. Only a completed run's recorded
/// model; `fresh`: at the run's end (its lock held), written anew, or one of an earlier end
/// removed if this one is not complete; else (sync, register, a reused member) only if the
/// run has none, under the run's lock.
pub fn write_mlflow_model(run: &RunDir, fresh: bool) -> Result<()> {
    let listed = run.manifest()?.unwrap_or_default().entries;
    let report = run
        .report()
        .ok()
        .filter(|r| r.status == RunStatus::Completed);
    let (Some(report), true) = (report, listed.contains_key(MODEL_FILE)) else {
        let stale = [MODEL_ONNX, MLMODEL].into_iter().filter(|_| fresh);
        return stale.map(|file| run.remove(file)).collect();
    };
    if !fresh && listed.contains_key(MLMODEL) {
        return Ok(());
    }
    let _lock = (!fresh).then(|| run.lock()).transpose()?;
    let saved = SavedModel::open(&run.path, None)?;
    let facts = OnnxFacts {
        producer_version: env!("CARGO_PKG_VERSION").into(),
        commit: report.git_commit,
        test_accuracy: Some(report.test_accuracy),
        // The hash SHA256SUMS records, which loading the model checks.
        weights_sha256: listed[MODEL_FILE].clone(),
    };
    let backend = BackendKind::default_compiled();
    let device = backend.ok_or_else(|| Error::Invalid("no backend compiled in".into()))?;
    let (e, model) = (&saved.experiment.model, saved.load(&device.device()?)?);
    let (onnx, _) = onnx_bytes(&model, &saved.experiment, &facts)?;
    let spec = |name, width| {
        json!({"type": "tensor", "name": name,
               "tensor-spec": {"dtype": "float32", "shape": [-1, width]}})
    };
    let outputs = json!([spec(LOGITS, e.classes), spec(PROBABILITIES, e.classes)]);
    let mlmodel = json!({
        "artifact_path": "model",
        "flavors": {
            "onnx": {"data": "model.onnx", "providers": ["CPUExecutionProvider"], "code": null},
            "python_function": {"loader_module": "mlflow.onnx", "data": "model.onnx"},
        },
        "signature": {"inputs": json!([spec(INPUT, e.inputs)]).to_string(),
                      "outputs": outputs.to_string(), "params": null},
        "metadata": {"lab10_run_id": run.id(), "lab10_experiment": saved.experiment.name},
    });
    let dir = run.file(MODEL_ONNX).with_file_name("");
    std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
    let mlmodel = serde_json::to_vec_pretty(&mlmodel).expect("JSON values serialise");
    run.write_all(&[(MODEL_ONNX, &onnx), (MLMODEL, &mlmodel)])
}

/// The ONNX file's bytes and its number of nodes.
fn onnx_bytes(model: &Mlp, experiment: &Experiment, facts: &OnnxFacts) -> Result<(Vec<u8>, usize)> {
    let graph = graph(model, experiment)?;
    let nodes = graph.node.len();
    let bytes = proto::ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![proto::OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "lab10".into(),
        producer_version: facts.producer_version.clone(),
        doc_string: format!(
            "lab10 experiment '{}' ({}): raw pixels 0-255 in, logits and softmax out",
            experiment.name,
            experiment.model.widths_text()
        ),
        graph: Some(graph),
        metadata_props: metadata(experiment, facts),
    }
    .encode_to_vec();
    Ok((bytes, nodes))
}

/// The lab model as nodes and initializers.
fn graph(model: &Mlp, experiment: &Experiment) -> Result<proto::GraphProto> {
    let mut g = proto::GraphProto {
        name: experiment.name.clone(),
        input: vec![value_info(INPUT, experiment.model.inputs)],
        output: vec![
            value_info(LOGITS, experiment.model.classes),
            value_info(PROBABILITIES, experiment.model.classes),
        ],
        ..Default::default()
    };
    let mut x = INPUT.to_string();
    let scale = experiment.training.pixels.factor();
    if scale != 1.0 {
        g.initializer.push(tensor("input_scale", &[], vec![scale]));
        g.node
            .push(node("Mul", &[&x, "input_scale"], "scaled", vec![]));
        x = "scaled".into();
    }
    let activation = match experiment.model.activation {
        ActivationKind::Relu => "Relu",
        ActivationKind::Sigmoid => "Sigmoid",
        ActivationKind::Tanh => "Tanh",
    };
    let layers = model.hidden.iter().chain(std::iter::once(&model.output));
    let last = model.hidden.len();
    for (j, layer) in layers.enumerate() {
        let [fan_in, fan_out] = layer.weight.val().dims();
        let weight = format!("layer{j}.weight");
        g.initializer.push(tensor(
            &weight,
            &[fan_in, fan_out],
            values(layer.weight.val())?,
        ));
        let mut inputs = vec![x.as_str(), weight.as_str()];
        let bias = format!("layer{j}.bias");
        if let Some(b) = &layer.bias {
            g.initializer
                .push(tensor(&bias, &[fan_out], values(b.val())?));
            inputs.push(&bias);
        }
        let out = if j == last {
            LOGITS.to_string()
        } else {
            format!("linear{j}")
        };
        g.node.push(node("Gemm", &inputs, &out, vec![]));
        x = out;
        if j < last {
            let out = format!("hidden{j}");
            g.node.push(node(activation, &[&x], &out, vec![]));
            x = out;
        }
    }
    let axis = proto::AttributeProto {
        name: "axis".into(),
        r#type: proto::ATTRIBUTE_INT,
        i: 1,
    };
    g.node
        .push(node("Softmax", &[LOGITS], PROBABILITIES, vec![axis]));
    Ok(g)
}

fn values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| Error::Invalid(format!("a weight tensor is not f32: {e:?}")))
}

fn metadata(experiment: &Experiment, facts: &OnnxFacts) -> Vec<proto::StringStringEntryProto> {
    let classes = lab10_data::class_names(&experiment.dataset).join(",");
    let pairs = [
        ("lab10_version", Some(facts.producer_version.clone())),
        ("lab10_commit", facts.commit.clone()),
        ("experiment", Some(experiment.name.clone())),
        ("architecture", Some(experiment.model.widths_text())),
        ("dataset", Some(experiment.dataset.clone())),
        ("seed", Some(experiment.training.seed.to_string())),
        ("test_accuracy", facts.test_accuracy.map(|a| a.to_string())),
        ("weights_sha256", Some(facts.weights_sha256.clone())),
        ("classes", Some(classes)),
        (
            "input",
            Some("pixels: float32 [batch, 784], raw values 0-255".into()),
        ),
    ];
    pairs
        .into_iter()
        .filter_map(|(key, value)| {
            Some(proto::StringStringEntryProto {
                key: key.into(),
                value: value?,
            })
        })
        .collect()
}

fn node(
    op: &str,
    inputs: &[&str],
    output: &str,
    attribute: Vec<proto::AttributeProto>,
) -> proto::NodeProto {
    proto::NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: output.into(),
        op_type: op.into(),
        attribute,
    }
}

fn tensor(name: &str, dims: &[usize], data: Vec<f32>) -> proto::TensorProto {
    proto::TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: proto::FLOAT,
        name: name.into(),
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// A float tensor `[batch, width]`, the batch dynamic.
fn value_info(name: &str, width: usize) -> proto::ValueInfoProto {
    let dim = |value, param: Option<&str>| proto::Dimension {
        dim_value: value,
        dim_param: param.map(String::from),
    };
    proto::ValueInfoProto {
        name: name.into(),
        r#type: Some(proto::TypeProto {
            tensor_type: Some(proto::TensorTypeProto {
                elem_type: proto::FLOAT,
                shape: Some(proto::TensorShapeProto {
                    dim: vec![dim(None, Some("batch")), dim(Some(width as i64), None)],
                }),
            }),
        }),
    }
}

/// The messages of onnx.proto that lab10 writes, with their field numbers; fields it never
/// sets are left out (a reader sees their defaults). A `oneof` of which lab10 sets one member
/// is written as that member's optional field: the same bytes.
mod proto {
    pub const FLOAT: i32 = 1;
    pub const ATTRIBUTE_INT: i32 = 2;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ModelProto {
        #[prost(int64, tag = "1")]
        pub ir_version: i64,
        #[prost(string, tag = "2")]
        pub producer_name: String,
        #[prost(string, tag = "3")]
        pub producer_version: String,
        #[prost(string, tag = "6")]
        pub doc_string: String,
        #[prost(message, optional, tag = "7")]
        pub graph: Option<GraphProto>,
        #[prost(message, repeated, tag = "8")]
        pub opset_import: Vec<OperatorSetIdProto>,
        #[prost(message, repeated, tag = "14")]
        pub metadata_props: Vec<StringStringEntryProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct OperatorSetIdProto {
        #[prost(string, tag = "1")]
        pub domain: String,
        #[prost(int64, tag = "2")]
        pub version: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct StringStringEntryProto {
        #[prost(string, tag = "1")]
        pub key: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GraphProto {
        #[prost(message, repeated, tag = "1")]
        pub node: Vec<NodeProto>,
        #[prost(string, tag = "2")]
        pub name: String,
        #[prost(message, repeated, tag = "5")]
        pub initializer: Vec<TensorProto>,
        #[prost(message, repeated, tag = "11")]
        pub input: Vec<ValueInfoProto>,
        #[prost(message, repeated, tag = "12")]
        pub output: Vec<ValueInfoProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NodeProto {
        #[prost(string, repeated, tag = "1")]
        pub input: Vec<String>,
        #[prost(string, repeated, tag = "2")]
        pub output: Vec<String>,
        #[prost(string, tag = "3")]
        pub name: String,
        #[prost(string, tag = "4")]
        pub op_type: String,
        #[prost(message, repeated, tag = "5")]
        pub attribute: Vec<AttributeProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AttributeProto {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(int64, tag = "3")]
        pub i: i64,
        #[prost(int32, tag = "20")]
        pub r#type: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorProto {
        #[prost(int64, repeated, tag = "1")]
        pub dims: Vec<i64>,
        #[prost(int32, tag = "2")]
        pub data_type: i32,
        #[prost(string, tag = "8")]
        pub name: String,
        /// Little-endian values.
        #[prost(bytes = "vec", tag = "9")]
        pub raw_data: Vec<u8>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueInfoProto {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub r#type: Option<TypeProto>,
    }

    /// `oneof value { Tensor tensor_type = 1; ... }`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeProto {
        #[prost(message, optional, tag = "1")]
        pub tensor_type: Option<TensorTypeProto>,
    }

    /// `TypeProto.Tensor`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorTypeProto {
        #[prost(int32, tag = "1")]
        pub elem_type: i32,
        #[prost(message, optional, tag = "2")]
        pub shape: Option<TensorShapeProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorShapeProto {
        #[prost(message, repeated, tag = "1")]
        pub dim: Vec<Dimension>,
    }

    /// `oneof value { int64 dim_value = 1; string dim_param = 2; }`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dimension {
        #[prost(int64, optional, tag = "1")]
        pub dim_value: Option<i64>,
        #[prost(string, optional, tag = "2")]
        pub dim_param: Option<String>,
    }
}
