//! TensorBoard event files for every run, so that `tensorboard --logdir artifacts` shows every
//! run, group member and ensemble member, named `tensorboard/<experiment>/<run-id>`. They live
//! beside the experiment folders (`<artifacts>/tensorboard/<experiment>/<run-id>/`, under the
//! dataset's folder for other datasets than MNIST), not inside the run folders: TensorBoard
//! follows links, so a file inside a run would show twice, once more through `latest`. Burn has
//! no TensorBoard writer; the format is small: TFRecord framing (length, masked CRC-32C of the
//! length, data, masked CRC-32C of the data) around protobuf `Event`s, the few messages of
//! `tensorboard/compat/proto/{event,summary,tensor}.proto` and the HParams plugin's
//! `plugin_data.proto` declared below with prost (no `protoc`).
//!
//! The file is a function of the run's folder and its epochs so far, rewritten whole and
//! atomically after every epoch: each epoch appears once, a resumed run rewrites the same bytes
//! for the epochs before it, and a reader that follows the file sees only appended events. It
//! holds the run's settings as hparams (step 0), RBM pre-training (step = its epoch), each
//! epoch's metrics (step = epoch) and, at the end, the final test metrics, the run's pictures
//! as images and the session's end (its status); the names are lab10-track's (`lib.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lab10_data::atomic::write_atomically;
use lab10_runs::{
    EpochRecord, Error, Report, Result, RunDir, RunSink, RunStatus, metrics, read_if_recorded,
};
use prost::Message;

use crate::{PICTURES, Point, Settings, epoch_points, final_points, pretrain_points};

pub const TENSORBOARD_DIR: &str = "tensorboard";

/// A run's event file: rewritten from the run's folder and records after every epoch and at
/// its end.
#[derive(Debug, Clone)]
pub struct Board {
    /// The backend the run computes on (an hparam beside the run's settings).
    pub backend: String,
}

impl RunSink for Board {
    fn epoch(&mut self, run: &RunDir, records: &[EpochRecord]) -> Result<()> {
        self.write(run, records, None)
    }

    fn end(&mut self, run: &RunDir, records: &[EpochRecord], report: &Report) -> Result<()> {
        self.write(run, records, Some(report))
    }
}

impl Board {
    /// The folder of `run`'s event file: `<dataset root>/tensorboard/<experiment>/<run-id>`.
    pub fn dir(run: &RunDir) -> PathBuf {
        let experiment_dir = run.path.parent().unwrap_or(Path::new("."));
        let root = experiment_dir.parent().unwrap_or(Path::new("."));
        let experiment = experiment_dir.file_name().unwrap_or_default();
        root.join(TENSORBOARD_DIR).join(experiment).join(run.id())
    }

    /// Rewrites `run`'s event file from `records` (the epochs so far) and, once the run has
    /// ended, its `report`.
    pub fn write(
        &self,
        run: &RunDir,
        records: &[EpochRecord],
        report: Option<&Report>,
    ) -> Result<()> {
        let settings = Settings::of(run)?;
        // A finished run's pictures (written and recorded before its report).
        let mut pictures = Vec::new();
        if report.is_some() {
            for (tag, file) in PICTURES {
                if let Some(png) = read_if_recorded(&run.file(file))? {
                    pictures.extend(image(tag, png));
                }
            }
        }
        let bytes = self.events(run, &settings, records, report, pictures)?;
        let dir = Self::dir(run);
        std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
        let path = dir.join(format!("events.out.tfevents.{}.lab10", run.id()));
        write_atomically(&path, &bytes).map_err(|e| Error::write(&path, e))
    }

