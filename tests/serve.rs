//! `lab10 serve`, as a person and a client would use it: the real binary on 127.0.0.1, its
//! JSON API with every kind of bad request, and the page in headless Chromium.
#![cfg(feature = "flex")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{command, data_dir, needs, ok_stdout, refused, repo};
use serde_json::{Value, json};

/// softmax, xavier and dropout, one epoch on the full training set (a few seconds on flex):
/// enough for xavier and dropout to read a clearly drawn 1.
fn artifacts() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        for experiment in ["softmax", "xavier", "dropout"] {
            ok_stdout(
                command(
                    repo(),
                    &[
                        "train",
                        experiment,
                        "--epochs",
                        "1",
                        "--test-size",
                        "2000",
                        "--backend",
                        "flex",
                        "--artifacts",
                        dir.to_str().unwrap(),
                        "--data-dir",
                        data_dir().to_str().unwrap(),
                    ],
                )
                .output()
                .unwrap(),
            );
        }
        dir
    })
}

/// A running `lab10 serve`, stopped when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let data = data_dir();
        let mut args = vec![
            "serve",
            "--artifacts",
            artifacts().to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let mut child = command(repo(), &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in the start-up line: {line:?}"))
            .parse()
            .unwrap();
        Server { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// One HTTP/1.1 exchange on a fresh connection: (status, body).
    fn raw(&self, request: &[u8]) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        // Written from another thread: the server may answer (413) before reading it all.
        let mut writer = s.try_clone().unwrap();
        let request = request.to_vec();
        let sending = std::thread::spawn(move || {
            let _ = writer.write_all(&request);
        });
        let mut bytes = Vec::new();
        let _ = s.read_to_end(&mut bytes);
        let _ = sending.join();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        (status, body)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let (status, body) = self
            .raw(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
        (status, json_of(&body))
    }

    fn post(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: \
             {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        let (status, body) = self.raw(&request);
        (status, json_of(&body))
    }

    fn predict(&self, body: &Value) -> (u16, Value) {
        self.post(
            "/api/predict",
            "application/json",
            body.to_string().as_bytes(),
        )
    }

    fn healthy(&self) -> bool {
        self.get("/healthz") == (200, json!({"status": "ok"}))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"))
}

/// A 4xx with `{"error": "..."}` that mentions `needle`.
fn refused_with(answer: (u16, Value), status: u16, needle: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    let message = answer.1["error"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{needle:?} not in {message:?}");
}

fn sample(server: &Server, index: usize) -> Value {
    let (status, s) = server.get(&format!("/api/sample?index={index}"));
    assert_eq!(status, 200, "{s}");
    s
}

#[test]
fn the_api_lists_the_models_and_predicts_with_each() {
    let server = Server::start(&[]);
    let (status, models) = server.get("/api/models");
    assert_eq!(status, 200);
    assert_eq!(models["dataset"], "mnist");
    assert_eq!(models["test_images"], 10000);
    let names: Vec<&str> = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["experiment"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["softmax", "xavier", "dropout"]);
    for m in models["models"].as_array().unwrap() {
        let run = Path::new(m["run"].as_str().unwrap());
        assert!(run.join("model.bpk").is_file());
        let report = common::json(&run.join("report.json"));
        assert_eq!(m["test_accuracy"], report["test_accuracy"], "{m}");
    }

    // A test image, as given: every model answers, probabilities sum to 1, and the trained
    // models mostly read the labels right.
    let mut right = 0;
    for index in 0..20 {
        let s = sample(&server, index);
        let (status, answer) = server.predict(&json!({"pixels": s["pixels"]}));
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["input"], s["pixels"],
            "pixels go to the models as they are"
        );
        let predictions = answer["models"].as_array().unwrap();
        assert_eq!(predictions.len(), 3);
        for p in predictions {
            let probs: Vec<f64> = serde_json::from_value(p["probabilities"].clone()).unwrap();
            assert_eq!(probs.len(), 10);
            assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-4, "{p}");
            let best = (0..10)
                .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
                .unwrap();
            assert_eq!(p["predicted"], best);
            if p["experiment"] == "xavier" && p["predicted"] == s["label"] {
                right += 1;
            }
        }
    }
    assert!(
        right >= 17,
        "xavier read only {right} of 20 test images right"
    );

    // A drawing on a canvas is prepared as MNIST was: a test image drawn 10x larger in a
    // corner of a 400x400 canvas comes back centred, and is read the same way.
    let s = sample(&server, 0);
    let pixels: Vec<f64> = serde_json::from_value(s["pixels"].clone()).unwrap();
    let mut ink = vec![0.0; 400 * 400];
    for y in 0..280 {
        for x in 0..280 {
            ink[y * 400 + x] = (pixels[(y / 10) * 28 + x / 10] * 255.0).round();
        }
    }
    let (status, answer) =
        server.predict(&json!({"canvas": {"width": 400, "height": 400, "ink": ink}}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["input"].as_array().unwrap().len(), 784);
    let xavier = &answer["models"][1];
    assert_eq!(xavier["experiment"], "xavier");
    assert_eq!(xavier["predicted"], s["label"], "{answer}");
    // A blank canvas: nothing to read, and no error.
    let (status, answer) =
        server.predict(&json!({"canvas": {"width": 28, "height": 28, "ink": vec![0; 784]}}));
    assert_eq!(
        (status, answer),
        (200, json!({"input": null, "models": []}))
    );

    let (status, page) = server.raw(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 200);
    assert!(page.contains("<canvas id=\"pad\""));
    for external in ["http://", "https://", "//cdn", "@import"] {
        assert!(
            !page.contains(external),
            "the page must work offline: {external}"
        );
    }
}

#[test]
fn bad_requests_get_a_clear_4xx_and_the_server_keeps_serving() {
    let server = Server::start(&["--timeout", "1"]);
    let zeros = vec![0.0; 784];
    refused_with(
        server.predict(&json!({"pixels": vec![0.5; 783]})),
        422,
        "783 values; expected 784",
    );
    let mut high = zeros.clone();
    high[5] = 1.5;
    refused_with(
        server.predict(&json!({"pixels": high})),
        422,
        "pixels[5] is 1.5",
    );
    let mut negative = zeros.clone();
    negative[0] = -0.1;
    refused_with(
        server.predict(&json!({"pixels": negative})),
        422,
        "in [0, 1]",
    );
    // JSON has no NaN: a body that writes it is not JSON.
    let nan = format!("{{\"pixels\": [NaN{}]}}", ", 0".repeat(783));
    refused_with(
        server.post("/api/predict", "application/json", nan.as_bytes()),
        400,
        "",
    );
    refused_with(
        server.post("/api/predict", "application/json", b"not json"),
        400,
        "",
    );
    refused_with(
        server.predict(&json!({"pixels": "a string"})),
        422,
        "pixels",
    );
    refused_with(server.predict(&json!({})), 422, "exactly one of");
    refused_with(
        server.predict(&json!({"pixels": zeros, "canvas": {"width": 1, "height": 1, "ink": [0]}})),
        422,
        "exactly one of",
    );
    refused_with(
        server.predict(&json!({"pixel": zeros})),
        422,
        "unknown field",
    );
    refused_with(
        server.predict(&json!({"canvas": {"width": 10, "height": 10, "ink": vec![0; 99]}})),
        422,
        "canvas.ink has 99 values",
    );
    refused_with(
        server.predict(&json!({"canvas": {"width": 5000, "height": 1, "ink": []}})),
        422,
        "each side must be 1 to 1024",
    );
    refused_with(
        server.predict(&json!({"canvas": {"width": 2, "height": 1, "ink": [0, 256]}})),
        422,
        "canvas.ink[1] is 256",
    );
    refused_with(
        server.post(
            "/api/predict",
            "text/plain",
            json!({"pixels": zeros}).to_string().as_bytes(),
        ),
        415,
        "Content-Type: application/json",
    );
    let huge = format!("{{\"pixels\": [{}0]}}", "0.000000, ".repeat(200_000));
    refused_with(
        server.post("/api/predict", "application/json", huge.as_bytes()),
        413,
        "larger than",
    );
    refused_with(server.get("/api/nothing"), 404, "no such path");
    refused_with(
        server.get("/api/sample?index=10000"),
        404,
        "past the test set's 10000 images",
    );
    refused_with(server.get("/api/sample?index=-1"), 400, "?index=N");
    refused_with(server.get("/api/sample"), 400, "?index=N");
    let (status, _) =
        server.raw(b"GET /api/predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 405);

    // A client that sends half a body and stalls gets a 408 after --timeout.
    let started = Instant::now();
    let (status, body) = server.raw(
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
          Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"pixels\": [",
    );
    assert_eq!(status, 408, "{body}");
    assert!(
        json_of(&body)["error"]
            .as_str()
            .unwrap()
            .contains("within 1 s")
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // Clients that vanish mid-request, or hold a connection open without a word.
    for _ in 0..20 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n[1,")
            .unwrap();
    }
    let _silent = TcpStream::connect(server.addr).unwrap();
    assert!(server.healthy(), "still serving after every bad request");
    let s = sample(&server, 3);
    assert_eq!(server.predict(&json!({"pixels": s["pixels"]})).0, 200);
}

#[test]
fn serve_refuses_what_it_cannot_serve() {
    let empty = tempfile::tempdir().unwrap();
    let err = refused(
        command(
            repo(),
            &["serve", "--artifacts", empty.path().to_str().unwrap()],
        )
        .output()
        .unwrap(),
    );
    assert!(
        err.contains("no completed mnist runs") && err.contains("lab10 train"),
        "{err}"
    );
    let err = refused(
        command(
            repo(),
            &[
                "serve",
                "xavier",
                "--artifacts",
                empty.path().to_str().unwrap(),
            ],
        )
        .output()
        .unwrap(),
    );
    assert!(err.contains("xavier"), "{err}");
    let err = refused(
        command(
            repo(),
            &[
                "serve",
                "--timeout",
                "0",
                "--artifacts",
                artifacts().to_str().unwrap(),
            ],
        )
        .output()
        .unwrap(),
    );
    assert!(err.contains("--timeout"), "{err}");
    // The port is taken: one message naming it.
    let server = Server::start(&[]);
    let taken = server.addr.to_string();
    let err = refused(
        command(
            repo(),
            &[
                "serve",
                "--listen",
                &taken,
                "--artifacts",
                artifacts().to_str().unwrap(),
                "--data-dir",
                data_dir().to_str().unwrap(),
            ],
        )
        .output()
        .unwrap(),
    );
    assert!(err.contains(&taken) && err.contains("--listen"), "{err}");
}

/// The page in headless Chromium, driven by Playwright (tests/browser/draw.py): strokes drawn
/// with the mouse, every model's bars, "random test digit", a screenshot. Needs `chromium` and
/// Python's `playwright` (`.ci/run` installs both).
#[test]
#[ignore = "needs chromium and Python's playwright: apt-get install chromium; pip install playwright"]
fn a_person_draws_digits_in_a_real_browser() {
    needs::browser();
    let server = Server::start(&[]);
    let shot = repo().join("target/serve-page.png");
    let out = std::process::Command::new("python3")
        .arg(repo().join("tests/browser/draw.py"))
        .arg(server.url())
        .arg(&shot)
        .output()
        .unwrap();
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    let result: Value = json_of(text.lines().rev().find(|l| l.starts_with('{')).unwrap());
    for drawn in ["1", "7"] {
        let rows = result[drawn].as_array().unwrap();
        assert_eq!(rows.len(), 3, "{result}");
        for row in rows {
            let sum = row["sum"].as_f64().unwrap();
            assert!((sum - 1.0).abs() < 1e-3, "{drawn}: {row}");
        }
    }
    for model in ["xavier", "dropout"] {
        let row = result["1"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["model"] == model)
            .unwrap();
        assert_eq!(row["predicted"], "1", "{model} read the drawn 1 as {row}");
    }
    let label = result["sample"]["label"].as_str().unwrap();
    assert!(label.parse::<u8>().is_ok(), "{result}");
    assert!(
        result["sample"]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("label {label}")),
        "{result}"
    );
    assert!(shot.is_file());
}
