//! MLflow's REST API, the few calls lab10 makes (`/api/2.0/mlflow/...` and the server's
//! artifact proxy, `/api/2.0/mlflow-artifacts/...`), over ureq, authenticated as MLflow's own
//! client is ([`Access`]). Every call has deadlines, so a server that stops answering costs a
//! bounded wait per call.

use std::time::Duration;

use base64::Engine;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

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
    /// The server answered 401 or 403.
    #[error(
        "the server at {uri} refused these credentials (HTTP {status}): set \
         MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN"
    )]
    Refused { uri: String, status: u16 },
    /// No TLS session: the server's certificate was not accepted, or the CA file is unusable.
    #[error(
        "no TLS connection to {uri}: {problem}. If the server's certificate is signed by your \
         own CA, set MLFLOW_TRACKING_SERVER_CERT_PATH to that CA's PEM file (or \
         MLFLOW_TRACKING_INSECURE_TLS=true to skip the check)"
    )]
    Tls { uri: String, problem: String },
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

/// How lab10 authenticates to a tracking server, read as MLflow's client reads it: HTTP basic
/// (`MLFLOW_TRACKING_USERNAME`/`_PASSWORD`, or `user:password@` in the URI), a bearer token
/// (`MLFLOW_TRACKING_TOKEN`) and for https a CA of its own (`MLFLOW_TRACKING_SERVER_CERT_PATH`)
/// or none checked (`MLFLOW_TRACKING_INSECURE_TLS`). Kept in memory only: never written nor
/// shown (`Debug` says nothing of it); a member's process gets it through its environment.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Access {
    basic: Option<(String, String)>,
    token: Option<String>,
    insecure_tls: bool,
    server_cert: Option<String>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Access { .. }")
    }
}

impl Access {
    /// MLflow's variables, in the order of [`Access::env`].
    pub const VARS: [&str; 5] = [
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_TRACKING_INSECURE_TLS",
        "MLFLOW_TRACKING_SERVER_CERT_PATH",
    ];

    /// From the environment; the URI's user and password (`user_info`) come first.
    pub fn from_env(user_info: Option<(String, String)>) -> Self {
        let var = |i: usize| std::env::var(Self::VARS[i]).ok().filter(|v| !v.is_empty());
        Self {
            basic: user_info.or_else(|| Some((var(0)?, var(1)?))),
            token: var(2),
            insecure_tls: var(3).is_some_and(|v| matches!(&*v.to_lowercase(), "true" | "1")),
            server_cert: var(4),
        }
    }

    /// The variables that carry it to a member's process (`None`: unset there).
    pub fn env(&self) -> [(&'static str, Option<String>); 5] {
        let (user, password) = self.basic.clone().unzip();
        let (token, cert) = (self.token.clone(), self.server_cert.clone());
        let insecure = self.insecure_tls.then(|| "true".to_string());
        let mut values = [user, password, token, insecure, cert].into_iter();
        Self::VARS.map(|var| (var, values.next().flatten()))
    }

    /// The `Authorization` header: basic (as MLflow's client, before a token) or bearer.
    fn authorization(&self) -> Option<String> {
        let basic = self.basic.as_ref().map(|(user, password)| {
            let pair = format!("{user}:{password}");
            format!("Basic {}", base64::prelude::BASE64_STANDARD.encode(pair))
        });
        basic.or_else(|| self.token.as_ref().map(|t| format!("Bearer {t}")))
    }

    /// TLS as asked: the CA file's certificates as the only roots, or no check.
    fn tls(&self, uri: &str) -> Result<TlsConfig> {
        let mut tls = TlsConfig::builder().disable_verification(self.insecure_tls);
        if let Some(path) = self
            .server_cert
            .as_ref()
            .filter(|_| uri.starts_with("https:"))
        {
            let problem = |why: String| MlflowError::Tls {
                uri: uri.into(),
                problem: format!("MLFLOW_TRACKING_SERVER_CERT_PATH={path} {why}"),
            };
            if self.insecure_tls {
                return Err(problem(
                    "and MLFLOW_TRACKING_INSECURE_TLS=true are both set".into(),
                ));
            }
            let pem = std::fs::read(path).map_err(|e| problem(format!("cannot be read ({e})")))?;
            let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(cert)) => Some(cert),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(problem("holds no PEM certificate".into()));
            }
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        Ok(tls.build())
    }
}

/// `uri` without its user-info, and the user and password it named (percent-decoded). Any
/// text: `--mlflow=http://u:p@host` loses `u:p@` too.
pub fn without_user_info(uri: &str) -> (String, Option<(String, String)>) {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return (uri.into(), None);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some((info, host)) = rest[..end].rsplit_once('@') else {
        return (uri.into(), None);
    };
    let (user, password) = info.split_once(':').unwrap_or((info, ""));
    let decode = |s| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let bare = format!("{scheme}://{host}{}", &rest[end..]);
    (bare, Some((decode(user), decode(password))))
}

/// A tracking server, `http://HOST:PORT` (a path prefix is kept: `http://host/mlflow`).
#[derive(Clone)]
pub(crate) struct Client {
    /// Without user-info: what lab10 shows and stores.
    pub uri: String,
    agent: ureq::Agent,
}

