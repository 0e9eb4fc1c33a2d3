//! A candidate's photograph: any bytes are checked (type by content, size, dimensions, decoding
//! cost) without a panic or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = conoceles_capture::curricular::photo::check(data, 700 * 1024);
});