    fn events(
        &self,
        run: &RunDir,
        settings: &Settings,
        records: &[EpochRecord],
        report: Option<&Report>,
        pictures: Vec<SummaryValue>,
    ) -> Result<Vec<u8>> {
        // Wall times from the run's start (its id) and the epochs' durations: the same bytes
        // whenever the file is rewritten.
        let start = run.started_millis() as f64 / 1000.0;
        let mut out = Vec::new();
        let mut event = |wall_time: f64, step: i64, what: What| {
            frame(
                &mut out,
                &Event {
                    wall_time,
                    step,
                    what: Some(what),
                }
                .encode_to_vec(),
            );
        };
        let scalars = |points: Vec<Point>| {
            let value = points.iter().map(|(tag, _, v)| scalar(tag, *v)).collect();
            What::Summary(Summary { value })
        };
        event(start, 0, What::FileVersion("brain.Event:2".into()));
        event(start, 0, What::Summary(self.session_start(settings, start)));
        // RBM pre-training, before the first epoch: step = its epoch, per layer.
        let mut at = start;
        for p in metrics::read_pretrain(run)? {
            at += p.seconds;
            event(at, p.epoch as i64, scalars(pretrain_points(&p)));
        }
        let mut at = start;
        for r in records {
            at += r.epoch_seconds;
            event(at, r.epoch as i64, scalars(epoch_points(r, settings)));
        }
        if let Some(report) = report {
            let step = report.epoch_seconds.len() as i64;
            let at = at.max(start + report.total_seconds);
            let finals = final_points(report);
            if !finals.is_empty() {
                event(at, step, scalars(finals));
            }
            if !pictures.is_empty() {
                event(at, step, What::Summary(Summary { value: pictures }));
            }
            let status = match report.status {
                RunStatus::Completed => 1,
                RunStatus::Diverged(_) => 2,
                RunStatus::Interrupted => 0,
            };
            let end = PluginData::SessionEndInfo(SessionEndInfo {
                status,
                end_time_secs: at,
            });
            event(
                at,
                step,
                What::Summary(hparams_summary("_hparams_/session_end_info", end)),
            );
        }
        Ok(out)
    }

    /// The run's settings (but its data files' record) and backend as the HParams plugin's
    /// hparams: numbers as numbers, everything else as text.
    fn session_start(&self, settings: &Settings, start: f64) -> Summary {
        let hparams: BTreeMap<String, PbValue> = settings
            .0
            .iter()
            .filter(|(k, _)| !k.starts_with("data."))
            .map(|(k, v)| {
                let kind = match v {
                    toml::Value::Integer(i) => Kind::Number(*i as f64),
                    toml::Value::Float(x) => Kind::Number(*x),
                    other => Kind::String(crate::compact(other)),
                };
                (k.clone(), kind)
            })
            .chain([("backend".into(), Kind::String(self.backend.clone()))])
            .map(|(k, kind)| (k, PbValue { kind: Some(kind) }))
            .collect();
        let info = PluginData::SessionStartInfo(SessionStartInfo {
            hparams,
            group_name: String::new(),
            start_time_secs: start,
        });
        hparams_summary("_hparams_/session_start_info", info)
    }
}

fn scalar(tag: &str, value: f64) -> SummaryValue {
    SummaryValue {
        tag: tag.into(),
        simple_value: Some(value as f32),
        ..Default::default()
    }
}

/// A PNG as an image summary; `None` for bytes that are not a PNG.
fn image(tag: &str, png: Vec<u8>) -> Option<SummaryValue> {
    // The IHDR chunk: width and height, big-endian, at bytes 16 and 20.
    if png.get(..8) != Some(b"\x89PNG\r\n\x1a\n".as_slice()) {
        return None;
    }
    let word = |at: usize| Some(i32::from_be_bytes(png.get(at..at + 4)?.try_into().ok()?));
    let (width, height) = (word(16)?, word(20)?);
    Some(SummaryValue {
        tag: tag.into(),
        image: Some(SummaryImage {
            height,
            width,
            colorspace: 3,
            encoded_image_string: png,
        }),
        ..Default::default()
    })
}

