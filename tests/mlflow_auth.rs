//! MLflow as teams run it, against real servers on loopback: MLflow's basic-auth app, a
//! bearer-token gate and https with a CA made here (a few lines of Python in front of a plain
//! `mlflow server`). Right credentials log whole runs (and their models, which `mlflow models
//! predict` serves with lab10's classes, and the registry lists); wrong or missing ones are
//! refused before anything is trained; no credential is left in any file. (Slurm tasks with
//! credentials: tests/slurm.rs.)

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::mlflow::{ADMIN_PASSWORD, Server, pairs};
use common::{
    assert_nowhere, command, data_dir, json, needs, ok_stdout, output_text, refused, repo,
    run_line, wait_for_epoch_2, xavier_args,
};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An experiments folder with softmax and xavier and a group of both, seeds 1 and 2.
fn experiments(dir: &Path) -> PathBuf {
    let e = dir.join("experiments");
    std::fs::create_dir_all(e.join("groups")).unwrap();
    for name in ["softmax", "xavier"] {
        let file = format!("{name}.toml");
        std::fs::copy(repo().join("experiments").join(&file), e.join(&file)).unwrap();
    }
    let group = "description = \"two\"\nexperiments = [\"softmax\", \"xavier\"]\nseeds = [1, 2]\n";
    std::fs::write(e.join("groups/tiny.toml"), group).unwrap();
    e
}

