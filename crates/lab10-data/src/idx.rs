//! The IDX format MNIST ships in: a 4-byte magic (two zero bytes, a type code, the number of
//! dimensions), one big-endian u32 per dimension, then the data in row-major order.
//! Files may be gzip-compressed; the digest that identifies a file is that of the raw bytes.

use std::io::Read;

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

/// Type code of unsigned bytes, the only element type MNIST uses.
const TYPE_U8: u8 = 0x08;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Guards against a corrupt header asking for an absurd allocation.
const MAX_ELEMENTS: usize = 1 << 32;

/// Why a byte string is not a valid IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdxError {
    #[error("empty file")]
    Empty,
    #[error("not gzip data that decompresses cleanly ({0})")]
    Gzip(String),
    #[error("truncated header: {0} bytes, an IDX header needs at least {1}")]
    TruncatedHeader(usize, usize),
    #[error("wrong magic number {0:02x?}: an IDX file starts with 00 00 08 <ndims>")]
    BadMagic([u8; 4]),
    #[error("element type 0x{0:02x} is not unsigned bytes (0x08)")]
    UnsupportedType(u8),
    #[error("{0} dimensions; expected {1}")]
    WrongRank(usize, usize),
    #[error("dimensions {0:?} describe more data than any MNIST file holds")]
    TooLarge(Vec<usize>),
    #[error(
        "truncated: the header announces {expected} data bytes ({dims:?}) but only {actual} follow"
    )]
    Truncated {
        dims: Vec<usize>,
        expected: usize,
        actual: usize,
    },
    #[error(
        "{extra} unexpected bytes after the {expected} data bytes the header announces ({dims:?})"
    )]
    TrailingBytes {
        dims: Vec<usize>,
        expected: usize,
        extra: usize,
    },
}

/// A decoded IDX array of bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Decompresses `bytes` if they are gzip, leaving raw IDX bytes as they are.
pub fn decompress(bytes: Vec<u8>) -> Result<Vec<u8>, IdxError> {
    if bytes.is_empty() {
        return Err(IdxError::Empty);
    }
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut raw = Vec::with_capacity(bytes.len() * 4);
    GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut raw)
        .map_err(|e| IdxError::Gzip(e.to_string()))?;
    if raw.is_empty() {
        return Err(IdxError::Empty);
    }
    Ok(raw)
}

/// Parses raw (decompressed) IDX bytes holding an array of `rank` dimensions.
pub fn parse(raw: &[u8], rank: usize) -> Result<IdxArray, IdxError> {
    if raw.is_empty() {
        return Err(IdxError::Empty);
    }
    if raw.len() < 4 {
        return Err(IdxError::TruncatedHeader(raw.len(), 4 + 4 * rank));
    }
    let magic = [raw[0], raw[1], raw[2], raw[3]];
    if magic[0] != 0 || magic[1] != 0 {
        return Err(IdxError::BadMagic(magic));
    }
    if magic[2] != TYPE_U8 {
        return Err(IdxError::UnsupportedType(magic[2]));
    }
    let ndims = magic[3] as usize;
    if ndims != rank {
        return Err(IdxError::WrongRank(ndims, rank));
    }
    let header = 4 + 4 * ndims;
    if raw.len() < header {
        return Err(IdxError::TruncatedHeader(raw.len(), header));
    }
    let dims: Vec<usize> = raw[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| IdxError::TooLarge(dims.clone()))?;
    let actual = raw.len() - header;
    if actual < expected {
        return Err(IdxError::Truncated {
            dims,
            expected,
            actual,
        });
    }
    if actual > expected {
        return Err(IdxError::TrailingBytes {
            dims,
            expected,
            extra: actual - expected,
        });
    }
    Ok(IdxArray {
        dims,
        data: raw[header..].to_vec(),
    })
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, TYPE_U8, dims.len() as u8];
        for d in dims {
            out.extend(d.to_be_bytes());
        }
        out.extend(data);
        out
    }

    #[test]
    fn parses_a_small_array() {
        let a = parse(&idx(&[2, 3], &[1, 2, 3, 4, 5, 6]), 2).unwrap();
        assert_eq!(a.dims, vec![2, 3]);
        assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn rejects_each_malformation() {
        assert_eq!(parse(&[], 1), Err(IdxError::Empty));
        assert_eq!(parse(&[0, 0], 1), Err(IdxError::TruncatedHeader(2, 8)));
        assert_eq!(
            parse(&[0, 0, 8, 1, 0, 0], 1),
            Err(IdxError::TruncatedHeader(6, 8))
        );
        let mut bad = idx(&[1], &[7]);
        bad[0] = 0x42;
        assert!(matches!(parse(&bad, 1), Err(IdxError::BadMagic(_))));
        let mut float = idx(&[1], &[7]);
        float[2] = 0x0d;
        assert_eq!(parse(&float, 1), Err(IdxError::UnsupportedType(0x0d)));
        assert_eq!(parse(&idx(&[1], &[7]), 3), Err(IdxError::WrongRank(1, 3)));
        assert!(matches!(
            parse(&idx(&[4], &[1, 2]), 1),
            Err(IdxError::Truncated {
                expected: 4,
                actual: 2,
                ..
            })
        ));
        assert!(matches!(
            parse(&idx(&[1], &[1, 2]), 1),
            Err(IdxError::TrailingBytes { extra: 1, .. })
        ));
        assert!(matches!(
            parse(&idx(&[u32::MAX, u32::MAX, u32::MAX], &[]), 3),
            Err(IdxError::TooLarge(_))
        ));
    }

    #[test]
    fn gzip_is_transparent_and_corrupt_gzip_is_refused() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let raw = idx(&[3], &[9, 8, 7]);
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(&raw).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(decompress(gz.clone()).unwrap(), raw);
        assert_eq!(decompress(raw.clone()).unwrap(), raw);
        let cut = gz[..gz.len() / 2].to_vec();
        assert!(matches!(decompress(cut), Err(IdxError::Gzip(_))));
        assert_eq!(decompress(Vec::new()), Err(IdxError::Empty));
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_digest() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