impl Client {
    /// The server at `uri` (shown as it is: no user-info), once it answered as `access` lets
    /// it: an unreachable one, a refusal, a TLS failure, or a URI MLflow's local stores use
    /// (`file:`, `sqlite:`, `databricks`), is one error naming it.
    pub fn connect(uri: &str, access: &Access) -> Result<Self> {
        let base = uri.trim_end_matches('/').to_string();
        if !is_http(&base) {
            return Err(MlflowError::NotHttp(uri.into()));
        }
        let authorization = access.authorization();
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT))
            .timeout_recv_response(Some(ANSWER))
            .timeout_send_body(Some(BODY))
            .timeout_recv_body(Some(BODY))
            .http_status_as_error(false)
            .tls_config(access.tls(&base)?)
            .middleware(
                move |mut request: ureq::http::Request<ureq::SendBody>,
                      next: ureq::middleware::MiddlewareNext| {
                    if let Some(value) = authorization.as_deref().and_then(|v| v.parse().ok()) {
                        request.headers_mut().insert("authorization", value);
                    }
                    next.handle(request)
                },
            )
            .build()
            .new_agent();
        let client = Self { uri: base, agent };
        // An MLflow server answers this (and a web server that is not MLflow does not).
        match client.get("experiments/search", &[("max_results", "1")]) {
            Err(e @ (MlflowError::Refused { .. } | MlflowError::Tls { .. })) => Err(e),
            Err(e) => Err(MlflowError::Unreachable {
                uri: uri.into(),
                cause: Box::new(e),
            }),
            Ok(_) => Ok(client),
        }
    }

    /// `GET /api/2.0/mlflow/<endpoint>?<query>`.
    pub fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<Value> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.uri);
        let mut request = self.agent.get(&url);
        for (k, v) in query {
            request = request.query(*k, *v);
        }
        self.answer(&url, request.call())
    }

    /// `POST /api/2.0/mlflow/<endpoint>` with a JSON body.
    pub fn post(&self, endpoint: &str, body: &Value) -> Result<Value> {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.uri);
        let bytes = serde_json::to_vec(body).expect("JSON values serialise");
        self.answer(
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
        self.answer(&url, self.agent.put(&url).send(bytes))
            .map(|_| ())
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
            .map_err(|e| self.transport(&url, e))?;
        match response.status().as_u16() {
            404 => Ok(None),
            status @ (401 | 403) => Err(self.refused(status)),
            200 => response
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .map(Some)
                .map_err(|e| self.transport(&url, e)),
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

    /// The JSON answer of a call, or an error naming the URL and what the server said.
    fn answer(
        &self,
        url: &str,
        response: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value> {
        let mut response = response.map_err(|e| self.transport(url, e))?;
        let status = response.status();
        if matches!(status.as_u16(), 401 | 403) {
            return Err(self.refused(status.as_u16()));
        }
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| self.transport(url, e))?;
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
        serde_json::from_str(&text).map_err(|e| {
            MlflowError::Server(format!("{url} answered no JSON ({e}): is it MLflow?"))
        })
    }

    fn refused(&self, status: u16) -> MlflowError {
        MlflowError::Refused {
            uri: self.uri.clone(),
            status,
        }
    }

    /// A request or answer that did not get through: a TLS failure (rustls' error, inside the
    /// I/O error of the handshake) said as such.
    fn transport(&self, url: &str, e: ureq::Error) -> MlflowError {
        let tls = match &e {
            ureq::Error::Io(io) => io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()),
            ureq::Error::Rustls(e) => Some(e),
            _ => None,
        };
        match tls {
            Some(problem) => MlflowError::Tls {
                uri: self.uri.clone(),
                problem: problem.to_string(),
            },
            None => MlflowError::Transport {
                url: url.into(),
                detail: e.to_string(),
            },
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_taken_out_of_any_uri_and_decoded() {
        let (bare, user) = without_user_info("https://al%40ice:p%3Ass@host:5000/mlflow?x=1");
        assert_eq!(bare, "https://host:5000/mlflow?x=1");
        assert_eq!(user, Some(("al@ice".into(), "p:ss".into())));
        let (flag, _) = without_user_info("--mlflow=http://u:secret@127.0.0.1:5000");
        assert_eq!(flag, "--mlflow=http://127.0.0.1:5000");
        for plain in ["http://127.0.0.1:5000/a@b", "train", "a@b.c"] {
            assert_eq!(without_user_info(plain), (plain.to_string(), None));
        }
    }

    #[test]
    fn access_shows_nothing_and_goes_to_children_as_mlflows_variables() {
        let access = Access::from_env(Some(("admin".into(), "s3cret".into())));
        assert_eq!(format!("{access:?}"), "Access { .. }");
        let env = access.env();
        assert_eq!(env[0], ("MLFLOW_TRACKING_USERNAME", Some("admin".into())));
        assert_eq!(env[1], ("MLFLOW_TRACKING_PASSWORD", Some("s3cret".into())));
        assert_eq!(
            access.authorization().as_deref(),
            Some("Basic YWRtaW46czNjcmV0")
        );
    }
}
