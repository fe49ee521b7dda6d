//! Models that travel: `lab10 export` writes safetensors that the `safetensors` library and
//! NumPy read (scripts/check-export.py), `lab10 import` makes a run of PyTorch-layout weights,
//! and every bad file is refused naming the tensor, with nothing written.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{command, data_dir, files_under, json, needs, ok_stdout, refused, repo, run_folder};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn lab10(args: &[&str]) -> std::process::Output {
    command(repo(), args).output().unwrap()
}

fn trained(artifacts: &Path, experiment: &str) -> PathBuf {
    run_folder(&ok_stdout(lab10(&[
        "train",
        experiment,
        "--epochs",
        "1",
        "--train-size",
        "3000",
        "--test-size",
        "1000",
        "--artifacts",
        s(artifacts),
    ])))
}

fn eval_json(run: &Path) -> String {
    ok_stdout(lab10(&[
        "eval",
        s(run),
        "--json",
        "--logits",
        "100",
        "--test-size",
        "1000",
    ]))
}

/// `file`'s tensors, changed by `edit`, written to `out` (with the same metadata).
fn rewrite(
    file: &Path,
    out: &Path,
    edit: impl FnOnce(&mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>),
) {
    let bytes = std::fs::read(file).unwrap();
    let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(name, t)| (name, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
        .collect();
    edit(&mut tensors);
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(n, d, shape, data)| (n.clone(), TensorView::new(*d, shape.clone(), data).unwrap()))
        .collect();
    let metadata: Option<HashMap<String, String>> = metadata.metadata().clone();
    safetensors::serialize_to_file(views, metadata, out).unwrap();
}

#[test]
fn export_then_import_round_trips_and_numpy_agrees() {
    let artifacts = tempfile::tempdir().unwrap();
    let run = trained(artifacts.path(), "dropout");
    let out = artifacts.path().join("dropout.safetensors");
    let said = ok_stdout(lab10(&["export", s(&run), "--out", s(&out)]));
    assert!(said.contains("Linear at [0, 3, 6, 9, 12]"), "{said}");

    // PyTorch's names and layout: Linear, ReLU, Dropout per hidden layer; weights [out, in].
    let bytes = std::fs::read(&out).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        [
            "0.bias",
            "0.weight",
            "12.bias",
            "12.weight",
            "3.bias",
            "3.weight",
            "6.bias",
            "6.weight",
            "9.bias",
            "9.weight"
        ]
    );
    assert_eq!(st.tensor("0.weight").unwrap().shape(), [512, 784]);
    assert_eq!(st.tensor("12.weight").unwrap().shape(), [10, 512]);
    let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
    let arch: serde_json::Value =
        serde_json::from_str(&metadata.metadata().as_ref().unwrap()["lab10"]).unwrap();
    assert_eq!(arch["activation"], "relu");
    assert_eq!(arch["dropout"], 0.3);
    assert_eq!(arch["pixels"], "unit");
    assert_eq!(arch["dataset"], "mnist");

    // Never overwritten without --force; with it, replaced whole.
    let err = refused(lab10(&["export", s(&run), "--out", s(&out)]));
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    ok_stdout(lab10(&["export", s(&run), "--out", s(&out), "--force"]));
    // The same tensors (the header's metadata order may differ: it is a hash map).
    let again = std::fs::read(&out).unwrap();
    let again = SafeTensors::deserialize(&again).unwrap();
    for name in st.names() {
        let (a, b) = (st.tensor(name).unwrap(), again.tensor(name).unwrap());
        assert!(
            a.data() == b.data() && a.shape() == b.shape(),
            "{name} changed"
        );
    }

    // Imported back: a run that evaluates exactly as the original.
    let original = eval_json(&run);
    let said = ok_stdout(lab10(&[
        "import",
        s(&out),
        "--experiment",
        "dropout",
        "--artifacts",
        s(artifacts.path()),
    ]));
    let imported = run_folder(&said);
    assert_ne!(imported, run);
    assert_eq!(
        eval_json(&imported),
        original,
        "round trip changed the evaluation"
    );
    let report = json(&imported.join("report.json"));
    assert!(
        report["source"]
            .as_str()
            .unwrap()
            .contains("dropout.safetensors"),
        "{report}"
    );
    assert_eq!(report["status"], "completed");
}

