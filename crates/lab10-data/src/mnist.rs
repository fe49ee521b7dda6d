//! The four MNIST files, their known digests, and a split decoded into one contiguous buffer.

use std::path::{Path, PathBuf};

use crate::error::DataError;
use crate::idx;

pub const IMAGE_SIDE: usize = 28;
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
pub const NUM_CLASSES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// One of the four standard files, with the SHA-256 of its decompressed bytes
/// (the .gz bytes differ between mirrors, the content does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MnistFile {
    pub name: &'static str,
    pub sha256: &'static str,
    pub items: usize,
}

impl MnistFile {
    pub const TRAIN_IMAGES: Self = Self {
        name: "train-images-idx3-ubyte",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        items: 60_000,
    };
    pub const TRAIN_LABELS: Self = Self {
        name: "train-labels-idx1-ubyte",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        items: 60_000,
    };
    pub const TEST_IMAGES: Self = Self {
        name: "t10k-images-idx3-ubyte",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        items: 10_000,
    };
    pub const TEST_LABELS: Self = Self {
        name: "t10k-labels-idx1-ubyte",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        items: 10_000,
    };
    pub const ALL: [Self; 4] = [
        Self::TRAIN_IMAGES,
        Self::TRAIN_LABELS,
        Self::TEST_IMAGES,
        Self::TEST_LABELS,
    ];

    /// The file in `dir`, compressed or not; `None` if neither is there.
    pub fn find_in(&self, dir: &Path) -> Option<PathBuf> {
        [format!("{}.gz", self.name), self.name.to_string()]
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    }
}

impl Split {
    pub fn files(self) -> (MnistFile, MnistFile) {
        match self {
            Split::Train => (MnistFile::TRAIN_IMAGES, MnistFile::TRAIN_LABELS),
            Split::Test => (MnistFile::TEST_IMAGES, MnistFile::TEST_LABELS),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

/// A decoded split: all images in one row-major `len x 784` byte buffer (no allocation per
/// image), and one label byte per image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mnist {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Mnist {
    /// Reads and validates one split from `dir`. With `verify`, the decompressed bytes must
    /// match the known MNIST digests; without, any IDX files of the right shape are accepted.
    pub fn load(dir: &Path, split: Split, verify: bool) -> Result<Self, DataError> {
        let (image_file, label_file) = split.files();
        let images_path = image_file.find_in(dir).ok_or(DataError::MissingFile {
            dir: dir.to_path_buf(),
            name: image_file.name,
        })?;
        let labels_path = label_file.find_in(dir).ok_or(DataError::MissingFile {
            dir: dir.to_path_buf(),
            name: label_file.name,
        })?;

        let images = read_checked(&images_path, &image_file, 3, verify)?;
        if images.dims[1..] != [IMAGE_SIDE, IMAGE_SIDE] {
            return Err(DataError::Content {
                path: images_path,
                what: format!(
                    "images are {}x{}, expected {IMAGE_SIDE}x{IMAGE_SIDE}",
                    images.dims[1], images.dims[2]
                ),
            });
        }
        let labels = read_checked(&labels_path, &label_file, 1, verify)?;
        if images.dims[0] != labels.dims[0] {
            return Err(DataError::CountMismatch {
                images: images_path,
                labels: labels_path,
                n_images: images.dims[0],
                n_labels: labels.dims[0],
            });
        }
        if let Some((i, &l)) = labels
            .data
            .iter()
            .enumerate()
            .find(|&(_, &l)| l as usize >= NUM_CLASSES)
        {
            return Err(DataError::Content {
                path: labels_path,
                what: format!("label {l} at index {i} is not a digit 0-9"),
            });
        }
        Ok(Self {
            images: images.data,
            labels: labels.data,
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 784 pixels (0..=255) of image `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.images[index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS]
    }

    /// Images `range` as a new split (used for subsets and hold-out validation sets).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        Self {
            images: self.images[range.start * IMAGE_PIXELS..range.end * IMAGE_PIXELS].to_vec(),
            labels: self.labels[range].to_vec(),
        }
    }
}

fn read_checked(
    path: &Path,
    file: &MnistFile,
    rank: usize,
    verify: bool,
) -> Result<idx::IdxArray, DataError> {
    let raw = idx::read_raw(path)?;
    if verify {
        let actual = idx::sha256_hex(&raw);
        if actual != file.sha256 {
            // A wrong digest on a structurally broken file is better explained by the format.
            idx::parse(&raw, rank).map_err(|source| DataError::Format {
                path: path.to_path_buf(),
                source,
            })?;
            return Err(DataError::Checksum {
                path: path.to_path_buf(),
                name: file.name,
                expected: file.sha256,
                actual,
            });
        }
    }
    idx::parse(&raw, rank).map_err(|source| DataError::Format {
        path: path.to_path_buf(),
        source,
    })
}
