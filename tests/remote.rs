//! `lab10 worker` and training on it, for real on loopback: workers are `lab10 worker`
//! processes serving flex on 127.0.0.1, clients are `lab10` processes. Compiled with the
//! `remote` feature only: the complete suite (`--features ndarray,gpu,remote`, `.ci/run`).
#![cfg(feature = "remote")]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{command, events, json, ok_stdout, opened_run, output_text, refused, repo};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A `lab10 worker` on 127.0.0.1 (a port the system picks), killed when dropped.
struct Worker {
    child: Child,
    url: String,
    /// Everything it printed after its start-up line (Burn's server log).
    log: Arc<Mutex<String>>,
}

impl Worker {
    fn start(extra: &[&str]) -> Self {
        let mut args = vec!["worker", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = command(repo(), &args)
            // Burn's server logs refusals at info level.
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let Some(url) = first
            .split_whitespace()
            .find(|w| w.starts_with("ws://127.0.0.1:"))
            .map(String::from)
        else {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("no start-up line: {first:?}\n{err}");
        };
        let log = Arc::new(Mutex::new(String::new()));
        // Keep both pipes drained so that the worker never blocks on its log.
        for pipe in [
            Box::new(stdout) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(|l| l.ok()) {
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        Self {
            child,
            url: url.trim_end_matches(',').to_string(),
            log,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

fn token_file(dir: &Path, name: &str, token: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{token}\n")).unwrap();
    path
}

/// `train xavier` small: a few seconds on flex.
fn xavier(artifacts: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "train",
        "xavier",
        "--epochs",
        "2",
        "--train-size",
        "3000",
        "--test-size",
        "1000",
        "--json",
        "--artifacts",
        s(artifacts),
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

fn run(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    command(repo(), &args).output().unwrap()
}

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn bad_addresses_tokens_and_flags_are_refused_with_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("artifacts");
    let good = token_file(dir.path(), "good", "the-right-token");
    let bad = token_file(dir.path(), "bad", "a-wrong-token");
    let worker = Worker::start(&["--token-file", s(&good)]);

    // A wrong token, and none: refused by the worker.
    for extra in [vec!["--token-file", s(&bad)], vec![]] {
        let mut extra = extra;
        extra.extend(["--remote", worker.url.as_str()]);
        let out = run(&xavier(&artifacts, &extra));
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.contains(&format!("the worker at {} refused", worker.url)),
            "{text}"
        );
        assert!(text.contains("--token-file"), "{text}");
        assert!(!text.contains("panicked"), "{text}");
    }
    assert!(!artifacts.exists(), "a refused run left files");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !worker.log.lock().unwrap().contains("wrong token") {
        assert!(
            Instant::now() < deadline,
            "the worker did not log the refusal:\n{}",
            worker.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Nothing listening there.
    let nobody = format!("ws://127.0.0.1:{}", free_port());
    let out = run(&xavier(&artifacts, &["--remote", &nobody]));
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("cannot reach the worker at {nobody}")),
        "{text}"
    );

    // Flags that cannot work together, and addresses that are not worker addresses.
    let cases: [(&[&str], &str); 6] = [
        (&["--remote", "http://a:1"], "not a worker address"),
        (
            &["--remote", "ws://a:1", "--backend", "flex"],
            "drop one of the two",
        ),
        (&["--token-file", s(&good)], "use it with --remote"),
        (
            &["--group", "init", "--jobs", "0"],
            "--jobs must be at least 1",
        ),
        (&["--seeds", "1"], "use it with --group"),
        (
            &["--group", "init", "--jobs", "2", "--remote", "ws://a:1"],
            "cannot be used with",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["--artifacts", s(&artifacts), "train"];
        if !extra.contains(&"--group") {
            args.push("xavier");
        }
        args.extend_from_slice(extra);
        // Tiny, in case a flag slips through and a training starts.
        args.extend(["--epochs", "1", "--train-size", "100", "--test-size", "100"]);
        let out = command(repo(), &args).output().unwrap();
        let text = output_text(&out);
        assert!(!out.status.success(), "{args:?}: {text}");
        assert!(text.contains(expected), "{args:?}: {text}");
        assert!(!artifacts.exists(), "{args:?} trained");
    }

    // A worker without a token listens on loopback only.
    let out = command(repo(), &["worker", "--listen", "0.0.0.0:0", "--no-auth"])
        .output()
        .unwrap();
    let text = refused(out);
    assert!(text.contains("loopback"), "{text}");
}

#[test]
fn a_run_on_a_worker_writes_the_same_files_here_and_matches_the_local_run() {
    let dir = tempfile::tempdir().unwrap();
    let token = token_file(dir.path(), "token", "abc123");
    let worker = Worker::start(&["--token-file", s(&token)]);
    let local_artifacts = dir.path().join("local");
    let remote_artifacts = dir.path().join("remote");

    let local = opened_run(&events(&ok_stdout(run(&xavier(&local_artifacts, &[])))));
    let remote_events = events(&ok_stdout(run(&xavier(
        &remote_artifacts,
        &["--remote", &worker.url, "--token-file", s(&token)],
    ))));
    let remote = opened_run(&remote_events);
    assert!(
        remote.starts_with(&remote_artifacts),
        "{}",
        remote.display()
    );

    let (l, r) = (
        json(&local.join("report.json")),
        json(&remote.join("report.json")),
    );
    assert_eq!(r["backend"], "remote");
    assert!(
        r["device"].as_str().unwrap().contains(&worker.url),
        "{}",
        r["device"]
    );
    let (la, ra) = (
        l["test_accuracy"].as_f64().unwrap(),
        r["test_accuracy"].as_f64().unwrap(),
    );
    println!("test accuracy: local flex {la:.2} %, flex on a worker {ra:.2} %");
    assert!((la - ra).abs() <= 0.5, "local {la} vs remote {ra}");

    // The same files, here: checkpoints, metrics, model, report.
    let names = |run: &Path| -> BTreeSet<String> {
        common::files_under(run)
            .into_iter()
            .map(|(p, _)| p.strip_prefix(run).unwrap().display().to_string())
            .collect()
    };
    assert_eq!(names(&local), names(&remote));

    // Evaluated on the worker, the saved model scores what the run reported.
    let out = command(
        repo(),
        &[
            "eval",
            s(&remote),
            "--test-size",
            "1000",
            "--json",
            "--remote",
            &worker.url,
            "--token-file",
            s(&token),
        ],
    )
    .output()
    .unwrap();
    let eval: Value = serde_json::from_str(&ok_stdout(out)).unwrap();
    assert_eq!(eval["backend"], "remote");
    assert!(
        (eval["accuracy"].as_f64().unwrap() - ra).abs() < 1e-9,
        "{eval}"
    );
}