/// A summary of the HParams plugin (its data in the metadata, an empty float tensor as value).
fn hparams_summary(tag: &str, data: PluginData) -> Summary {
    let content = HParamsPluginData {
        version: 0,
        data: Some(data),
    };
    Summary {
        value: vec![SummaryValue {
            tag: tag.into(),
            metadata: Some(SummaryMetadata {
                plugin_data: Some(SummaryPluginData {
                    plugin_name: "hparams".into(),
                    content: content.encode_to_vec(),
                }),
            }),
            tensor: Some(TensorProto {
                dtype: 1, // DT_FLOAT
                tensor_shape: Some(TensorShape {
                    dim: vec![Dim { size: 0 }],
                }),
            }),
            ..Default::default()
        }],
    }
}

/// One TFRecord: length, its masked CRC-32C, the data, its masked CRC-32C.
fn frame(out: &mut Vec<u8>, data: &[u8]) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
}

/// TFRecord's mask of a CRC-32C (so that a CRC of data holding CRCs stays well-mixed).
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

// The messages of TensorBoard's protos that lab10 writes, with their field numbers.

#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "What", tags = "3, 5")]
    what: Option<What>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum What {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

#[derive(Clone, PartialEq, Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

#[derive(Clone, PartialEq, Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
    #[prost(message, optional, tag = "4")]
    image: Option<SummaryImage>,
    #[prost(message, optional, tag = "8")]
    tensor: Option<TensorProto>,
    #[prost(message, optional, tag = "9")]
    metadata: Option<SummaryMetadata>,
}

/// An encoded image (PNG), as `Summary.Image`.
#[derive(Clone, PartialEq, Message)]
struct SummaryImage {
    #[prost(int32, tag = "1")]
    height: i32,
    #[prost(int32, tag = "2")]
    width: i32,
    /// 3: RGB.
    #[prost(int32, tag = "3")]
    colorspace: i32,
    #[prost(bytes = "vec", tag = "4")]
    encoded_image_string: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    plugin_data: Option<SummaryPluginData>,
}

#[derive(Clone, PartialEq, Message)]
struct SummaryPluginData {
    #[prost(string, tag = "1")]
    plugin_name: String,
    #[prost(bytes = "vec", tag = "2")]
    content: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int32, tag = "1")]
    dtype: i32,
    #[prost(message, optional, tag = "2")]
    tensor_shape: Option<TensorShape>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorShape {
    #[prost(message, repeated, tag = "2")]
    dim: Vec<Dim>,
}

#[derive(Clone, PartialEq, Message)]
struct Dim {
    #[prost(int64, tag = "1")]
    size: i64,
}

#[derive(Clone, PartialEq, Message)]
struct HParamsPluginData {
    #[prost(int32, tag = "1")]
    version: i32,
    #[prost(oneof = "PluginData", tags = "3, 4")]
    data: Option<PluginData>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum PluginData {
    #[prost(message, tag = "3")]
    SessionStartInfo(SessionStartInfo),
    #[prost(message, tag = "4")]
    SessionEndInfo(SessionEndInfo),
}

#[derive(Clone, PartialEq, Message)]
struct SessionStartInfo {
    #[prost(btree_map = "string, message", tag = "1")]
    hparams: BTreeMap<String, PbValue>,
    #[prost(string, tag = "4")]
    group_name: String,
    #[prost(double, tag = "5")]
    start_time_secs: f64,
}

#[derive(Clone, PartialEq, Message)]
struct SessionEndInfo {
    /// STATUS_UNKNOWN 0, STATUS_SUCCESS 1, STATUS_FAILURE 2.
    #[prost(int32, tag = "1")]
    status: i32,
    #[prost(double, tag = "2")]
    end_time_secs: f64,
}

/// `google.protobuf.Value`, the kinds lab10 uses.
#[derive(Clone, PartialEq, Message)]
struct PbValue {
    #[prost(oneof = "Kind", tags = "2, 3")]
    kind: Option<Kind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Kind {
    #[prost(double, tag = "2")]
    Number(f64),
    #[prost(string, tag = "3")]
    String(String),
}
