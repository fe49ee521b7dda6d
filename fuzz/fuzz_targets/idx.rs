//! Any bytes, compressed or not, must give an IDX array or an error: never a panic, a hang or
//! an absurd allocation.
#![no_main]

use lab10_data::idx::{decompress, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(raw) = decompress(data.to_vec()) {
        for rank in [1, 3] {
            if let Ok(array) = parse(&raw, rank) {
                assert_eq!(array.dims.len(), rank);
                assert_eq!(array.data.len(), array.dims.iter().product::<usize>());
            }
        }
    }
});
