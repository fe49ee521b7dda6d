//! From "this dataset" to verified splits in memory, and the record a run keeps of its data.
//!
//! A request names a known dataset (`mnist`, `fashion-mnist`) or carries the record of a run's
//! data (which may be `custom`). The files are found (see [`crate::fetch`]), read, and their
//! digests compared with the expected ones:
//! - files of another known dataset are refused, naming it (`--dataset` says which one you want);
//! - files matching no known dataset are refused unless `verify` is off (`--no-verify`), and are
//!   then recorded as `custom`, with their digests and folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::{CUSTOM, DatasetSpec, identify};
use crate::error::DataError;
use crate::fetch::{DataLocation, Places, first_missing};
use crate::mnist::{Mnist, MnistFile, Split};

/// What a run was trained on: written into its `experiment.toml` and `report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataRecord {
    /// `mnist`, `fashion-mnist` or `custom`.
    pub name: String,
    /// The folder the files were read from (absolute).
    pub dir: PathBuf,
    /// How that folder was found: `--data-dir`, `./data/<name>`, `system`, `cache`, `downloaded`.
    pub source: String,
    /// SHA-256 of each decompressed file read, by file name.
    pub sha256: BTreeMap<String, String>,
}

impl DataRecord {
    /// Whether the data is a named dataset (not `custom`), which can be found again by name.
    pub fn is_known(&self) -> bool {
        self.name != CUSTOM
    }
}

/// Which data a command wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// A dataset by name, found by the usual lookup order.
    Known(&'static DatasetSpec),
    /// A run's own data: the same digests, and for `custom` data the same folder by default.
    Run(DataRecord),
}

