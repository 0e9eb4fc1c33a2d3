//! A party's filled bulk-capture template: any bytes are read as the capture service reads them
//! and every section a row fills is validated, without a panic (every problem is a listed error
//! with its line).
#![no_main]

use conoceles_capture::curricular::bulk::read;
use conoceles_curricular::sections::{Bounds, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = read(data) else {
        return;
    };
    for row in &file.rows {
        assert!(row.line >= 2, "rows start after the header");
        for (section, fields) in &row.sections {
            let _ = validate(*section, &Bounds::default(), fields);
        }
    }
});
