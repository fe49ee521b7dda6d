//! Nothing silent: every run folder carries a SHA256SUMS that coreutils checks, every reader
//! refuses a damaged file by name, and a run killed at any moment verifies, resumes bit for bit,
//! or is refused clearly. Through the real `lab10` binary.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{command, json, ok_stdout, output_text, refused, repo, small_run};
use serde_json::Value;

fn lab(args: &[&str]) -> Output {
    command(repo(), args).output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `sha256sum -c --strict SHA256SUMS` in `dir`: the run checks without lab10.
fn coreutils_checks(dir: &Path) {
    let sums = Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(sums.status.success(), "{}", output_text(&sums));
}

/// Flips one bit in the middle of `path`.
fn damage(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(path, bytes).unwrap();
}

/// `lab10 verify --json` of the folders under `artifacts`: path -> its JSON line.
fn verify(artifacts: &Path) -> (Option<i32>, BTreeMap<String, Value>) {
    let out = lab(&["--artifacts", s(artifacts), "verify", "--json"]);
    let text = output_text(&out);
    assert!(!text.contains("panicked"), "{text}");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["path"].as_str().unwrap().to_string(), v))
        .collect();
    (out.status.code(), lines)
}

/// The tensors of a safetensors file, by name (its metadata, which names the run, left out).
fn tensors(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect()
}

/// A run's weights (exported as safetensors) and its per-epoch and test metrics: what must be
/// bit-identical between a resumed run and an uninterrupted one (times aside).
fn fingerprint(run: &Path, scratch: &Path) -> (BTreeMap<String, Vec<u8>>, Vec<Vec<f64>>, Vec<f64>) {
    let out = scratch.join("weights.safetensors");
    ok_stdout(lab(&["export", s(run), "--out", s(&out), "--force"]));
    let metrics = json(&run.join("metrics.json"))
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            [
                "train_loss",
                "train_accuracy",
                "valid_loss",
                "valid_accuracy",
            ]
            .iter()
            .map(|k| r[k].as_f64().unwrap())
            .collect()
        })
        .collect();
    let report = json(&run.join("report.json"));
    let test = ["test_loss", "test_accuracy"]
        .iter()
        .map(|k| report[k].as_f64().unwrap())
        .collect();
    (tensors(&out), metrics, test)
}