impl Wanted {
    pub fn name(&self) -> &str {
        match self {
            Wanted::Known(spec) => spec.name,
            Wanted::Run(record) => &record.name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRequest {
    pub wanted: Wanted,
    /// Where to look and download from (`--data-dir`, `--cache-dir`, mirrors).
    pub places: Places,
    /// Refuse files that match no known dataset (off with `--no-verify`).
    pub verify: bool,
}

/// Verified splits and the record of where they came from.
#[derive(Debug, Clone)]
pub struct LoadedData {
    pub record: DataRecord,
    pub train: Option<Mnist>,
    pub test: Mnist,
}

impl DataRequest {
    /// Reads the test split, and the training split too when `with_train`.
    pub fn load(&self, with_train: bool) -> Result<LoadedData, DataError> {
        let location = self.locate()?;
        let mut sha256 = BTreeMap::new();
        let mut read = |split: Split| -> Result<Mnist, DataError> {
            let (data, digests) = Mnist::read(&location.dir, split)?;
            let (images, labels) = split.files();
            sha256.insert(images.name.to_string(), digests[0].clone());
            sha256.insert(labels.name.to_string(), digests[1].clone());
            Ok(data)
        };
        let train = with_train.then(|| read(Split::Train)).transpose()?;
        let test = read(Split::Test)?;
        let name = self.check(&location.dir, &sha256)?;
        let dir = std::path::absolute(&location.dir).unwrap_or(location.dir);
        Ok(LoadedData {
            record: DataRecord {
                name,
                dir,
                source: location.source,
                sha256,
            },
            train,
            test,
        })
    }

    fn locate(&self) -> Result<DataLocation, DataError> {
        match &self.wanted {
            Wanted::Known(spec) => self.places.locate(spec),
            Wanted::Run(record) if record.is_known() => {
                self.places.locate(DatasetSpec::by_name(&record.name)?)
            }
            Wanted::Run(record) => {
                if let Some(location) = self.places.explicit_dir()? {
                    return Ok(location);
                }
                if let Some(file) = first_missing(&record.dir) {
                    return Err(DataError::CustomMissing {
                        dir: record.dir.clone(),
                        name: file.name,
                    });
                }
                Ok(DataLocation {
                    dir: record.dir.clone(),
                    source: record.source.clone(),
                })
            }
        }
    }

    /// The dataset name these digests earn, or why they are refused.
    fn check(&self, dir: &Path, found: &BTreeMap<String, String>) -> Result<String, DataError> {
        let files: Vec<(&MnistFile, &str)> = MnistFile::ALL
            .iter()
            .filter_map(|f| found.get(f.name).map(|d| (f, d.as_str())))
            .collect();
        let expected: Vec<(&'static str, String)> = match &self.wanted {
            Wanted::Known(spec) => files
                .iter()
                .map(|(f, _)| (f.name, spec.digest_of(f).to_string()))
                .collect(),
            Wanted::Run(record) => files
                .iter()
                .filter_map(|(f, _)| record.sha256.get(f.name).map(|d| (f.name, d.clone())))
                .collect(),
        };
        let mismatch = expected
            .iter()
            .find(|(name, digest)| found.get(*name) != Some(digest));
        let Some((file, expected_digest)) = mismatch else {
            return Ok(self.wanted.name().to_string());
        };
        let identified = identify(files.iter().copied());
        if let Some(other) = identified
            && other.name != self.wanted.name()
        {
            return Err(DataError::OtherDataset {
                dir: dir.to_path_buf(),
                found: other.name,
                wanted: self.wanted.name().to_string(),
            });
        }
        if self.verify {
            let path = MnistFile::ALL
                .iter()
                .find(|f| f.name == *file)
                .and_then(|f| f.find_in(dir))
                .unwrap_or_else(|| dir.join(file));
            return Err(DataError::Checksum {
                path,
                dataset: self.wanted.name().to_string(),
                name: file,
                expected: expected_digest.clone(),
                actual: found[*file].clone(),
            });
        }
        Ok(identified.map_or(CUSTOM, |spec| spec.name).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{FASHION_MNIST, MNIST};

    fn digests(spec: &DatasetSpec) -> BTreeMap<String, String> {
        MnistFile::ALL
            .iter()
            .zip(spec.digests)
            .map(|(f, d)| (f.name.to_string(), d.to_string()))
            .collect()
    }

    fn request(wanted: Wanted, verify: bool) -> DataRequest {
        DataRequest {
            wanted,
            places: Places::default(),
            verify,
        }
    }

    #[test]
    fn matching_digests_earn_the_wanted_name() {
        let r = request(Wanted::Known(&FASHION_MNIST), true);
        assert_eq!(
            r.check(Path::new("d"), &digests(&FASHION_MNIST)).unwrap(),
            "fashion-mnist"
        );
    }

    #[test]
    fn another_known_dataset_is_refused_by_name_even_without_verification() {
        for verify in [true, false] {
            let r = request(Wanted::Known(&MNIST), verify);
            let err = r
                .check(Path::new("d"), &digests(&FASHION_MNIST))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("fashion-mnist") && err.contains("--dataset fashion-mnist"),
                "{err}"
            );
        }
    }

    #[test]
    fn unknown_files_need_no_verify_and_are_then_custom() {
        let mut other = digests(&MNIST);
        other.insert("t10k-images-idx3-ubyte".into(), "00".repeat(32));
        let err = request(Wanted::Known(&MNIST), true)
            .check(Path::new("d"), &other)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t10k-images-idx3-ubyte") && err.contains(&"00".repeat(32)),
            "{err}"
        );
        assert_eq!(
            request(Wanted::Known(&MNIST), false)
                .check(Path::new("d"), &other)
                .unwrap(),
            CUSTOM
        );
        // A custom run's data must be the same files again, unless told otherwise.
        let run = DataRecord {
            name: CUSTOM.into(),
            dir: "d".into(),
            source: "--data-dir".into(),
            sha256: other.clone(),
        };
        let r = request(Wanted::Run(run), true);
        assert_eq!(r.check(Path::new("d"), &other).unwrap(), CUSTOM);
        assert!(r.check(Path::new("d"), &digests(&MNIST)).is_err());
    }
}
