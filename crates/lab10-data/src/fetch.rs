//! Where the MNIST files come from. In order: an explicit folder (`--data-dir` or
//! `LAB10_DATA_DIR`), `data/mnist/` under the current directory (the repository ships the
//! files there), the user cache (`~/.cache/lab10/mnist`, or `LAB10_CACHE_DIR`); failing all
//! of those, the standard .gz files are downloaded from the public mirrors into the cache,
//! each one verified against its known digest before it is atomically moved into place.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomically;
use crate::error::DataError;
use crate::idx;
use crate::mnist::MnistFile;

/// Mirrors that serve the four files as `<base><name>.gz` (those torchvision and Burn use).
pub const DEFAULT_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];
/// The largest MNIST .gz file is under 10 MB; anything much bigger is not MNIST.
const MAX_DOWNLOAD_BYTES: u64 = 64 << 20;

/// Whether files must carry the known MNIST digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Refuse files whose decompressed SHA-256 differs from MNIST's (the default).
    Mnist,
    /// Accept any IDX files of the MNIST shape (for MNIST-format datasets such as Fashion-MNIST).
    Skip,
}

impl Verification {
    pub fn enabled(self) -> bool {
        self == Verification::Mnist
    }
}

/// A folder holding all four files, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLocation {
    pub dir: PathBuf,
    pub source: &'static str,
}

/// Finds (or downloads) the MNIST files, following the lookup order in the module docs.
pub fn locate(explicit: Option<&Path>) -> Result<DataLocation, DataError> {
    let explicit = explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("LAB10_DATA_DIR").map(PathBuf::from));
    if let Some(dir) = explicit {
        // The user named a folder: use it or say what is wrong with it, never look elsewhere.
        if !dir.is_dir() {
            return Err(DataError::io(
                &dir,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such data directory (check --data-dir / LAB10_DATA_DIR)",
                ),
            ));
        }
        if let Some(file) = first_missing(&dir) {
            return Err(DataError::MissingFile {
                dir,
                name: file.name,
            });
        }
        return Ok(DataLocation {
            dir,
            source: "--data-dir",
        });
    }

    let local = PathBuf::from("data/mnist");
    if first_missing(&local).is_none() {
        return Ok(DataLocation {
            dir: local,
            source: "./data/mnist",
        });
    }
    let cache = cache_dir();
    if let Some(cache) = &cache
        && first_missing(cache).is_none()
    {
        return Ok(DataLocation {
            dir: cache.clone(),
            source: "cache",
        });
    }

    let searched = std::iter::once(local)
        .chain(cache.clone())
        .map(|d| format!("  {}", d.display()))
        .collect::<Vec<_>>()
        .join("\n");
    let not_found = |download: String| DataError::NotFound {
        searched: searched.clone(),
        download,
    };
    let cache = cache.ok_or_else(|| not_found("no user cache directory on this system".into()))?;
    download_missing(&cache, &mirrors()).map_err(not_found)?;
    Ok(DataLocation {
        dir: cache,
        source: "downloaded",
    })
}

/// `LAB10_CACHE_DIR`, else `<user cache>/lab10/mnist`.
pub fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("LAB10_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("lab10").join("mnist")))
}

/// `LAB10_MNIST_MIRRORS` (comma-separated base URLs), else [`DEFAULT_MIRRORS`].
pub fn mirrors() -> Vec<String> {
    match std::env::var("LAB10_MNIST_MIRRORS") {
        Ok(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Err(_) => DEFAULT_MIRRORS.iter().map(|s| s.to_string()).collect(),
    }
}

fn first_missing(dir: &Path) -> Option<MnistFile> {
    MnistFile::ALL
        .into_iter()
        .find(|f| f.find_in(dir).is_none())
}

/// Downloads every file missing from `dir`, trying the mirrors in order.
/// Returns a description of every failure if some file could not be had.
pub fn download_missing(dir: &Path, mirrors: &[String]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for file in MnistFile::ALL {
        if file.find_in(dir).is_some() {
            continue;
        }
        let mut failures = Vec::new();
        let fetched = mirrors.iter().find_map(|base| {
            let url = format!("{base}{}.gz", file.name);
            eprintln!("downloading {url}");
            match download_verified(&url, &file) {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    eprintln!("  failed: {e}");
                    failures.push(format!("{url}: {e}"));
                    None
                }
            }
        });
        let Some(bytes) = fetched else {
            if failures.is_empty() {
                failures.push("no mirror configured".into());
            }
            return Err(failures.join("; "));
        };
        write_atomically(&dir.join(format!("{}.gz", file.name)), &bytes)
            .map_err(|e| format!("cannot write into {}: {e}", dir.display()))?;
    }
    Ok(())
}

fn download_verified(url: &str, file: &MnistFile) -> Result<Vec<u8>, String> {
    let response = ureq::get(url).call().map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_DOWNLOAD_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    let raw = idx::decompress(bytes.clone()).map_err(|e| e.to_string())?;
    let digest = idx::sha256_hex(&raw);
    if digest != file.sha256 {
        return Err(format!(
            "SHA-256 of the decompressed download is {digest}, expected {}",
            file.sha256
        ));
    }
    Ok(bytes)
}
