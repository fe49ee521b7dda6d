//! The four files of an MNIST-format dataset, and a split decoded into one contiguous buffer.

use std::path::{Path, PathBuf};

use crate::error::DataError;
use crate::idx;

pub use lab10_image::{IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// One of the four standard files (the same names for every dataset of this format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MnistFile {
    pub name: &'static str,
}

impl MnistFile {
    pub const TRAIN_IMAGES: Self = Self::named("train-images-idx3-ubyte");
    pub const TRAIN_LABELS: Self = Self::named("train-labels-idx1-ubyte");
    pub const TEST_IMAGES: Self = Self::named("t10k-images-idx3-ubyte");
    pub const TEST_LABELS: Self = Self::named("t10k-labels-idx1-ubyte");
    pub const ALL: [Self; 4] = [
        Self::TRAIN_IMAGES,
        Self::TRAIN_LABELS,
        Self::TEST_IMAGES,
        Self::TEST_LABELS,
    ];

    const fn named(name: &'static str) -> Self {
        Self { name }
    }

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
}

/// A decoded split: all images in one row-major `len x 784` byte buffer (no allocation per
/// image), and one label byte per image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mnist {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Mnist {
    /// Reads and validates one split from `dir`, and returns it with the SHA-256 of the
    /// decompressed images and labels files (whether those are the expected ones is for the
    /// caller to judge: see [`crate::source`]).
    pub fn read(dir: &Path, split: Split) -> Result<(Self, [String; 2]), DataError> {
        let find = |file: MnistFile| {
            file.find_in(dir).ok_or(DataError::MissingFile {
                dir: dir.to_path_buf(),
                name: file.name,
            })
        };
        let (image_file, label_file) = split.files();
        let (images_path, labels_path) = (find(image_file)?, find(label_file)?);

        let (images, images_digest) = read_idx(&images_path, 3)?;
        if images.dims[1..] != [IMAGE_SIDE, IMAGE_SIDE] {
            return Err(DataError::Content {
                path: images_path,
                what: format!(
                    "images are {}x{}, expected {IMAGE_SIDE}x{IMAGE_SIDE}",
                    images.dims[1], images.dims[2]
                ),
            });
        }
        let (labels, labels_digest) = read_idx(&labels_path, 1)?;
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
                what: format!("label {l} at index {i} is not a class 0-9"),
            });
        }
        let split = Self {
            images: images.data,
            labels: labels.data,
        };
        Ok((split, [images_digest, labels_digest]))
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

/// Parses one IDX file and digests its decompressed bytes.
fn read_idx(path: &Path, rank: usize) -> Result<(idx::IdxArray, String), DataError> {
    let raw = read_raw(path)?;
    let array = idx::parse(&raw, rank).map_err(|source| DataError::Format {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((array, idx::sha256_hex(&raw)))
}

/// Reads a (possibly gzip-compressed) IDX file: the raw bytes, ready for [`idx::parse`] and
/// hashing.
fn read_raw(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    idx::decompress(bytes).map_err(|source| DataError::Format {
        path: path.to_path_buf(),
        source,
    })
}
