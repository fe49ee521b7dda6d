//! Load test for `lab10 serve` on loopback: bounded in requests and time.
//!
//!     lab10 serve &                       # the models to serve, on 127.0.0.1:8010
//!     cargo run --release --example serve_load -- http://127.0.0.1:8010 --pid $!
//!
//! Phase 1: one connection, requests one after another (the latency of one prediction by every
//! served model). Phase 2: `--requests` (10,000) POST /api/predict with real test images over
//! `--concurrency` (16) keep-alive connections. Prints errors, requests/s, latency percentiles
//! and, with `--pid`, the server's resident memory before, between and after (VmRSS) and its
//! peak (VmHWM). Figures are printed, never asserted.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Args {
    url: String,
    requests: usize,
    concurrency: usize,
    sequential: usize,
    pid: Option<u32>,
    deadline: Duration,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8010".into(),
        requests: 10_000,
        concurrency: 16,
        sequential: 1_000,
        pid: None,
        deadline: Duration::from_secs(300),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--requests" => a.requests = value().parse().expect("--requests N"),
            "--concurrency" => a.concurrency = value().parse().expect("--concurrency N"),
            "--sequential" => a.sequential = value().parse().expect("--sequential N"),
            "--pid" => a.pid = Some(value().parse().expect("--pid PID")),
            "--deadline" => {
                a.deadline = Duration::from_secs(value().parse().expect("--deadline SECS"))
            }
            url if url.starts_with("http://") => a.url = url.trim_end_matches('/').into(),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// (VmRSS, VmHWM) in MB.
fn memory(pid: Option<u32>) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

async fn send(client: &HttpClient, url: &str, body: Bytes) -> Result<Duration, String> {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{url}/api/predict"))
        .header("content-type", "application/json")
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let elapsed = started.elapsed();
    if status != StatusCode::OK || !bytes.starts_with(b"{\"input\"") {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
    }
    Ok(elapsed)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn summary(name: &str, mut latencies: Vec<Duration>, errors: &[String], wall: Duration) {
    latencies.sort();
    println!(
        "{name}: {} ok, {} errors in {:.2} s -> {:.0} requests/s; latency ms p50 {:.2}, p90 {:.2}, \
         p99 {:.2}, max {:.2}",
        latencies.len(),
        errors.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    for e in errors.iter().take(5) {
        println!("  error: {e}");
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(a.concurrency)
        .build_http();
    // Real test images as request bodies.
    let mut bodies = Vec::new();
    for index in 0..32 {
        let uri = format!("{}/api/sample?index={index}", a.url);
        let response = client
            .get(uri.parse().unwrap())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}; is lab10 serve running?", a.url));
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let sample: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        bodies.push(Bytes::from(
            serde_json::json!({"pixels": sample["pixels"]}).to_string(),
        ));
    }
    let models: serde_json::Value = serde_json::from_slice(
        &client
            .get(format!("{}/api/models", a.url).parse().unwrap())
            .await
            .unwrap()
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes(),
    )
    .unwrap();
    println!(
        "{}: {} models ({}), {} sequential then {} requests at {} connections",
        a.url,
        models["models"].as_array().map_or(0, Vec::len),
        models["models"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["experiment"].as_str())
            .collect::<Vec<_>>()
            .join(", "),
        a.sequential,
        a.requests,
        a.concurrency
    );
    let before = memory(a.pid);

    let started = Instant::now();
    let (mut latencies, mut errors) = (Vec::new(), Vec::new());
    for i in 0..a.sequential {
        match send(&client, &a.url, bodies[i % bodies.len()].clone()).await {
            Ok(d) => latencies.push(d),
            Err(e) => errors.push(e),
        }
    }
    summary("sequential", latencies, &errors, started.elapsed());
    let between = memory(a.pid);

    let started = Instant::now();
    let deadline = started + a.deadline;
    let per_task = a.requests.div_ceil(a.concurrency);
    let mut tasks = Vec::new();
    for t in 0..a.concurrency {
        let (client, url, bodies) = (client.clone(), a.url.clone(), bodies.clone());
        let n = per_task.min(a.requests.saturating_sub(t * per_task));
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut bad) = (Vec::with_capacity(n), Vec::new());
            for i in 0..n {
                if Instant::now() > deadline {
                    bad.push("deadline passed".to_string());
                    break;
                }
                match send(&client, &url, bodies[(t + i) % bodies.len()].clone()).await {
                    Ok(d) => ok.push(d),
                    Err(e) => bad.push(e),
                }
            }
            (ok, bad)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), Vec::new());
    for task in tasks {
        let (ok, bad) = task.await.unwrap();
        latencies.extend(ok);
        errors.extend(bad);
    }
    summary("concurrent", latencies, &errors, started.elapsed());
    let after = memory(a.pid);
    if let (Some(b), Some(m), Some(f)) = (before, between, after) {
        println!(
            "server memory (VmRSS MB): {:.1} before, {:.1} after the sequential phase, {:.1} after \
             the concurrent one; peak (VmHWM) {:.1}",
            b.0, m.0, f.0, f.1
        );
    }
    if !errors.is_empty() {
        std::process::exit(1);
    }
}