/// A real client: the safetensors library and NumPy compute the exported model's forward pass
/// on 1,000 test images (scripts/check-export.py) and agree with `lab10 eval`.
#[test]
#[ignore = "needs Python's numpy and safetensors: pip install numpy safetensors"]
fn numpy_computes_what_lab10_computes_from_the_exported_file() {
    needs::python(&["numpy", "safetensors"]);
    let artifacts = tempfile::tempdir().unwrap();
    let run = trained(artifacts.path(), "dropout");
    let out = artifacts.path().join("dropout.safetensors");
    ok_stdout(lab10(&["export", s(&run), "--out", s(&out)]));
    let eval = artifacts.path().join("eval.json");
    std::fs::write(&eval, eval_json(&run)).unwrap();
    let check = Command::new("python3")
        .arg(repo().join("scripts/check-export.py"))
        .args([s(&out), s(&eval), s(&data_dir()), "--test-size", "1000"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let result: serde_json::Value = serde_json::from_str(said.trim()).unwrap();
    assert_eq!(result["logits_compared"], 100);
}

#[test]
fn bad_files_are_refused_naming_the_tensor_and_nothing_is_written() {
    let artifacts = tempfile::tempdir().unwrap();
    let run = trained(artifacts.path(), "xavier");
    let good = artifacts.path().join("xavier.safetensors");
    ok_stdout(lab10(&["export", s(&run), "--out", s(&good)]));
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);

    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(file("truncated.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(file("text.safetensors"), b"not a safetensors file at all").unwrap();
    rewrite(&good, &file("missing.safetensors"), |t| {
        t.retain(|(n, ..)| n != "2.bias")
    });
    rewrite(&good, &file("extra.safetensors"), |t| {
        t.push((
            "temperature".into(),
            Dtype::F32,
            vec![1],
            vec![0, 0, 128, 63],
        ))
    });
    rewrite(&good, &file("f64.safetensors"), |t| {
        let w = t.iter_mut().find(|(n, ..)| n == "0.weight").unwrap();
        let wide: Vec<u8> =
            w.3.chunks(4)
                .flat_map(|c| (f32::from_le_bytes(c.try_into().unwrap()) as f64).to_le_bytes())
                .collect();
        w.1 = Dtype::F64;
        w.3 = wide;
    });
    let cases = [
        (
            "truncated.safetensors",
            "xavier",
            vec!["not a readable safetensors file"],
        ),
        (
            "text.safetensors",
            "xavier",
            vec!["not a readable safetensors file"],
        ),
        (
            "missing.safetensors",
            "xavier",
            vec!["'2.bias' is missing", "[256]"],
        ),
        (
            "extra.safetensors",
            "xavier",
            vec!["unexpected tensor 'temperature'"],
        ),
        (
            "f64.safetensors",
            "xavier",
            vec!["'0.weight' is F64", "float32"],
        ),
        // A 784-256-256-10 file as the 784-512x4-10 deep net.
        (
            "xavier.safetensors",
            "deep",
            vec!["3 Linear layers", "784-512-512-512-512-10"],
        ),
        ("no-such.safetensors", "xavier", vec!["no such file"]),
    ];
    std::fs::copy(&good, file("xavier.safetensors")).unwrap();
    let before: Vec<PathBuf> = paths_under(artifacts.path());
    for (name, experiment, words) in cases {
        let err = refused(lab10(&[
            "import",
            s(&file(name)),
            "--experiment",
            experiment,
            "--artifacts",
            s(artifacts.path()),
        ]));
        for w in words {
            assert!(err.contains(w), "{name}: '{w}' not in: {err}");
        }
        assert!(err.contains(name), "{name}: the file is named: {err}");
    }
    assert_eq!(
        paths_under(artifacts.path()),
        before,
        "a refused import wrote something"
    );

    // Another architecture of the same depth: the shapes are named.
    let sigmoid_run = trained(artifacts.path(), "sigmoid-xavier");
    let sigmoid = dir.path().join("sigmoid.safetensors");
    ok_stdout(lab10(&["export", s(&sigmoid_run), "--out", s(&sigmoid)]));
    let err = refused(lab10(&[
        "import",
        s(&sigmoid),
        "--experiment",
        "xavier",
        "--artifacts",
        s(artifacts.path()),
    ]));
    assert!(
        err.contains("activation is sigmoid") && err.contains("--experiment sigmoid-xavier"),
        "{err}"
    );
}

fn paths_under(dir: &Path) -> Vec<PathBuf> {
    files_under(dir).into_iter().map(|(p, _)| p).collect()
}

/// `--out model.onnx` writes ONNX; an existing file is kept without --force, and an --out named
/// for no format lab10 writes (or against --format) is refused, with nothing written.
#[test]
fn onnx_export_keeps_files_and_refuses_other_formats() {
    let artifacts = tempfile::tempdir().unwrap();
    let run = trained(artifacts.path(), "softmax");
    let out = artifacts.path().join("softmax.onnx");
    let said = ok_stdout(lab10(&["export", s(&run), "--out", s(&out)]));
    assert!(
        said.contains("ONNX, opset 17") && said.contains("'pixels'"),
        "{said}"
    );
    let written = std::fs::read(&out).unwrap();
    let err = refused(lab10(&["export", s(&run), "--out", s(&out)]));
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        written,
        "replaced without --force"
    );
    ok_stdout(lab10(&["export", s(&run), "--out", s(&out), "--force"]));
    let other = artifacts.path().join("softmax.bin");
    let err = refused(lab10(&["export", s(&run), "--out", s(&other)]));
    assert!(
        err.contains("safetensors or ONNX") && err.contains("--format"),
        "{err}"
    );
    assert!(!other.exists());
    let err = refused(lab10(&[
        "export",
        s(&run),
        "--out",
        s(&out),
        "--format",
        "safetensors",
    ]));
    assert!(err.contains("make them agree"), "{err}");
}

/// ONNX Runtime: each of the five lesson models (short runs) and a Fashion-MNIST run, exported
/// as ONNX, passes onnx's full check, and ONNX Runtime fed raw pixels gives lab10's logits and
/// exactly its accuracy on all 10,000 test images, in batches of 1, 7 and 10,000
/// (scripts/check-onnx.py).
#[test]
#[ignore = "needs onnx, onnxruntime (pip install numpy onnx onnxruntime) and Fashion-MNIST"]
fn onnx_runtime_runs_every_exported_model_as_lab10_does() {
    needs::python(&["numpy", "onnx", "onnxruntime"]);
    let fashion = needs::fashion_mnist();
    let artifacts = tempfile::tempdir().unwrap();
    let mut models: Vec<(&str, Vec<&str>, PathBuf)> =
        ["softmax", "nn", "xavier", "deep", "dropout"]
            .into_iter()
            .map(|e| (e, vec![], data_dir()))
            .collect();
    models.push(("dropout", vec!["--dataset", "fashion-mnist"], fashion));
    for (experiment, extra, data) in models {
        let mut args = vec!["train", experiment, "--epochs", "1", "--train-size", "3000"];
        args.extend(["--test-size", "1000", "--artifacts", s(artifacts.path())]);
        args.extend(&extra);
        let run = run_folder(&ok_stdout(lab10(&args)));
        let out = run.join("model.onnx");
        ok_stdout(lab10(&["export", s(&run), "--format", "onnx"]));
        let eval = run.join("eval.json");
        let logits = ok_stdout(lab10(&["eval", s(&run), "--json", "--logits", "10000"]));
        std::fs::write(&eval, logits).unwrap();
        let check = Command::new("python3")
            .arg(repo().join("scripts/check-onnx.py"))
            .args([s(&out), s(&eval), s(&data)])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&check.stdout);
        println!("{experiment} {extra:?}: {said}");
        assert!(
            check.status.success(),
            "{experiment}: {said}{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let result: serde_json::Value = serde_json::from_str(said.trim()).unwrap();
        assert_eq!(result["images"], 10000);
        assert_eq!(result["logits_compared"], 10000);
    }
}
