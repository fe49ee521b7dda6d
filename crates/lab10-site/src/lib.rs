//! `lab10 site`: the lesson as a static folder. The trained models run in the reader's browser
//! as lab10-models' own `Mlp` on Burn, compiled to WebAssembly (crates/lab10-site/wasm), beside
//! the lesson's curves and table. Any static file server can serve it; nothing in it calls back
//! to lab10.
//!
//! - [`manifest`]: `site.json`, what the page's script reads (models, test digits).
//! - [`page`]: `index.html`, the page itself.
//! - [`folder`]: the output folder, built beside its place and swapped in whole.
//! - `www/site.js`: the page's script, copied as it is, beside lab10-image's `pad.js` and
//!   `style.css` (the drawing page `lab10 serve` shares).
//!
//! The WebAssembly module is not built here: scripts/build-wasm.sh builds it (for wasm32, with
//! wasm-bindgen) into `target/site-wasm`, and [`write_site`] copies it in.

pub mod folder;
pub mod manifest;
pub mod page;

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use lab10_experiment::DataOptions;
use lab10_report::RunData;
use lab10_runs::Error;

pub use manifest::{Digits, MANIFEST, Manifest, SiteModel};

/// The files wasm-bindgen writes for crates/lab10-site/wasm (`--target web`).
pub const WASM_FILES: [&str; 2] = ["lab10_site_wasm.js", "lab10_site_wasm_bg.wasm"];
/// Where scripts/build-wasm.sh puts them, relative to the repository.
pub const DEFAULT_WASM_DIR: &str = "target/site-wasm";
/// How many test digits the site ships for "random test digit".
pub const DEFAULT_DIGITS: usize = 300;
/// The page's heading unless `--title` says otherwise.
pub const DEFAULT_TITLE: &str = "ML lab 10: NN, ReLU, Xavier, Dropout and Adam";

/// The site's own script; the drawing pad, the table and the style are lab10-image's, shared
/// with `lab10 serve`.
const SCRIPT: &str = include_str!("../www/site.js");

/// What to write and where.
#[derive(Debug, Clone)]
pub struct Options {
    pub out: PathBuf,
    /// Replace `out` if it is a site written earlier.
    pub force: bool,
    /// The folder with [`WASM_FILES`].
    pub wasm: PathBuf,
    /// The first `digits` test images ship with the site.
    pub digits: usize,
    /// The page's heading (a course's name, say).
    pub title: String,
}

/// What [`write_site`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub out: PathBuf,
    pub manifest: Manifest,
    /// Every file, relative to `out`, with its size in bytes.
    pub files: Vec<(PathBuf, u64)>,
}

impl Written {
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|(_, n)| n).sum()
    }
}

/// Writes the site for the completed runs `targets` (run folders, or experiment folders meaning
/// their latest run) into `options.out`. Every run is loaded and evaluated first: a run that
/// cannot be, a missing WebAssembly build or an `out` that may not be replaced is an error and
/// nothing is written.
pub fn write_site(
    targets: &[PathBuf],
    data: &DataOptions,
    device: &Device,
    options: &Options,
) -> Result<Written, Error> {
    check_options(targets, options)?;
    let wasm = read_wasm(&options.wasm)?;
    let runs = load_runs(targets, data, device)?;
    let staging = folder::staging(&options.out)?;
    let root = staging.path();
    let disambiguate = RunData::disambiguate(&runs);
    let mut models = Vec::new();
    for run in &runs {
        let dir = format!("models/{}", run.key(disambiguate));
        let weights = format!("{dir}/model.bpk");
        let bytes = lab10_runs::read_checked(&run.saved.path)?;
        put(root, &weights, &bytes)?;
        let toml = run.saved.experiment.to_toml();
        put(root, &format!("{dir}/experiment.toml"), toml.as_bytes())?;
        models.push(SiteModel::new(run, disambiguate, weights, &bytes));
    }
    let digits = write_digits(root, &runs[0], options.digits)?;
    let report_files = lab10_report::write_report(&runs, &root.join("report"))?;
    let manifest = Manifest::new(&options.title, &runs[0], models, digits);
    for (name, bytes) in WASM_FILES.iter().zip(&wasm) {
        put(root, &format!("wasm/{name}"), bytes)?;
    }
    put(root, "site.js", SCRIPT.as_bytes())?;
    put(root, "pad.js", lab10_image::page::PAD_SCRIPT.as_bytes())?;
    put(root, "style.css", lab10_image::page::STYLE.as_bytes())?;
    let index = page::index(&manifest, &runs, disambiguate, &report_files, root);
    put(root, "index.html", index.as_bytes())?;
    // Last: a folder with site.json is a finished site (and one --force may replace).
    let json = serde_json::to_string_pretty(&manifest).expect("serialisable");
    put(root, MANIFEST, json.as_bytes())?;
    let mut files = Vec::new();
    list_files(root, Path::new(""), &mut files)?;
    files.sort();
    folder::swap_in(staging, &options.out, options.force)?;
    Ok(Written {
        out: options.out.clone(),
        manifest,
        files,
    })
}