#[test]
fn a_fresh_run_checks_with_sha256sum_and_every_reader_refuses_a_damaged_file_by_name() {
    let artifacts = tempfile::tempdir().unwrap();
    let a = artifacts.path();
    let small = small_run(a);
    let mut args = vec!["train", "softmax", "--epochs", "2"];
    args.extend(small);
    ok_stdout(lab(&args));
    let run = a.join("softmax/latest").canonicalize().unwrap();

    // coreutils checks the folder without lab10, and every file the run wrote is listed.
    coreutils_checks(&run);
    let listed = std::fs::read_to_string(run.join("SHA256SUMS")).unwrap();
    for file in [
        "experiment.toml",
        "model.bpk",
        "report.json",
        "metrics.json",
        "metrics.csv",
        "checkpoint/model-2.bpk",
        "checkpoint/optim-2.bpk",
        "checkpoint/metrics-2.json",
    ] {
        assert!(
            listed.contains(&format!("  {file}\n")),
            "{file} not in\n{listed}"
        );
    }
    let (code, states) = verify(a);
    assert_eq!(code, Some(0));
    assert_eq!(states[s(&run)]["state"], "ok", "{states:?}");

    // A damaged model: refused by name by every reader, and no accuracy is printed.
    let model = run.join("model.bpk");
    let pristine = std::fs::read(&model).unwrap();
    damage(&model);
    let out_file = a.join("out.onnx");
    let readers: [&[&str]; 5] = [
        &["eval", s(&run)],
        &["predict", s(&run), "--samples", "3"],
        &["export", s(&run), "--out", s(&out_file)],
        &["serve", s(&run), "--listen", "127.0.0.1:0"],
        &["verify", s(&run)],
    ];
    for reader in readers {
        let mut args = vec!["--artifacts", s(a)];
        args.extend(reader);
        let out = lab(&args);
        let all = output_text(&out);
        let err = refused(out);
        assert!(
            err.contains("model.bpk") && err.contains("damaged"),
            "{reader:?}: {err}"
        );
        assert!(
            !all.contains("accuracy") && !all.contains('%'),
            "{reader:?}: {all}"
        );
    }
    assert!(!out_file.exists());
    std::fs::write(&model, &pristine).unwrap();

    // A damaged report or metrics file: refused by `lab10 report`.
    for file in ["report.json", "metrics.json"] {
        let path = run.join(file);
        let pristine = std::fs::read(&path).unwrap();
        damage(&path);
        let out = lab(&[
            "--artifacts",
            s(a),
            "report",
            s(&run),
            "--out",
            s(&a.join("r")),
        ]);
        let err = refused(out);
        assert!(
            err.contains(file) && err.contains("damaged"),
            "{file}: {err}"
        );
        std::fs::write(&path, pristine).unwrap();
    }

    // A damaged checkpoint: refused by name by --resume (training it further).
    let checkpoint = run.join("checkpoint/optim-2.bpk");
    damage(&checkpoint);
    let err = refused(lab(&[
        "--artifacts",
        s(a),
        "train",
        "softmax",
        "--resume",
        s(&run),
        "--epochs",
        "3",
    ]));
    assert!(
        err.contains("optim-2.bpk") && err.contains("damaged"),
        "{err}"
    );
    assert_eq!(verify(a).0, Some(1));
    let (_, states) = verify(a);
    assert_eq!(states[s(&run)]["state"], "damaged");
    assert!(
        states[s(&run)]["file"]
            .as_str()
            .unwrap()
            .ends_with("optim-2.bpk")
    );

    // A run of an earlier lab10 (no manifest) still loads, said to be unverified, and
    // `verify --seal` gives it one once it evaluates to its recorded accuracy.
    let mut args = vec!["train", "xavier", "--epochs", "1"];
    args.extend(small);
    ok_stdout(lab(&args));
    let old = a.join("xavier/latest").canonicalize().unwrap();
    std::fs::remove_file(old.join("SHA256SUMS")).unwrap();
    let out = lab(&["eval", s(&old)]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unverified"));
    assert_eq!(verify(a).1[s(&old)]["state"], "unverified");
    // One without snapshots of its metrics either is refused by a resume until `verify --seal`
    // checked it; then it is resumed (trained further) and recorded.
    let older = old.with_file_name("older");
    let copy = Command::new("cp")
        .args(["-r", s(&old), s(&older)])
        .status()
        .unwrap();
    assert!(copy.success());
    for e in std::fs::read_dir(older.join("checkpoint"))
        .unwrap()
        .flatten()
    {
        if e.file_name().to_string_lossy().starts_with("metrics-") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let resume = [
        "--artifacts",
        s(a),
        "train",
        "xavier",
        "--resume",
        s(&older),
        "--epochs",
        "2",
    ];
    let refused = lab(&resume);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("no SHA256SUMS") && said.contains("verify --seal"),
        "{said}"
    );
    ok_stdout(lab(&["--artifacts", s(a), "verify", "--seal", s(&older)]));
    ok_stdout(lab(&resume));
    assert_eq!(common::epochs_in(&older), vec![1, 2]);
    assert_eq!(verify(a).1[s(&older)]["state"], "ok");
    let sealed = ok_stdout(lab(&["--artifacts", s(a), "verify", "--seal", s(&old)]));
    assert!(sealed.contains("ok (sealed now)"), "{sealed}");
    coreutils_checks(&old);
}

/// Where a kill landed, told from what it left.
fn moment(dir: &Path) -> String {
    let Some(run) = std::fs::read_dir(dir.join("xavier")).ok().and_then(|d| {
        d.flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .find(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
    }) else {
        return "before the run folder".into();
    };
    let names: Vec<String> = walk(&run);
    let tmp = names
        .iter()
        .any(|n| n.contains("/.tmp-") || n.starts_with(".tmp-"));
    let sums = std::fs::read_to_string(run.join("SHA256SUMS")).unwrap_or_default();
    let epochs = (1..=3)
        .filter(|n| sums.contains(&format!("checkpoint/model-{n}.bpk")))
        .max();
    let place = if sums.contains("  report.json") {
        "after the report".to_string()
    } else if names.iter().any(|n| n == "model.bpk") {
        "while finishing (model saved)".to_string()
    } else {
        match epochs {
            None => "before the first checkpoint".into(),
            Some(3) => "while finishing".into(),
            Some(n) => format!("in epoch {} (checkpoint {n} saved)", n + 1),
        }
    };
    if tmp {
        format!("{place}, mid-write")
    } else {
        place
    }
}

fn walk(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            names.extend(walk(&e.path()).into_iter().map(|n| format!("{name}/{n}")));
        } else {
            names.push(name);
        }
    }
    names
}

