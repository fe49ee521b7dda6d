//! MLflow's REST API, the few calls lab10 makes (`/api/2.0/mlflow/...` and the server's
//! artifact proxy, `/api/2.0/mlflow-artifacts/...`), over ureq. Every call has deadlines, so a
//! server that stops answering costs a bounded wait per call.

use std::time::Duration;

use serde_json::{Value, json};

/// What can go wrong between lab10 and a tracking server, told apart by kind.
#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    /// A tracking URI that is no server (`file:`, `sqlite:`, `databricks`).
    #[error(
        "MLflow tracking URI '{0}' is not an http(s) server: lab10 logs through a tracking \
         server's REST API. Start one (`mlflow server --host 127.0.0.1 --port 5000`) and pass \
         --mlflow http://127.0.0.1:5000 (or set MLFLOW_TRACKING_URI to it)"
    )]
    NotHttp(String),
    /// Nothing that speaks MLflow answered at the start.
    #[error(
        "no MLflow tracking server answers at {uri} ({cause}). Start it (`mlflow server \
         --host 127.0.0.1 --port 5000`) or fix --mlflow / MLFLOW_TRACKING_URI"
    )]
    Unreachable {
        uri: String,
        cause: Box<MlflowError>,
    },
    /// The request or its answer did not get through.
    #[error("{url}: {detail}")]
    Transport { url: String, detail: String },
    /// The server answered with an error (`code`: MLflow's `error_code`, if it said one).
    #[error("{url} answered {status}: {code}: {message}")]
    Api {
        url: String,
        status: u16,
        code: String,
        message: String,
    },
    /// The server answered, but not what lab10 can use.
    #[error("{0}")]
    Server(String),
    /// The run's folder, read for what is sent.
    #[error(transparent)]
    Run(#[from] lab10_runs::Error),
}

impl MlflowError {
    /// MLflow's `error_code` of an API error (`RESOURCE_DOES_NOT_EXIST`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            MlflowError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl From<MlflowError> for lab10_runs::Error {
    fn from(e: MlflowError) -> Self {
        match e {
            MlflowError::Run(e) => e,
            other => lab10_runs::Error::Tracking(other.to_string()),
        }
    }
}

pub type Result<T, E = MlflowError> = std::result::Result<T, E>;

/// MLflow's `error_code` for a run or experiment it does not have.
pub(crate) const NOT_FOUND: &str = "RESOURCE_DOES_NOT_EXIST";

/// Connecting, and waiting for an answer once the request is sent.
const CONNECT: Duration = Duration::from_secs(10);
const ANSWER: Duration = Duration::from_secs(30);
/// Sending or receiving a body (a model file through a slow link).
const BODY: Duration = Duration::from_secs(300);

/// MLflow's limits on one `runs/log-batch` call.
pub(crate) const MAX_METRICS_PER_BATCH: usize = 1000;
pub(crate) const MAX_PARAMS_PER_BATCH: usize = 100;

/// A tracking server, `http://HOST:PORT` (a path prefix is kept: `http://host/mlflow`).
#[derive(Clone)]
pub(crate) struct Client {
    pub uri: String,
    agent: ureq::Agent,
}