/// What can be refused before anything is read: `out`, no runs, an empty title, no digits.
fn check_options(targets: &[PathBuf], options: &Options) -> Result<(), Error> {
    folder::check_out(&options.out, options.force)?;
    if targets.is_empty() {
        return Err(Error::Invalid("no runs to put on the site".into()));
    }
    if options.title.trim().is_empty() {
        return Err(Error::Invalid(
            "--title is empty; give the page a heading, or leave --title out".into(),
        ));
    }
    if options.digits == 0 {
        return Err(Error::Invalid(
            "--digits must be at least 1 (the test digits the page offers)".into(),
        ));
    }
    Ok(())
}

/// Every run loaded and evaluated, all of one dataset.
fn load_runs(
    targets: &[PathBuf],
    data: &DataOptions,
    device: &Device,
) -> Result<Vec<RunData>, Error> {
    let mut runs: Vec<RunData> = Vec::new();
    for target in targets {
        let run = RunData::load(target, data, device).map_err(|e| {
            Error::Invalid(format!("cannot put {} on the site: {e}", target.display()))
        })?;
        if let Some(first) = runs.first()
            && first.dataset != run.dataset
        {
            return Err(Error::Invalid(format!(
                "{} was trained on {} but {} on {}; a site shows runs of one dataset \
                 (name runs of one dataset, or pass --dataset)",
                run.run.path.display(),
                run.dataset,
                first.run.path.display(),
                first.dataset
            )));
        }
        runs.push(run);
    }
    Ok(runs)
}

/// The first `count` test images of `run`'s dataset (784 bytes each) and their labels.
fn write_digits(root: &Path, run: &RunData, count: usize) -> Result<Digits, Error> {
    let test = run.test.mnist();
    let count = count.min(test.len());
    let pixels: Vec<u8> = (0..count).flat_map(|i| test.image(i).to_vec()).collect();
    put(root, manifest::DIGITS_FILE, &pixels)?;
    Ok(Digits {
        file: manifest::DIGITS_FILE.into(),
        count,
        labels: test.labels[..count].to_vec(),
    })
}

/// Writes `bytes` to `name` under the staging folder `root`.
fn put(root: &Path, name: &str, bytes: &[u8]) -> Result<(), Error> {
    let path = root.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
    }
    std::fs::write(&path, bytes).map_err(|e| Error::write(&path, e))
}

/// The two files of the WebAssembly build, or how to make them.
fn read_wasm(dir: &Path) -> Result<Vec<Vec<u8>>, Error> {
    WASM_FILES
        .iter()
        .map(|name| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| {
                Error::Invalid(format!(
                    "no WebAssembly build of the site at {} ({e}); build it with `bash \
                     scripts/build-wasm.sh` (docs/site.md), or pass --wasm DIR",
                    path.display()
                ))
            })
        })
        .collect()
}

/// Every file under `dir` (relative to the site's root, with `prefix`) and its size.
fn list_files(dir: &Path, prefix: &Path, files: &mut Vec<(PathBuf, u64)>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::read(dir, e))? {
        let entry = entry.map_err(|e| Error::read(dir, e))?;
        let meta = entry.metadata().map_err(|e| Error::read(entry.path(), e))?;
        let name = prefix.join(entry.file_name());
        if meta.is_dir() {
            list_files(&entry.path(), &name, files)?;
        } else {
            files.push((name, meta.len()));
        }
    }
    Ok(())
}
