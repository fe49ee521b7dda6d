//! The site's WebAssembly module: the lesson's trained models, as lab10-models' own `Mlp` on
//! Burn's flex backend, and lab10-image's preparation of a drawing, for the page's JavaScript
//! (crates/lab10-site/www/site.js). Nothing here is a copy: the preparation and the forward
//! pass are the functions `lab10 serve` calls natively.
//!
//! Built by scripts/build-wasm.sh (cargo for wasm32-unknown-unknown, then wasm-bindgen).

use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use lab10_image::{IMAGE_PIXELS, mnistify_canvas};
use lab10_models::{Mlp, MlpConfig};
use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;

/// The models the page loaded, in the order it added them.
#[wasm_bindgen]
pub struct Models {
    device: Device,
    models: Vec<Loaded>,
}

struct Loaded {
    model: Mlp,
    input_scale: f32,
    classes: usize,
}

#[wasm_bindgen]
impl Models {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Models {
        Models {
            device: Device::flex(),
            models: Vec::new(),
        }
    }

    /// Adds a model: `architecture` is its experiment's `[model]` table as JSON (lab10-models'
    /// `MlpConfig`), `weights` the run's own model file (burnpack, `model.bpk`), `sha256` that
    /// file's digest as `lab10 site` recorded it, `input_scale` what a [0, 1] pixel is
    /// multiplied by (the experiment's `pixels`). A file that differs from the recorded one
    /// (a corrupt file can still parse, with other numbers in it), is not a Burn model, or is
    /// one of another shape is refused, saying which.
    pub fn add(
        &mut self,
        architecture: &str,
        input_scale: f32,
        weights: Vec<u8>,
        sha256: &str,
    ) -> Result<(), JsError> {
        let digest: String = Sha256::digest(&weights)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if !digest.eq_ignore_ascii_case(sha256) {
            return Err(JsError::new(&format!(
                "it is not the file lab10 site wrote ({} bytes, SHA-256 {digest}; site.json \
                 says {sha256}): damaged, cut short or replaced",
                weights.len()
            )));
        }
        let config: MlpConfig = serde_json::from_str(architecture)
            .map_err(|e| JsError::new(&format!("its architecture is not a lab10 model: {e}")))?;
        config
            .validate()
            .map_err(|e| JsError::new(&e.to_string()))?;
        if config.inputs != IMAGE_PIXELS {
            return Err(JsError::new(&format!(
                "it reads {} inputs, not a 28x28 image ({IMAGE_PIXELS})",
                config.inputs
            )));
        }
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights)).map_err(|e| {
            JsError::new(&format!(
                "its weights are not a readable Burn model file: {e}"
            ))
        })?;
        let model = config
            .init(&self.device)
            .try_load_record(record)
            .map_err(|e| {
                JsError::new(&format!(
                    "its weights do not fit its architecture ({}): {e}",
                    config.widths_text()
                ))
            })?;
        self.models.push(Loaded {
            model,
            input_scale,
            classes: config.classes,
        });
        Ok(())
    }

    /// How many models are loaded.
    pub fn count(&self) -> usize {
        self.models.len()
    }

    /// Every model's class probabilities for one 28x28 image of [0, 1] values, model after
    /// model (`count() * classes` values).
    pub fn predict(&self, pixels: &[f32]) -> Result<Vec<f32>, JsError> {
        if pixels.len() != IMAGE_PIXELS {
            return Err(JsError::new(&format!(
                "an image has {IMAGE_PIXELS} pixels, not {}",
                pixels.len()
            )));
        }
        let mut out = Vec::new();
        for m in &self.models {
            let p = m.model.probabilities(pixels, m.input_scale, &self.device);
            debug_assert_eq!(p.len(), m.classes);
            out.extend(p);
        }
        Ok(out)
    }
}

/// A canvas's pixels as `getImageData` gives them (RGBA bytes, row by row) into the 28x28
/// image the models read, as `lab10 serve` prepares the same canvas: the ink is the alpha
/// channel. Empty for a blank canvas.
#[wasm_bindgen]
pub fn prepare(rgba: &[u8], width: usize, height: usize) -> Result<Vec<f32>, JsError> {
    if rgba.len() != width * height * 4 {
        return Err(JsError::new(&format!(
            "{} bytes are not a {width}x{height} RGBA canvas",
            rgba.len()
        )));
    }
    let ink: Vec<f64> = rgba.chunks_exact(4).map(|px| px[3] as f64).collect();
    Ok(mnistify_canvas(&ink, width, height).unwrap_or_default())
}