impl Client {
    /// The server at `uri`, once it answered: an unreachable one, or a URI MLflow's local
    /// stores use (`file:`, `sqlite:`, `databricks`), is one error naming it.
    pub fn connect(uri: &str) -> Result<Self> {
        let base = uri.trim_end_matches('/').to_string();
        if !is_http(&base) {
            return Err(MlflowError::NotHttp(uri.into()));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT))
            .timeout_recv_response(Some(ANSWER))
            .timeout_send_body(Some(BODY))
            .timeout_recv_body(Some(BODY))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let client = Self { uri: base, agent };
        // An MLflow server answers this (and a web server that is not MLflow does not).
        client
            .get("experiments/search", &[("max_results", "1")])
            .map_err(|e| MlflowError::Unreachable {
                uri: uri.into(),
                cause: Box::new(e),
            })?;
        Ok(client)
    }

    /// `GET /api/2.0/mlflow/<endpoint>?<query>`.
    pub fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<Value> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.uri);
        let mut request = self.agent.get(&url);
        for (k, v) in query {
            request = request.query(*k, *v);
        }
        answer(&url, request.call())
    }

    /// `POST /api/2.0/mlflow/<endpoint>` with a JSON body.
    pub fn post(&self, endpoint: &str, body: &Value) -> Result<Value> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.uri);
        let bytes = serde_json::to_vec(body).expect("JSON values serialise");
        answer(
            &url,
            self.agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(&bytes[..]),
        )
    }

    /// Uploads `bytes` as the artifact `path` of the run whose artifacts are at `root` in the
    /// server's artifact proxy (`mlflow server`'s default, `--serve-artifacts`).
    pub fn put_artifact(&self, root: &str, path: &str, bytes: &[u8]) -> Result<()> {
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{root}/{path}",
            self.uri
        );
        answer(&url, self.agent.put(&url).send(bytes)).map(|_| ())
    }

    /// The bytes of the run's artifact `path`, if the server holds it.
    pub fn get_artifact(&self, root: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{root}/{path}",
            self.uri
        );
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| transport(&url, e))?;
        match response.status().as_u16() {
            404 => Ok(None),
            200 => response
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .map(Some)
                .map_err(|e| transport(&url, e)),
            status => Err(MlflowError::Api {
                url,
                status,
                code: String::new(),
                message: "the artifact could not be read".into(),
            }),
        }
    }

    /// The experiment called `name`, created if the server has none (or found again, when
    /// another process created it meanwhile). A deleted one is an error saying so.
    pub fn experiment_id(&self, name: &str) -> Result<String> {
        let found = match self.get("experiments/get-by-name", &[("experiment_name", name)]) {
            Ok(found) => found,
            Err(e) if e.code() == Some(NOT_FOUND) => {
                match self.post("experiments/create", &json!({ "name": name })) {
                    Ok(created) => return self.id_of(&created["experiment_id"], "experiment"),
                    Err(e) if e.code() == Some("RESOURCE_ALREADY_EXISTS") => {
                        self.get("experiments/get-by-name", &[("experiment_name", name)])?
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let experiment = &found["experiment"];
        if experiment["lifecycle_stage"] == "deleted" {
            return Err(MlflowError::Server(format!(
                "the MLflow experiment '{name}' on {} is deleted: restore it (`mlflow \
                 experiments restore --experiment-id {}`) or log to another one \
                 (MLFLOW_EXPERIMENT_NAME)",
                self.uri,
                experiment["experiment_id"].as_str().unwrap_or("?")
            )));
        }
        self.id_of(&experiment["experiment_id"], "experiment")
    }

    /// An id the server answered, or an error naming the server.
    pub fn id_of(&self, value: &Value, what: &str) -> Result<String> {
        value.as_str().map(String::from).ok_or_else(|| {
            MlflowError::Server(format!(
                "the MLflow server at {} answered no {what} id",
                self.uri
            ))
        })
    }

    /// Every point the server holds of the run's metric `key`: (step, value).
    pub fn history(&self, run_id: &str, key: &str) -> Result<Vec<(i64, f64)>> {
        let mut points = Vec::new();
        let mut token = String::new();
        loop {
            let mut query = vec![("run_id", run_id), ("metric_key", key)];
            if !token.is_empty() {
                query.push(("page_token", &token));
            }
            let page = self.get("metrics/get-history", &query)?;
            for m in page["metrics"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                points.push((as_i64(&m["step"]), as_f64(&m["value"])));
            }
            match page["next_page_token"].as_str() {
                Some(next) if !next.is_empty() => token = next.to_string(),
                _ => return Ok(points),
            }
        }
    }
}

/// The JSON answer of a call, or an error naming the URL and what the server said.
fn answer(
    url: &str,
    response: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Value> {
    let mut response = response.map_err(|e| transport(url, e))?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| transport(url, e))?;
    if !status.is_success() {
        let said: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        return Err(MlflowError::Api {
            url: url.into(),
            status: status.as_u16(),
            code: said["error_code"].as_str().unwrap_or_default().into(),
            message: match said["message"].as_str() {
                Some(message) => message.into(),
                None => text.chars().take(300).collect(),
            },
        });
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text)
        .map_err(|e| MlflowError::Server(format!("{url} answered no JSON ({e}): is it MLflow?")))
}

fn transport(url: &str, e: impl std::fmt::Display) -> MlflowError {
    MlflowError::Transport {
        url: url.into(),
        detail: e.to_string(),
    }
}

/// A tracking URI lab10 can log to: an http(s) server.
pub fn is_http(uri: &str) -> bool {
    uri.starts_with("http://") || uri.starts_with("https://")
}

/// MLflow writes int64 as JSON strings or numbers, depending on the field.
pub(crate) fn as_i64(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// A metric value: a number, or `"NaN"` / `"Infinity"` / `"-Infinity"` (protobuf's JSON).
pub(crate) fn as_f64(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// A metric value as protobuf's JSON writes doubles (JSON has no NaN).
pub(crate) fn metric_value(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else if v.is_nan() {
        json!("NaN")
    } else if v > 0.0 {
        json!("Infinity")
    } else {
        json!("-Infinity")
    }
}
