//! `lab10 site`: the folder it writes (and refuses to write), and that folder served by a plain
//! static server and opened in headless Chromium, where the models must answer as lab10 itself
//! does (`lab10 eval --logits`, `lab10 serve`'s API).
#![cfg(feature = "flex")]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;

use common::{command, data_dir, needs, ok_stdout, output_text, refused, repo};
use serde_json::{Value, json};

/// softmax, xavier and dropout, one epoch each (a few seconds on flex), and the test split's
/// first 2,000 images for their reports.
fn artifacts() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        for experiment in ["softmax", "xavier", "dropout"] {
            ok_stdout(lab10(
                &dir,
                &["train", experiment, "--epochs", "1", "--test-size", "2000"],
            ));
        }
        dir
    })
}

fn lab10(artifacts: &Path, args: &[&str]) -> std::process::Output {
    let data = data_dir();
    let mut all = vec![
        "--backend",
        "flex",
        "--artifacts",
        artifacts.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    command(repo(), &all).output().unwrap()
}

fn run_of(experiment: &str) -> PathBuf {
    let dir = lab10_runs::dataset_root(artifacts(), "mnist")
        .join(experiment)
        .join("latest");
    std::fs::canonicalize(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Two files standing in for the WebAssembly build (the folder logic copies them as they are).
fn stand_in_wasm(dir: &Path) -> PathBuf {
    let wasm = dir.join("wasm-build");
    std::fs::create_dir_all(&wasm).unwrap();
    std::fs::write(wasm.join("lab10_site_wasm.js"), "// stand-in\n").unwrap();
    std::fs::write(wasm.join("lab10_site_wasm_bg.wasm"), b"\0asm stand-in").unwrap();
    wasm
}

fn site(args: &[&str]) -> std::process::Output {
    let mut all = vec!["site"];
    all.extend_from_slice(args);
    lab10(artifacts(), &all)
}

fn leftovers(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".lab10-site"))
        .collect()
}

#[test]
fn a_site_holds_the_runs_models_digits_and_report_and_is_replaced_only_with_force() {
    let tmp = tempfile::tempdir().unwrap();
    let wasm = stand_in_wasm(tmp.path());
    let out = tmp.path().join("site");
    let (out_s, wasm_s) = (out.to_str().unwrap(), wasm.to_str().unwrap());

    // No runs named: the lesson's experiments that have a completed run, in the lesson's order.
    let stdout = ok_stdout(site(&["--out", out_s, "--wasm", wasm_s, "--digits", "50"]));
    assert!(
        stdout.contains("nn, deep") && stdout.contains("left off"),
        "{stdout}"
    );
    assert!(stdout.contains("python3 -m http.server"), "{stdout}");

    let manifest = common::json(&out.join("site.json"));
    let models = manifest["models"].as_array().unwrap();
    let labels: Vec<&str> = models
        .iter()
        .map(|m| m["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["softmax", "xavier", "dropout"]);
    for m in models {
        let experiment = m["experiment"].as_str().unwrap();
        let run = run_of(experiment);
        // The run's own model file, byte for byte, and its architecture.
        assert_eq!(
            std::fs::read(out.join(m["weights"].as_str().unwrap())).unwrap(),
            std::fs::read(run.join("model.bpk")).unwrap(),
            "{experiment}"
        );
        assert_eq!(
            m["weights_bytes"].as_u64().unwrap(),
            std::fs::metadata(run.join("model.bpk")).unwrap().len()
        );
        let report = common::json(&run.join("report.json"));
        assert_eq!(m["run_id"], report["run_id"]);
        assert_eq!(m["params"], report["params"]);
        assert!(
            out.join(format!("models/{experiment}/experiment.toml"))
                .is_file()
        );
        assert_eq!(
            m["weights_sha256"].as_str().unwrap(),
            lab10_data::idx::sha256_hex(&std::fs::read(run.join("model.bpk")).unwrap())
        );
    }
    assert_eq!(models[0]["architecture"]["hidden"], json!([]));
    assert_eq!(models[1]["architecture"]["hidden"], json!([256, 256]));

    // The first 50 test digits with their labels.
    let (test, _) = lab10_data::Mnist::read(&data_dir(), lab10_data::Split::Test).unwrap();
    let digits = std::fs::read(out.join("digits.bin")).unwrap();
    assert_eq!(digits.len(), 50 * 784);
    for i in [0, 17, 49] {
        assert_eq!(&digits[i * 784..(i + 1) * 784], test.image(i));
        assert_eq!(manifest["digits"]["labels"][i], test.labels[i]);
    }
    assert_eq!(manifest["digits"]["count"], 50);
    assert_eq!(manifest["classes"][7], "7");

    // The WebAssembly build as given, the page, its script, the report.
    for name in ["lab10_site_wasm.js", "lab10_site_wasm_bg.wasm"] {
        assert_eq!(
            std::fs::read(out.join("wasm").join(name)).unwrap(),
            std::fs::read(wasm.join(name)).unwrap()
        );
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    for needle in [
        "id=\"models\"",
        "src=\"site.js\"",
        "report/index.html",
        "report/accuracy.png",
    ] {
        assert!(index.contains(needle), "index.html lacks {needle}");
    }
    for file in [
        "site.js",
        "style.css",
        "report/index.html",
        "report/accuracy.png",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }

    assert_eq!(
        manifest["title"],
        "ML lab 10: NN, ReLU, Xavier, Dropout and Adam"
    );

    // Again without --force: refused, the site untouched.
    let before = std::fs::read(out.join("site.json")).unwrap();
    let err = refused(site(&["--out", out_s, "--wasm", wasm_s]));
    assert!(err.contains(out_s) && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(out.join("site.json")).unwrap(), before);

    // With --force: replaced whole (one model now), nothing left beside it.
    ok_stdout(site(&[
        "softmax",
        "--out",
        out_s,
        "--wasm",
        wasm_s,
        "--force",
        "--title",
        "Deep learning <week 10>",
    ]));
    let manifest = common::json(&out.join("site.json"));
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("<h1>Deep learning &lt;week 10&gt;</h1>"),
        "{index}"
    );
    assert_eq!(manifest["models"].as_array().unwrap().len(), 1);
    assert!(!out.join("models/xavier").exists());
    assert_eq!(manifest["digits"]["count"], 300);
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());

    // A site with a file added since (a host's CNAME) is not replaced: it would be deleted.
    std::fs::write(out.join("CNAME"), "lab10.example.org").unwrap();
    let err = refused(site(&[
        "softmax", "--out", out_s, "--wasm", wasm_s, "--force",
    ]));
    assert!(err.contains("files added since (CNAME)"), "{err}");
    assert!(out.join("CNAME").is_file() && out.join("site.json").is_file());

    // A folder of other files is never replaced, even with --force.
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine").unwrap();
    let err = refused(site(&[
        "softmax",
        "--out",
        mine.to_str().unwrap(),
        "--wasm",
        wasm_s,
        "--force",
    ]));
    assert!(err.contains("not a site lab10 wrote"), "{err}");
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_run_that_cannot_be_loaded_is_named_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let wasm = stand_in_wasm(tmp.path());
    // A copy of the xavier run (its SHA256SUMS too) whose model file is cut short.
    let broken = tmp.path().join("broken-run");
    std::fs::create_dir(&broken).unwrap();
    for entry in std::fs::read_dir(run_of("xavier")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), broken.join(entry.file_name())).unwrap();
        }
    }
    let model = std::fs::read(broken.join("model.bpk")).unwrap();
    std::fs::write(broken.join("model.bpk"), &model[..model.len() / 3]).unwrap();

    let out = tmp.path().join("site");
    let err = refused(site(&[
        "softmax",
        broken.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--wasm",
        wasm.to_str().unwrap(),
    ]));
    assert!(err.contains(broken.to_str().unwrap()), "{err}");
    // Refused by its SHA256SUMS, before Burn reads it.
    assert!(err.contains("model.bpk is damaged"), "{err}");
    assert!(!out.exists());
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());

    // Without the WebAssembly build: how to make it.
    let err = refused(site(&[
        "softmax",
        "--out",
        out.to_str().unwrap(),
        "--wasm",
        tmp.path().join("nowhere").to_str().unwrap(),
    ]));
    assert!(err.contains("scripts/build-wasm.sh"), "{err}");
    assert!(!out.exists());
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &Path) -> std::time::SystemTime {
    common::files_under(dir)
        .iter()
        .map(|(p, _)| std::fs::metadata(p).unwrap().modified().unwrap())
        .max()
        .unwrap_or(std::time::UNIX_EPOCH)
}

