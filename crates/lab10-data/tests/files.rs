//! Every rejection of the MNIST loader, on small crafted files.

use std::path::Path;

use flate2::{Compression, write::GzEncoder};
use lab10_data::{DataError, DataRequest, MNIST, Mnist, Places, Wanted};
use std::io::Write;

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(data);
    out
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A tiny test split: `n` 28x28 images and `m` labels (and the same as a training split, so
/// that the folder holds all four files).
fn write_split(dir: &Path, n: u32, m: u32, side: u32) {
    let images = idx(&[n, side, side], &vec![7u8; (n * side * side) as usize]);
    let labels = idx(&[m], &(0..m).map(|i| (i % 10) as u8).collect::<Vec<_>>());
    std::fs::write(dir.join("t10k-images-idx3-ubyte.gz"), gz(&images)).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), &labels).unwrap();
    std::fs::write(dir.join("train-images-idx3-ubyte"), &images).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), &labels).unwrap();
}

fn load(dir: &Path, verify: bool) -> Result<Mnist, DataError> {
    let request = DataRequest {
        wanted: Wanted::Known(&MNIST),
        places: Places {
            dir: Some(dir.to_path_buf()),
            ..Places::default()
        },
        verify,
    };
    request.load(false).map(|d| d.test)
}

#[test]
fn a_well_formed_split_loads_into_one_buffer_when_verification_is_off() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), 3, 3, 28);
    let m = load(dir.path(), false).unwrap();
    assert_eq!(m.len(), 3);
    assert_eq!(m.images.len(), 3 * 784);
    assert_eq!(m.labels, vec![0, 1, 2]);
    assert_eq!(m.image(2).len(), 784);
}

#[test]
fn files_that_are_not_mnist_fail_the_checksum_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), 3, 3, 28);
    let err = load(dir.path(), true).unwrap_err().to_string();
    assert!(err.contains("t10k-images-idx3-ubyte.gz"), "{err}");
    assert!(err.contains("SHA-256"), "{err}");
    assert!(err.contains("--no-verify"), "{err}");
}

#[test]
fn unverified_files_are_recorded_as_custom_with_their_digests_and_folder() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), 3, 3, 28);
    let request = DataRequest {
        wanted: Wanted::Known(&MNIST),
        places: Places {
            dir: Some(dir.path().to_path_buf()),
            ..Places::default()
        },
        verify: false,
    };
    let loaded = request.load(true).unwrap();
    assert_eq!(loaded.record.name, "custom");
    assert_eq!(loaded.record.sha256.len(), 4);
    assert_eq!(
        loaded.record.sha256["t10k-labels-idx1-ubyte"],
        lab10_data::idx::sha256_hex(&idx(&[3], &[0, 1, 2]))
    );
    assert!(loaded.record.dir.is_absolute());
    assert_eq!(loaded.record.source, "--data-dir");
    assert_eq!(loaded.train.unwrap().len(), 3);
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), 3, 3, 28);
    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte")).unwrap();
    let err = load(dir.path(), false).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::MissingFile {
                name: "t10k-labels-idx1-ubyte",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn image_and_label_counts_must_agree() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), 3, 4, 28);
    let err = load(dir.path(), false).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::CountMismatch {
                n_images: 3,
                n_labels: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("3 images"), "{err}");
}

#[test]
fn images_must_be_28_by_28() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), 2, 2, 27);
    let err = load(dir.path(), false).unwrap_err().to_string();
    assert!(err.contains("27x27") && err.contains("28x28"), "{err}");
}

#[test]
fn labels_must_be_digits() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), 2, 2, 28);
    std::fs::write(
        dir.path().join("t10k-labels-idx1-ubyte"),
        idx(&[2], &[3, 12]),
    )
    .unwrap();
    let err = load(dir.path(), false).unwrap_err().to_string();
    assert!(err.contains("label 12 at index 1"), "{err}");
}

#[test]
fn truncated_empty_corrupt_and_foreign_files_are_refused_with_their_reason() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "empty file"),
        ("truncated", idx(&[2, 28, 28], &[0; 100]), "truncated"),
        ("bad magic", b"GIF89a-not-an-idx-file".to_vec(), "magic"),
        (
            "corrupt gzip",
            gz(&idx(&[2, 28, 28], &[0; 1568]))[..40].to_vec(),
            "gzip",
        ),
        ("wrong rank", idx(&[2], &[0, 0]), "dimensions"),
    ];
    for (what, bytes, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_split(dir.path(), 2, 2, 28);
        std::fs::write(dir.path().join("t10k-images-idx3-ubyte.gz"), &bytes).unwrap();
        for verify in [false, true] {
            let err = load(dir.path(), verify).unwrap_err().to_string();
            assert!(err.contains("t10k-images-idx3-ubyte.gz"), "{what}: {err}");
            assert!(err.contains(expect), "{what} (verify {verify}): {err}");
        }
    }
}

#[test]
fn the_shipped_mnist_files_verify() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let test = load(&dir, true).unwrap();
    assert_eq!(test.len(), 10_000);
    // The first test digit of MNIST is a 7.
    assert_eq!(test.labels[0], 7);
}

/// The fuzz target's seed corpus (and any crash input saved next to it) replayed as a test:
/// every input gives a value or an error, never a panic.
#[test]
fn the_fuzz_corpus_parses_or_errors_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/idx");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        if let Ok(raw) = lab10_data::idx::decompress(bytes) {
            for rank in [1, 3] {
                if let Ok(a) = lab10_data::idx::parse(&raw, rank) {
                    assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
                }
            }
        }
        seen += 1;
    }
    assert!(seen >= 8, "the corpus is there");
}