#[test]
fn killed_at_32_moments_a_run_verifies_resumes_bit_identically_or_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let train = |artifacts: &Path| -> Vec<String> {
        [
            "--artifacts",
            s(artifacts),
            "train",
            "xavier",
            "--epochs",
            "3",
            "--train-size",
            "12000",
            "--test-size",
            "1000",
        ]
        .map(String::from)
        .to_vec()
    };
    // The uninterrupted run, and how long it takes.
    let reference_dir = scratch.path().join("reference");
    let started = Instant::now();
    let args = train(&reference_dir);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok_stdout(lab(&args));
    let span = started.elapsed();
    let reference_run = reference_dir.join("xavier/latest").canonicalize().unwrap();
    let reference = fingerprint(&reference_run, scratch.path());

    let kills = 32;
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for k in 0..kills {
        let dir = scratch.path().join(format!("kill-{k}"));
        let args = train(&dir);
        let mut child = command(repo(), &args.iter().map(String::as_str).collect::<Vec<_>>())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread over the run, from its start to just past its usual end.
        let at = span.mul_f64((k as f64 + 0.5) / kills as f64 * 1.05);
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let hit = moment(&dir);

        // Nothing that reads runs crashes on what was left.
        for reader in [vec!["list"], vec!["verify"], vec!["report", "--out"]] {
            let mut args = vec!["--artifacts".to_string(), s(&dir).to_string()];
            args.extend(reader.iter().map(|a| a.to_string()));
            if reader[0] == "report" {
                args.push(s(&dir.join("report-out")).to_string());
            }
            let out = command(repo(), &args.iter().map(String::as_str).collect::<Vec<_>>())
                .output()
                .unwrap();
            let text = output_text(&out);
            assert!(
                matches!(out.status.code(), Some(0 | 1)) && !text.contains("panicked"),
                "kill {k} ({hit}): {reader:?}: {text}"
            );
        }
        let (code, states) = verify(&dir);
        let outcome = match states.values().next() {
            None => "no run folder".to_string(),
            Some(state) => {
                assert_ne!(
                    code,
                    Some(1),
                    "kill {k} ({hit}) left a damaged run: {state}"
                );
                let run = PathBuf::from(state["path"].as_str().unwrap());
                match state["state"].as_str().unwrap() {
                    "ok" => {
                        assert_eq!(fingerprint(&run, &dir), reference, "kill {k} ({hit})");
                        "complete, identical".to_string()
                    }
                    "unfinished" if state["resumable_from"].is_u64() => {
                        ok_stdout(lab(&[
                            "--artifacts",
                            s(&dir),
                            "train",
                            "xavier",
                            "--resume",
                            s(&run),
                        ]));
                        assert_eq!(
                            fingerprint(&run, &dir),
                            reference,
                            "kill {k} ({hit}): the resumed run differs from an uninterrupted one"
                        );
                        assert_eq!(verify(&dir).1[s(&run)]["state"], "ok");
                        "resumed, bit-identical".to_string()
                    }
                    "unfinished" => {
                        let err = refused(lab(&[
                            "--artifacts",
                            s(&dir),
                            "train",
                            "xavier",
                            "--resume",
                            s(&run),
                        ]));
                        assert!(err.contains("no complete checkpoint"), "kill {k}: {err}");
                        "refused (nothing to resume)".to_string()
                    }
                    other => panic!("kill {k} ({hit}): {other}: {state}"),
                }
            }
        };
        *outcomes.entry(format!("{hit} -> {outcome}")).or_default() += 1;
    }
    // Shown with --nocapture; the closing notes quote it.
    eprintln!("{kills} kills over a {span:.1?} run:");
    for (what, n) in &outcomes {
        eprintln!("  {n:2} x {what}");
    }
    assert_eq!(outcomes.values().sum::<usize>(), kills);
}

#[test]
fn a_killed_export_leaves_the_earlier_file_or_the_whole_new_one() {
    let artifacts = tempfile::tempdir().unwrap();
    let a = artifacts.path();
    ok_stdout(lab(&[
        "--artifacts",
        s(a),
        "train",
        "deep",
        "--epochs",
        "1",
        "--train-size",
        "1000",
        "--test-size",
        "200",
    ]));
    let out = a.join("deep.onnx");
    let started = Instant::now();
    ok_stdout(lab(&[
        "--artifacts",
        s(a),
        "export",
        "deep",
        "--out",
        s(&out),
    ]));
    let span = started.elapsed();
    let whole = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    for k in 0..12u32 {
        let mut child = command(
            repo(),
            &[
                "--artifacts",
                s(a),
                "export",
                "deep",
                "--out",
                s(&out),
                "--force",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        std::thread::sleep(
            span.mul_f64(f64::from(k) / 10.0)
                .max(Duration::from_millis(1)),
        );
        let _ = child.kill();
        child.wait().unwrap();
        if let Ok(bytes) = std::fs::read(&out) {
            assert!(bytes == whole, "kill {k}: a torn {}", out.display());
        }
    }
}

#[test]
fn a_dropout_run_trained_further_is_bit_identical_to_one_trained_straight() {
    // Dropout draws its masks from the backend's RNG: every epoch re-seeds it, so epoch 2 of a
    // run resumed from its checkpoint sees the masks an uninterrupted run sees.
    let scratch = tempfile::tempdir().unwrap();
    let train = |dir: &Path, epochs: &str| {
        ok_stdout(lab(&[
            "--artifacts",
            s(dir),
            "train",
            "dropout",
            "--epochs",
            epochs,
            "--train-size",
            "2000",
            "--test-size",
            "500",
        ]));
        dir.join("dropout/latest").canonicalize().unwrap()
    };
    let straight = train(&scratch.path().join("straight"), "2");
    let resumed = train(&scratch.path().join("resumed"), "1");
    ok_stdout(lab(&[
        "--artifacts",
        s(&scratch.path().join("resumed")),
        "train",
        "dropout",
        "--resume",
        s(&resumed),
        "--epochs",
        "2",
    ]));
    assert_eq!(
        fingerprint(&resumed, scratch.path()),
        fingerprint(&straight, scratch.path())
    );
}
