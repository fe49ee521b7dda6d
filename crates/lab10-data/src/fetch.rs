//! Where a dataset's files come from. In order: an explicit folder ([`Places::dir`], the CLI's
//! `--data-dir`), `data/<name>/` under the current directory (the repository ships MNIST
//! there), the folders a system package installs into (Fashion-MNIST: Debian's
//! `dataset-fashion-mnist`), the user cache (`~/.cache/lab10/<name>`, or
//! `<`[`Places::cache`]`>/<name>`); failing all of those, the standard .gz files are downloaded
//! from the dataset's mirrors (or [`Places::mirrors`]) into the cache, each one verified
//! against its known digest before it is atomically moved into place. The library reads no
//! environment variable: the CLI's flags do (clap's `env`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomically;
use crate::catalog::DatasetSpec;
use crate::error::DataError;
use crate::idx;
use crate::mnist::MnistFile;

/// The largest MNIST-format .gz file is under 30 MB; anything much bigger is not one.
const MAX_DOWNLOAD_BYTES: u64 = 64 << 20;

/// A folder holding all four files, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLocation {
    pub dir: PathBuf,
    /// `--data-dir`, `./data/<name>`, `system`, `cache` or `downloaded`.
    pub source: String,
}

/// Where datasets are looked for and fetched from beyond the built-in places: what the CLI's
/// `--data-dir`, `--cache-dir` and mirror flags (or their environment variables) say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Places {
    /// A folder that must hold all four files; nothing else is searched then.
    pub dir: Option<PathBuf>,
    /// The download cache's root (`<root>/<name>`) instead of `<user cache>/lab10`.
    pub cache: Option<PathBuf>,
    /// Base URLs that serve `<file>.gz`, by dataset name, instead of the dataset's own.
    pub mirrors: BTreeMap<String, Vec<String>>,
}

impl Places {
    /// [`Self::dir`], checked: it must hold all four files.
    pub fn explicit_dir(&self) -> Result<Option<DataLocation>, DataError> {
        let Some(dir) = self.dir.clone() else {
            return Ok(None);
        };
        if !dir.is_dir() {
            return Err(DataError::io(
                &dir,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such data directory (check --data-dir / LAB10_DATA_DIR)",
                ),
            ));
        };
        if let Some(file) = first_missing(&dir) {
            return Err(DataError::MissingFile {
                dir,
                name: file.name,
            });
        }
        Ok(Some(DataLocation {
            dir,
            source: "--data-dir".into(),
        }))
    }

    /// The folders searched for `spec`, in order, each with its source label (no download).
    pub fn search_path(&self, spec: &DatasetSpec) -> Vec<(PathBuf, String)> {
        let local = PathBuf::from("data").join(spec.name);
        let local = (local, format!("./data/{}", spec.name));
        let system = (spec.system_dirs.iter()).map(|d| (PathBuf::from(d), "system".to_string()));
        let cache = self.cache_dir(spec).map(|d| (d, "cache".to_string()));
        std::iter::once(local).chain(system).chain(cache).collect()
    }

    /// The first folder of [`Self::search_path`] that holds all four files, without
    /// downloading.
    pub fn find(&self, spec: &DatasetSpec) -> Option<DataLocation> {
        self.search_path(spec)
            .into_iter()
            .find(|(dir, _)| first_missing(dir).is_none())
            .map(|(dir, source)| DataLocation { dir, source })
    }

    /// Finds (or downloads) `spec`'s files, following the lookup order in the module docs.
    pub fn locate(&self, spec: &DatasetSpec) -> Result<DataLocation, DataError> {
        if let Some(location) = self.explicit_dir()? {
            return Ok(location);
        }
        if let Some(location) = self.find(spec) {
            return Ok(location);
        }
        let searched = self
            .search_path(spec)
            .iter()
            .map(|(d, _)| format!("  {}", d.display()))
            .collect::<Vec<_>>()
            .join("\n");
        let not_found = |download: String| DataError::NotFound {
            dataset: spec.name,
            searched: searched.clone(),
            download,
            how_to_get: spec.how_to_get,
        };
        let cache = self
            .cache_dir(spec)
            .ok_or_else(|| not_found("no user cache directory on this system".into()))?;
        download_missing(&cache, spec, &self.mirrors_for(spec)).map_err(not_found)?;
        Ok(DataLocation {
            dir: cache,
            source: "downloaded".into(),
        })
    }

    /// `<cache>/<name>`, else `<user cache>/lab10/<name>`.
    pub fn cache_dir(&self, spec: &DatasetSpec) -> Option<PathBuf> {
        self.cache
            .clone()
            .or_else(|| dirs::cache_dir().map(|d| d.join("lab10")))
            .map(|root| root.join(spec.name))
    }

    /// The mirrors `spec` is downloaded from: [`Self::mirrors`]' for it, else its own.
    pub fn mirrors_for(&self, spec: &DatasetSpec) -> Vec<String> {
        match self.mirrors.get(spec.name) {
            Some(list) => list.clone(),
            None => spec.mirrors.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The first of the four files that `dir` lacks.
pub(crate) fn first_missing(dir: &Path) -> Option<MnistFile> {
    MnistFile::ALL
        .into_iter()
        .find(|f| f.find_in(dir).is_none())
}

/// Downloads every file missing from `dir`, trying the mirrors in order. Returns a description
/// of every failure if some file could not be had.
pub fn download_missing(dir: &Path, spec: &DatasetSpec, mirrors: &[String]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for file in MnistFile::ALL {
        if file.find_in(dir).is_some() {
            continue;
        }
        let mut failures = Vec::new();
        let fetched = mirrors.iter().find_map(|base| {
            let url = format!("{base}{}.gz", file.name);
            match download_verified(&url, spec.digest_of(&file)) {
                Ok(bytes) => Some(bytes),
                Err(e) => {
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

fn download_verified(url: &str, expected: &str) -> Result<Vec<u8>, String> {
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
    if digest != expected {
        return Err(format!(
            "SHA-256 of the decompressed download is {digest}, expected {expected}"
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{FASHION_MNIST, MNIST};

    #[test]
    fn the_lookup_order_is_local_folder_then_system_package_then_cache() {
        let places = Places::default();
        let order: Vec<String> = places
            .search_path(&FASHION_MNIST)
            .into_iter()
            .map(|(_, source)| source)
            .collect();
        assert_eq!(order[..2], ["./data/fashion-mnist", "system"]);
        assert_eq!(
            places.search_path(&FASHION_MNIST)[1].0,
            Path::new("/usr/share/datasets/fashion-mnist")
        );
        // MNIST has no system package; the repository ships it in data/mnist.
        let mnist = places.search_path(&MNIST);
        assert_eq!(mnist[0].0, Path::new("data/mnist"));
        assert!(mnist.iter().all(|(_, s)| s != "system"));
        if let Some(cache) = places.cache_dir(&FASHION_MNIST) {
            assert!(cache.ends_with("fashion-mnist"));
        }
        let cache = Places {
            cache: Some("/c".into()),
            ..Places::default()
        };
        assert_eq!(cache.cache_dir(&MNIST).unwrap(), Path::new("/c/mnist"));
    }
}
