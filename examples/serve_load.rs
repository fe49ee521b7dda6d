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

// ureq (the HTTP client lab10-data downloads with, so the example adds no crate and no feature
// to the build): one agent per connection, keep-alive, statuses read rather than raised.
fn new_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(1)
        .build()
        .into()
}

fn get_json(agent: &ureq::Agent, url: &str) -> serde_json::Value {
    let text = agent
        .get(url)
        .call()
        .and_then(|mut r| r.body_mut().read_to_string())
        .unwrap_or_else(|e| panic!("{url}: {e}; is lab10 serve running?"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

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

fn send(agent: &ureq::Agent, url: &str, body: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let mut response = agent
        .post(format!("{url}/api/predict"))
        .header("content-type", "application/json")
        .send(body)
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    if status != 200 || !text.starts_with("{\"input\"") {
        return Err(format!("{status}: {text}"));
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

fn main() {
    let a = args();
    let agent = new_agent();
    // Real test images as request bodies.
    let bodies: Vec<String> = (0..32)
        .map(|index| {
            let sample = get_json(&agent, &format!("{}/api/sample?index={index}", a.url));
            serde_json::json!({"pixels": sample["pixels"]}).to_string()
        })
        .collect();
    let models = get_json(&agent, &format!("{}/api/models", a.url));
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
        match send(&agent, &a.url, &bodies[i % bodies.len()]) {
            Ok(d) => latencies.push(d),
            Err(e) => errors.push(e),
        }
    }
    summary("sequential", latencies, &errors, started.elapsed());
    let between = memory(a.pid);

    let started = Instant::now();
    let (latencies, errors) = concurrent(&a, &bodies);
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

/// Phase 2: `--requests` over `--concurrency` threads, one keep-alive connection each, until
/// done or the deadline.
fn concurrent(a: &Args, bodies: &[String]) -> (Vec<Duration>, Vec<String>) {
    let deadline = Instant::now() + a.deadline;
    let per_task = a.requests.div_ceil(a.concurrency);
    // One thread and one keep-alive connection per concurrent client.
    std::thread::scope(|scope| {
        let clients: Vec<_> = (0..a.concurrency)
            .map(|t| {
                let (url, bodies) = (&a.url, &bodies);
                let n = per_task.min(a.requests.saturating_sub(t * per_task));
                scope.spawn(move || {
                    let agent = new_agent();
                    let (mut ok, mut bad) = (Vec::with_capacity(n), Vec::new());
                    for i in 0..n {
                        if Instant::now() > deadline {
                            bad.push("deadline passed".to_string());
                            break;
                        }
                        match send(&agent, url, &bodies[(t + i) % bodies.len()]) {
                            Ok(d) => ok.push(d),
                            Err(e) => bad.push(e),
                        }
                    }
                    (ok, bad)
                })
            })
            .collect();
        let (mut latencies, mut errors) = (Vec::new(), Vec::new());
        for client in clients {
            let (ok, bad) = client.join().unwrap();
            latencies.extend(ok);
            errors.extend(bad);
        }
        (latencies, errors)
    })
}