/// The WebAssembly build (scripts/build-wasm.sh), newer than the sources it is made of, with
/// Chromium and Python's playwright: what the browser test needs (CI has them all, .ci/run).
fn browser_ready() -> PathBuf {
    needs::browser();
    let wasm = repo().join(lab10_site::DEFAULT_WASM_DIR);
    let built = lab10_site::WASM_FILES
        .iter()
        .map(|f| {
            std::fs::metadata(wasm.join(f))
                .and_then(|m| m.modified())
                .ok()
        })
        .min()
        .flatten();
    let sources = [
        "crates/lab10-site/wasm",
        "crates/lab10-models/src",
        "crates/lab10-image/src",
    ]
    .iter()
    .map(|d| newest(&repo().join(d)))
    .max()
    .unwrap();
    if built.is_none_or(|b| b < sources) {
        needs::missing(
            "a WebAssembly build of the site newer than its sources",
            "bash scripts/build-wasm.sh",
        );
    }
    wasm
}

/// A running `lab10 serve` of `runs`, stopped when dropped.
struct Serve(Child, String);

impl Serve {
    fn start(runs: &[PathBuf]) -> Serve {
        let data = data_dir();
        let mut args = vec![
            "serve".to_string(),
            "--backend".into(),
            "flex".into(),
            "--data-dir".into(),
            data.display().to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
        ];
        args.extend(runs.iter().map(|r| r.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = command(repo(), &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .map(|addr| format!("http://{addr}"))
            .unwrap_or_else(|| panic!("no address in the start-up line: {line:?}"));
        Serve(child, url)
    }

    fn predict(&self, body: &Value) -> Value {
        let text = ureq::post(format!("{}/api/predict", self.1))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn softmax(logits: &[f64]) -> Vec<f64> {
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The site served by Python's http.server and opened in headless Chromium
/// (tests/browser/site.py): 20 real test digits read through the page's form, a 7 drawn with
/// the mouse, a copy with a corrupt and a missing weights file, and the page opened as a file.
#[test]
#[ignore = "needs `bash scripts/build-wasm.sh`, chromium and Python's playwright"]
fn the_site_runs_the_models_in_a_real_browser_as_lab10_does() {
    let wasm = browser_ready();
    const DIGITS: usize = 20;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    ok_stdout(site(&[
        "softmax",
        "xavier",
        "dropout",
        "--out",
        out.to_str().unwrap(),
        "--wasm",
        wasm.to_str().unwrap(),
        "--digits",
        "50",
    ]));
    // The broken copy: one byte of xavier's weights changed (the file still parses, with
    // another number in it), dropout's gone.
    let broken = tmp.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    for (path, bytes) in common::files_under(&out) {
        let to = broken.join(path.strip_prefix(&out).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, bytes).unwrap();
    }
    let xavier = broken.join("models/xavier/model.bpk");
    let mut bytes = std::fs::read(&xavier).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&xavier, &bytes).unwrap();
    std::fs::remove_file(broken.join("models/dropout/model.bpk")).unwrap();

    let shot = repo().join("target/site-page.png");
    let run = std::process::Command::new("python3")
        .arg(repo().join("tests/browser/site.py"))
        .arg(&out)
        .arg(&broken)
        .arg(&shot)
        .arg(DIGITS.to_string())
        .output()
        .unwrap();
    let text = output_text(&run);
    assert!(run.status.success(), "{text}");
    let page: Value =
        serde_json::from_str(text.lines().rev().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert_eq!(page["state"], "ready", "{}", page["status"]);
    assert_eq!(page["console_errors"], json!([]));

    // 1. Test digits 0..19: every model's probabilities on the page are lab10's own.
    let runs: Vec<PathBuf> = ["softmax", "xavier", "dropout"]
        .iter()
        .map(|e| run_of(e))
        .collect();
    for (m, run) in runs.iter().enumerate() {
        let eval: Value = serde_json::from_str(&ok_stdout(lab10(
            artifacts(),
            &[
                "eval",
                run.to_str().unwrap(),
                "--json",
                "--logits",
                &DIGITS.to_string(),
            ],
        )))
        .unwrap();
        let mut worst: f64 = 0.0;
        for (i, logits) in eval["logits"].as_array().unwrap().iter().enumerate() {
            let want = softmax(&floats(logits));
            let row = &page["digits"][i]["rows"][m];
            let got = floats(&row["probabilities"]);
            worst = worst.max(max_difference(&want, &got));
            let argmax = (0..want.len())
                .max_by(|&a, &b| want[a].total_cmp(&want[b]))
                .unwrap();
            assert_eq!(row["predicted"], argmax.to_string(), "digit {i}: {row}");
        }
        assert!(
            worst <= 1e-4,
            "{}: page differs from lab10 eval by {worst}",
            run.display()
        );
        eprintln!(
            "{}: largest difference from lab10 eval {worst:e}",
            run.display()
        );
    }

    // 2. The drawn 7: the same 28x28 image and answers as lab10 serve's API for that canvas.
    let drawing = &page["drawing"];
    let serve = Serve::start(&runs);
    let answer = serve.predict(&json!({"canvas": {
        "width": drawing["width"], "height": drawing["height"], "ink": drawing["ink"],
    }}));
    let seen = floats(&drawing["last"]["input"]);
    assert!(seen.iter().sum::<f64>() > 10.0, "the page saw no ink");
    assert_eq!(max_difference(&seen, &floats(&answer["input"])), 0.0);
    for (m, served) in answer["models"].as_array().unwrap().iter().enumerate() {
        let row = &drawing["rows"][m];
        let d = max_difference(
            &floats(&served["probabilities"]),
            &floats(&row["probabilities"]),
        );
        assert!(d <= 1e-4, "{}: {d}", served["experiment"]);
        assert_eq!(row["predicted"], served["predicted"].to_string(), "{row}");
    }

    // 3. A corrupt and a missing weights file: said on the page, the other model still reads.
    let broken = &page["broken"];
    let status = broken["status"].as_str().unwrap();
    assert_eq!(broken["state"], "partial", "{status}");
    assert!(
        status.contains("models/xavier/model.bpk")
            && status.contains("not the file lab10 site wrote"),
        "{status}"
    );
    assert!(
        status.contains("models/dropout/model.bpk") && status.contains("404"),
        "{status}"
    );
    assert!(status.contains("lab10 site --force"), "{status}");
    let rows = broken["rows"].as_array().unwrap();
    assert_eq!(rows[0]["failed"], false);
    assert_ne!(rows[0]["predicted"], "");
    assert_eq!(
        (rows[1]["failed"].clone(), rows[2]["failed"].clone()),
        (json!(true), json!(true))
    );

    // 4. Opened as a file: how to serve it.
    assert_eq!(page["file"]["state"], "error");
    assert!(
        page["file"]["status"]
            .as_str()
            .unwrap()
            .contains("python3 -m http.server"),
        "{}",
        page["file"]
    );
}

/// `bytes` with every UTC time (`2026-12-06T05:43:53Z`: when a site was written) blanked.
fn without_times(mut bytes: Vec<u8>) -> Vec<u8> {
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    let fits = |w: &[u8]| {
        w.iter().zip(shape).all(|(b, s)| {
            if *s == b'd' {
                b.is_ascii_digit()
            } else {
                b == s
            }
        })
    };
    for i in 0..bytes.len().saturating_sub(shape.len() - 1) {
        if fits(&bytes[i..i + shape.len()]) {
            bytes[i..i + shape.len()].fill(b'-');
        }
    }
    bytes
}

/// Every file under `dir` (relative) with its bytes, times blanked.
fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
                files.insert(rel, without_times(std::fs::read(e.path()).unwrap()));
            }
        }
    }
    files
}

#[test]
fn a_site_replaced_with_force_and_killed_at_any_moment_is_the_old_site_or_the_new_one() {
    let tmp = tempfile::tempdir().unwrap();
    let wasm = stand_in_wasm(tmp.path());
    let out = tmp.path().join("site");
    let args = |digits: &'static str| -> Vec<String> {
        [
            "softmax",
            "--out",
            out.to_str().unwrap(),
            "--wasm",
            wasm.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(["--digits", digits, "--force"].map(String::from))
        .collect()
    };
    // Two different sites (50 and 60 digits): each kill must leave one of them whole.
    let build = |digits: &'static str| {
        let mut all = vec!["site".to_string()];
        all.extend(args(digits));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let started = std::time::Instant::now();
        ok_stdout(lab10(artifacts(), &all));
        (tree(&out), started.elapsed())
    };
    let (sixty, _) = build("60");
    let (fifty, span) = build("50");
    for k in 0..12u32 {
        let digits = if k % 2 == 0 { "60" } else { "50" };
        let data = data_dir();
        let mut all = vec![
            "--backend".to_string(),
            "flex".into(),
            "--artifacts".into(),
            artifacts().to_str().unwrap().into(),
            "--data-dir".into(),
            data.to_str().unwrap().into(),
            "site".into(),
        ];
        all.extend(args(digits));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let mut child = command(repo(), &all)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(span.mul_f64(f64::from(k) / 10.0));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let now = tree(&out);
        assert!(
            now == sixty || now == fifty,
            "kill {k}: {} is neither the old site nor the new one",
            out.display()
        );
    }
}