/// `lab10 ARGS` with small data, the test's experiments and `env` set.
fn lab10(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let (e, data, artifacts) = (dir.join("experiments"), data_dir(), dir.join("runs"));
    let mut all = vec!["--experiments", s(&e), "--data-dir", s(&data)];
    all.extend(["--artifacts", s(&artifacts)]);
    all.extend_from_slice(args);
    if args[0] == "train" {
        all.extend([
            "--epochs",
            "1",
            "--train-size",
            "2000",
            "--test-size",
            "500",
        ]);
    }
    command(dir, &all)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The MLflow run id a run folder records.
fn run_id_of(run: &Path) -> String {
    json(&run.join("mlflow.json"))["runs"][0]["run_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The classes `mlflow models predict` gives `model` (a `runs:/` URI) on the first 1,000
/// MNIST test images (raw 0-255 pixels, as the signature says), with `env` for the server.
fn mlflow_classes(dir: &Path, model: &str, env: &[(&str, &str)]) -> Vec<usize> {
    let (input, output) = (dir.join("pixels.json"), dir.join("predicted.json"));
    let write = format!(
        "import gzip, json, numpy as np\n\
         raw = gzip.open('{}').read()\n\
         x = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784)[:1000]\n\
         json.dump({{'inputs': x.astype(float).tolist()}}, open('{}', 'w'))\n",
        data_dir().join("t10k-images-idx3-ubyte.gz").display(),
        input.display()
    );
    let wrote = Command::new("python3")
        .args(["-c", &write])
        .output()
        .unwrap();
    assert!(wrote.status.success(), "{}", output_text(&wrote));
    let predicted = Command::new("mlflow")
        .args([
            "models",
            "predict",
            "-m",
            model,
            "--env-manager",
            "local",
            "-t",
            "json",
        ])
        .args(["-i", s(&input), "-o", s(&output)])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(predicted.status.success(), "{}", output_text(&predicted));
    let got = json(&output);
    argmax(&got["predictions"]["probabilities"])
}

fn argmax(rows: &Value) -> Vec<usize> {
    let rows = rows.as_array().unwrap_or_else(|| panic!("no rows: {rows}"));
    rows.iter()
        .map(|row| {
            let row: Vec<f64> = row
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap()
        })
        .collect()
}

#[test]
#[ignore = "needs Python's mlflow with its auth app: pip install mlflow \"mlflow[auth]\""]
fn a_basic_auth_server_gets_runs_models_and_versions_with_credentials_written_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    experiments(dir);
    let server = Server::start_basic_auth(&dir.join("mlflow"));
    let uri = server.uri();
    let with_user = uri.replace("http://", &format!("http://admin:{ADMIN_PASSWORD}@"));
    let env_user = [
        ("MLFLOW_TRACKING_USERNAME", "admin"),
        ("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD),
    ];

    // Without credentials, or wrong ones: refused before anything is trained.
    let wrong = [
        ("MLFLOW_TRACKING_USERNAME", "admin"),
        ("MLFLOW_TRACKING_PASSWORD", "nope"),
    ];
    for env in [&[][..], &wrong[..]] {
        let err = refused(lab10(dir, &["train", "xavier", "--mlflow", &uri], env));
        assert!(
            err.contains(&format!(
                "the server at {uri} refused these credentials (HTTP 401): set \
                 MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN"
            )) && err.contains("nothing was trained"),
            "{err}"
        );
        assert!(!dir.join("runs/xavier").exists());
    }

    // MLflow's variables: the whole run, its model, and a registered version with its tags.
    let args = ["train", "xavier", "--mlflow", &uri, "--register", "digits"];
    let out = ok_stdout(lab10(dir, &args, &env_user));
    let run = run_line(&out).unwrap();
    let run = if run.is_absolute() {
        run
    } else {
        dir.join(run)
    };
    let report = json(&run.join("report.json"));
    let id = run_id_of(&run);
    let logged = server.run(&id);
    assert_eq!(logged["info"]["status"], "FINISHED", "{logged}");
    for file in ["report.json", "model/MLmodel", "model/model.onnx"] {
        let sent = server.artifact(&logged, file);
        assert_eq!(sent, std::fs::read(run.join(file)).unwrap(), "{file}");
    }
    assert!(out.contains("as version 1 of model 'digits'"), "{out}");
    let versions = server.get("model-versions/search", &[("filter", "name='digits'")]);
    let version = &versions["model_versions"][0];
    assert_eq!(version["source"], format!("runs:/{id}/model"), "{versions}");
    let tags = pairs(&version["tags"]);
    assert_eq!(tags["lab10.run_id"], report["run_id"].as_str().unwrap());
    let accuracy: f64 = tags["lab10.test_accuracy"].parse().unwrap();
    assert_eq!(accuracy, report["test_accuracy"].as_f64().unwrap());

    // `mlflow models predict` on the logged model: lab10's own classes, image by image.
    let mut eval = ["eval", s(&run), "--json", "--logits", "1000"]
        .map(String::from)
        .to_vec();
    eval.extend(["--data-dir".into(), s(&data_dir()).into()]);
    let eval: Vec<&str> = eval.iter().map(String::as_str).collect();
    let evaluated: Value =
        serde_json::from_str(&ok_stdout(command(dir, &eval).output().unwrap())).unwrap();
    let mut env = env_user.to_vec();
    env.push(("MLFLOW_TRACKING_URI", &uri));
    let served = mlflow_classes(dir, &format!("runs:/{id}/model"), &env);
    assert_eq!(served.len(), 1000);
    assert_eq!(served, argmax(&evaluated["logits"]));

    // The password in the URI: a run and a `--jobs 2` group (nested runs from the children),
    // then `lab10 mlflow register` of a run trained without MLflow (sent, model and all).
    ok_stdout(lab10(
        dir,
        &["train", "softmax", "--mlflow", &with_user],
        &[],
    ));
    ok_stdout(lab10(
        dir,
        &[
            "train", "--group", "tiny", "--jobs", "2", "--mlflow", &with_user,
        ],
        &[],
    ));
    let runs = server.runs("lab10/groups/tiny");
    assert_eq!(runs.len(), 5, "a parent and four members: {runs:?}");
    assert!(
        runs.iter().all(|r| r["info"]["status"] == "FINISHED"),
        "{runs:?}"
    );
    let out = ok_stdout(lab10(dir, &["train", "softmax", "--seed", "9"], &[]));
    let plain = run_line(&out).unwrap();
    let plain = if plain.is_absolute() {
        plain
    } else {
        dir.join(plain)
    };
    let args = [
        "mlflow",
        "register",
        s(&plain),
        "digits",
        "--mlflow",
        &with_user,
    ];
    let out = ok_stdout(lab10(dir, &args, &[]));
    assert!(out.contains("as version 2 of model 'digits'"), "{out}");
    assert!(plain.join("model/MLmodel").is_file());
    let commands: Vec<String> = std::fs::read_dir(dir.join("runs/softmax"))
        .unwrap()
        .map(|e| e.unwrap().path().join("report.json"))
        .filter(|p| p.is_file())
        .map(|p| json(&p)["command"].as_str().unwrap().to_string())
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c.contains(&format!("--mlflow {uri}"))),
        "{commands:?}"
    );

    // The password is in no file lab10 wrote, nor in anything the server was sent.
    assert_nowhere(ADMIN_PASSWORD, &[dir.join("runs"), server.artifacts_dir()]);
}

/// The bearer-token gate: every call needs `Authorization: Bearer TOKEN` (TOKEN: what the file
/// `token` says now), else 401; https with `cert` and `key`, in front of a plain `mlflow
/// server` at `upstream`.
const GATE: &str = r#"
import http.server, ssl, sys, urllib.error, urllib.request
upstream, port, token, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
class Gate(http.server.BaseHTTPRequestHandler):
    def go(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Authorization") != "Bearer " + open(token).read():
            status, data, kind = 401, b"token required", "text/plain"
        else:
            request = urllib.request.Request(upstream + self.path, data=body or None, method=self.command)
            if self.headers.get("Content-Type"):
                request.add_header("Content-Type", self.headers["Content-Type"])
            try:
                answer = urllib.request.urlopen(request)
            except urllib.error.HTTPError as e:
                answer = e
            status, data, kind = answer.status, answer.read(), answer.headers.get("Content-Type", "text/plain")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_PUT = go
    def log_message(self, *args):
        pass
gate = http.server.ThreadingHTTPServer(("127.0.0.1", port), Gate)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
gate.socket = context.wrap_socket(gate.socket, server_side=True)
gate.serve_forever()
"#;

/// A CA and a certificate for 127.0.0.1 it signed, made with openssl in `dir`: (ca, cert, key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output();
        let out = out.unwrap_or_else(|_| needs::missing("openssl", "apt-get install openssl"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            output_text(&out)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
            &[
                "-subj",
                "/CN=lab10 test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
            ],
            &["-addext", "keyUsage=critical,keyCertSign"],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

/// The gate, killed when dropped.
struct Gate(Child);

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs Python's mlflow and openssl: pip install mlflow"]
fn a_token_gate_over_https_with_a_private_ca_takes_the_token_and_the_ca_from_mlflows_variables() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    experiments(dir);
    let server = Server::start(&dir.join("mlflow"));
    let (ca, cert, key) = certificates(dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (token, token_file) = ("tok-9f3e-lab10-bearer", dir.join("token"));
    std::fs::write(&token_file, token).unwrap();
    let gate = Command::new("python3")
        .args(["-c", GATE, &server.uri(), &port.to_string(), s(&token_file)])
        .args([s(&cert), s(&key)])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let _gate = Gate(gate);
    let uri = format!("https://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the gate did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let ca_env = ("MLFLOW_TRACKING_SERVER_CERT_PATH", s(&ca));
    let token_env = ("MLFLOW_TRACKING_TOKEN", token);

    // Not our CA: the certificate problem and the variable that fixes it; nothing trained.
    let err = refused(lab10(
        dir,
        &["train", "xavier", "--mlflow", &uri],
        &[token_env],
    ));
    assert!(
        err.contains(&format!("no TLS connection to {uri}"))
            && err.contains("UnknownIssuer")
            && err.contains("MLFLOW_TRACKING_SERVER_CERT_PATH")
            && err.contains("nothing was trained"),
        "{err}"
    );
    // Our CA, no token: refused as credentials, not as an absent server.
    let err = refused(lab10(
        dir,
        &["train", "xavier", "--mlflow", &uri],
        &[ca_env],
    ));
    assert!(
        err.contains("refused these credentials (HTTP 401)"),
        "{err}"
    );
    assert!(!dir.join("runs/xavier").exists());

    // Both: the run and its model arrive; `sync` without verification gets another one there.
    ok_stdout(lab10(
        dir,
        &["train", "xavier", "--mlflow", &uri],
        &[ca_env, token_env],
    ));

    // The token revoked mid-run: one warning, the run finishes; `sync` with the new one
    // completes the MLflow run.
    let log = dir.join("stdout.txt");
    let mut args = xavier_args(&dir.join("revoked"));
    args.extend(["--data-dir", s(&data_dir()), "--mlflow", &uri].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = command(repo(), &args)
        .envs([ca_env, token_env])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run = wait_for_epoch_2(|| run_line(&std::fs::read_to_string(&log).ok()?));
    std::fs::write(&token_file, "tok-new").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warning = "refused these credentials (HTTP 401): set MLFLOW_TRACKING_USERNAME/PASSWORD \
                   or MLFLOW_TRACKING_TOKEN. Training goes on without MLflow";
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
    assert_eq!(stderr.matches("Training goes on").count(), 1, "{stderr}");
    let args = ["mlflow", "sync", s(&run), "--mlflow", &uri];
    let new_token = ("MLFLOW_TRACKING_TOKEN", "tok-new");
    ok_stdout(lab10(dir, &args, &[ca_env, new_token]));
    let id = json(&run.join("mlflow.json"))["runs"][0]["run_id"].clone();
    let id = id.as_str().unwrap();
    assert_eq!(server.run(id)["info"]["status"], "FINISHED");
    assert_eq!(server.history(id, "train/loss").len(), 3);
    std::fs::write(&token_file, token).unwrap();
    let out = ok_stdout(lab10(dir, &["train", "softmax"], &[]));
    let plain = run_line(&out).unwrap();
    let plain = if plain.is_absolute() {
        plain
    } else {
        dir.join(plain)
    };
    let insecure = ("MLFLOW_TRACKING_INSECURE_TLS", "true");
    let args = ["mlflow", "sync", s(&plain), "--mlflow", &uri];
    let out = ok_stdout(lab10(dir, &args, &[insecure, token_env]));
    assert!(out.contains("sent"), "{out}");
    for (experiment, n) in [("lab10/xavier", 2), ("lab10/softmax", 1)] {
        let runs = server.runs(experiment);
        assert_eq!(runs.len(), n, "{runs:?}");
        for run in &runs {
            assert_eq!(run["info"]["status"], "FINISHED");
            assert!(!server.artifact(run, "model/MLmodel").is_empty());
        }
    }
    let dirs = [
        dir.join("runs"),
        dir.join("revoked"),
        server.artifacts_dir(),
    ];
    assert_nowhere(token, &dirs);
}
