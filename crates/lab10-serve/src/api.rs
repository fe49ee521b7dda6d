//! The HTTP side: the page, the JSON API, and a JSON error for every bad request.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lab10_data::IMAGE_PIXELS;
use serde::Deserialize;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;

use crate::models::{ModelInfo, Served};

/// The largest request body: a 280x280 canvas of 0-255 values as JSON is about 300 KB.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// The largest canvas side accepted.
pub const MAX_CANVAS_SIDE: usize = 1024;
/// How the service behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// A request (body included) not answered within this is answered 408.
    pub request_timeout: Duration,
}

/// The page: its HTML and its own script; the drawing pad, the table and the style are
/// lab10-image's.
const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("serve.js");

/// The whole service over `served`.
pub fn router(served: Arc<Served>, options: Options) -> Router {
    let timeout = options.request_timeout;
    Router::new()
        .route("/", get(|| asset("text/html; charset=utf-8", PAGE)))
        .route("/serve.js", get(|| asset(JAVASCRIPT, SCRIPT)))
        .route(
            "/pad.js",
            get(|| asset(JAVASCRIPT, lab10_image::page::PAD_SCRIPT)),
        )
        .route(
            "/style.css",
            get(|| asset("text/css; charset=utf-8", lab10_image::page::STYLE)),
        )
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/api/models", get(models))
        .route("/api/predict", post(predict))
        .route("/api/sample", get(sample))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such path; see GET /") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::map_response(
            move |response: Response| async move {
                if response.status() == StatusCode::REQUEST_TIMEOUT {
                    let secs = timeout.as_secs_f64();
                    return ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        format!("the request was not received and answered within {secs} s"),
                    )
                    .into_response();
                }
                response
            },
        ))
        .with_state(served)
}

/// `{"error": "..."}` with a 4xx (or 5xx) status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.message}))).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let message = match &r {
            JsonRejection::MissingJsonContentType(_) => {
                "expected a JSON body with `Content-Type: application/json`".to_string()
            }
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                format!("request body larger than {MAX_BODY_BYTES} bytes")
            }
            _ => r.body_text(),
        };
        Self::new(r.status(), message)
    }
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// A file of the page, never cached (a new `lab10` serves new files).
async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
}

async fn models(State(s): State<Arc<Served>>) -> Json<serde_json::Value> {
    let models: Vec<&ModelInfo> = s.models.iter().map(|m| &m.info).collect();
    Json(json!({
        "dataset": s.dataset,
        "classes": s.classes,
        "test_images": s.test.len(),
        "models": models,
    }))
}

/// Either an image already in MNIST's format, or a drawing to be put into it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// 784 values in [0, 1], row by row.
    pixels: Option<Vec<f64>>,
    canvas: Option<Canvas>,
}

/// A drawing: `width * height` ink values, 0 (paper) to 255 (ink), row by row.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Canvas {
    width: usize,
    height: usize,
    ink: Vec<f64>,
}

fn finite_in(values: &[f64], max: f64, what: &str) -> Result<(), ApiError> {
    match values
        .iter()
        .position(|v| !v.is_finite() || *v < 0.0 || *v > max)
    {
        Some(i) => Err(ApiError::bad(format!(
            "{what}[{i}] is {}; every value must be a number in [0, {max}]",
            values[i]
        ))),
        None => Ok(()),
    }
}

impl PredictRequest {
    /// The 28x28 input; `Ok(None)` for a blank canvas.
    fn input(self) -> Result<Option<Vec<f32>>, ApiError> {
        match (self.pixels, self.canvas) {
            (Some(p), None) => {
                if p.len() != IMAGE_PIXELS {
                    return Err(ApiError::bad(format!(
                        "pixels has {} values; expected {IMAGE_PIXELS} (28x28, row by row)",
                        p.len()
                    )));
                }
                finite_in(&p, 1.0, "pixels")?;
                Ok(Some(p.into_iter().map(|v| v as f32).collect()))
            }
            (None, Some(c)) => {
                if c.width == 0
                    || c.height == 0
                    || c.width > MAX_CANVAS_SIDE
                    || c.height > MAX_CANVAS_SIDE
                {
                    return Err(ApiError::bad(format!(
                        "canvas is {}x{}; each side must be 1 to {MAX_CANVAS_SIDE}",
                        c.width, c.height
                    )));
                }
                if c.ink.len() != c.width * c.height {
                    return Err(ApiError::bad(format!(
                        "canvas.ink has {} values; expected width x height = {}",
                        c.ink.len(),
                        c.width * c.height
                    )));
                }
                finite_in(&c.ink, 255.0, "canvas.ink")?;
                Ok(lab10_image::mnistify_canvas(&c.ink, c.width, c.height))
            }
            _ => Err(ApiError::bad(
                "send exactly one of \"pixels\" (784 values in [0, 1]) or \"canvas\" \
                 ({\"width\", \"height\", \"ink\": width x height values in [0, 255]})",
            )),
        }
    }
}

async fn predict(
    State(s): State<Arc<Served>>,
    body: Result<Json<PredictRequest>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(request) = body?;
    let Some(input) = request.input()? else {
        return Ok(Json(json!({"input": null, "models": []})));
    };
    // Inference is CPU work: off the async threads. `input`: the 28x28 image the models
    // received (for a canvas: after the MNIST preparation).
    let response =
        tokio::task::spawn_blocking(move || json!({"input": input, "models": s.predict(&input)}))
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("inference failed: {e}"),
                )
            })?;
    Ok(Json(response))
}

#[derive(Deserialize)]
struct SampleQuery {
    index: usize,
}

async fn sample(
    State(s): State<Arc<Served>>,
    query: Result<Query<SampleQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let n = s.test.len();
    let Query(q) = query.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "expected ?index=N with N a whole number from 0 to {}",
                n - 1
            ),
        )
    })?;
    if q.index >= n {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "index {} is past the test set's {n} images (0 to {})",
                q.index,
                n - 1
            ),
        ));
    }
    let label = s.test.labels[q.index] as usize;
    let pixels: Vec<f32> = s
        .test
        .image(q.index)
        .iter()
        .map(|&p| p as f32 / 255.0)
        .collect();
    Ok(Json(json!({
        "index": q.index,
        "label": label,
        "class": s.classes[label],
        "pixels": pixels,
    })))
}
