//! A real `mlflow server` for the tests (SQLite store, artifacts proxied through the server,
//! on a free loopback port), and reading back through MLflow's REST API what lab10 logged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::needs;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The admin password of [`Server::start_basic_auth`]'s server (user `admin`).
pub const ADMIN_PASSWORD: &str = "pw-Adm1n-5ecret-7d41";

/// A tracking server on a free loopback port; its process group is killed when dropped.
pub struct Server {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    /// MLflow's basic-auth app, and the `Authorization` header of this helper's own calls.
    basic_auth: bool,
    auth: Option<String>,
}

impl Server {
    pub fn start(dir: &Path) -> Self {
        Self::launch(dir, false)
    }

    /// MLflow's basic-auth app (`mlflow server --app-name basic-auth`, its user store in
    /// `dir`): user `admin`, password [`ADMIN_PASSWORD`]; anonymous calls are refused.
    pub fn start_basic_auth(dir: &Path) -> Self {
        needs::python(&["mlflow", "flask_wtf"]);
        Self::launch(dir, true)
    }

    fn launch(dir: &Path, basic_auth: bool) -> Self {
        needs::python(&["mlflow"]);
        std::fs::create_dir_all(dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let auth = basic_auth.then(|| {
            use base64::Engine;
            let pair = format!("admin:{ADMIN_PASSWORD}");
            format!("Basic {}", base64::prelude::BASE64_STANDARD.encode(pair))
        });
        let mut server = Server {
            child: None,
            port,
            dir: dir.to_path_buf(),
            basic_auth,
            auth,
        };
        server.restart();
        server
    }

    /// Starts the server (again) on the same port and store.
    pub fn restart(&mut self) {
        use std::os::unix::process::CommandExt;
        let log = std::fs::File::create(self.dir.join("server.log")).unwrap();
        let mut command = Command::new("mlflow");
        if self.basic_auth {
            let ini = self.dir.join("basic_auth.ini");
            let store = format!("sqlite:///{}", self.dir.join("auth.db").display());
            std::fs::write(
                &ini,
                format!(
                    "[mlflow]\ndefault_permission = READ\ndatabase_uri = {store}\n\
                     admin_username = admin\n\
                     authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
                ),
            )
            .unwrap();
            command
                .args(["server", "--app-name", "basic-auth"])
                .env("MLFLOW_AUTH_CONFIG_PATH", &ini)
                .env("MLFLOW_AUTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
                .env("MLFLOW_FLASK_SERVER_SECRET_KEY", "lab10-test-csrf-key");
        } else {
            command.arg("server");
        }
        let child = command
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--workers",
                "1",
                "--backend-store-uri",
                &format!("sqlite:///{}", self.dir.join("mlflow.db").display()),
                "--artifacts-destination",
                s(&self.dir.join("artifacts")),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("mlflow server starts (pip install mlflow)");
        self.child = Some(child);
        let start = Instant::now();
        while ureq::get(format!("{}/health", self.uri())).call().is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "mlflow server did not answer within 90 s: {}",
                std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Kills the server at once (SIGKILL to its process group): a server lost mid-run.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = child.id() as libc::pid_t;
            assert!(group > 1);
            // SAFETY: kill(2) on the server's own process group (it was started as its leader).
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
            let _ = child.wait();
        }
    }

    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where the server keeps every artifact it was sent.
    pub fn artifacts_dir(&self) -> PathBuf {
        self.dir.join("artifacts")
    }

    /// `request` with this helper's credentials (the basic-auth app's admin).
    fn authorized<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.auth {
            Some(value) => request.header("Authorization", value),
            None => request,
        }
    }

    pub fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Value {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.uri());
        let mut request = self.authorized(ureq::get(url));
        for (k, v) in query {
            request = request.query(*k, *v);
        }
        let text = request
            .call()
            .unwrap_or_else(|e| panic!("{endpoint}: {e}"))
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    pub fn post(&self, endpoint: &str, body: Value) -> Value {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.uri());
        let text = self
            .authorized(ureq::post(url))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{endpoint}: {e}"))
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// The runs of the MLflow experiment `name`.
    pub fn runs(&self, experiment: &str) -> Vec<Value> {
        let id = self.get(
            "experiments/get-by-name",
            &[("experiment_name", experiment)],
        )["experiment"]["experiment_id"]
            .clone();
        let found = self.post(
            "runs/search",
            serde_json::json!({"experiment_ids": [id], "max_results": 1000}),
        );
        found["runs"].as_array().cloned().unwrap_or_default()
    }

    pub fn run(&self, run_id: &str) -> Value {
        self.get("runs/get", &[("run_id", run_id)])["run"].clone()
    }

    /// Every point of a metric: (step, value).
    pub fn history(&self, run_id: &str, key: &str) -> Vec<(i64, f64)> {
        let got = self.get(
            "metrics/get-history",
            &[("run_id", run_id), ("metric_key", key)],
        );
        let mut points: Vec<(i64, f64)> = got["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (int(&m["step"]), number(&m["value"])))
            .collect();
        points.sort_by_key(|p| p.0);
        points
    }

    /// The bytes of an artifact, through the server's proxy.
    pub fn artifact(&self, run: &Value, path: &str) -> Vec<u8> {
        let info = &run["info"];
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{}/{}/artifacts/{path}",
            self.uri(),
            info["experiment_id"].as_str().unwrap(),
            info["run_id"].as_str().unwrap()
        );
        self.authorized(ureq::get(url))
            .call()
            .unwrap()
            .body_mut()
            .with_config()
            .limit(100 << 20)
            .read_to_vec()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap()
}

pub fn number(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap()
}

pub fn pairs(list: &Value) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["key"].as_str().unwrap().to_string(),
                p["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
