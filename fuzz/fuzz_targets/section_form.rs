//! A curricular section as a party's browser posts it: any form body is decoded as the capture
//! front decodes it and validated against every section's rules without a panic.
#![no_main]

use conoceles_curricular::sections::{Bounds, Fields, Section, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        return;
    };
    let fields: Fields = pairs.into_iter().collect();
    for section in Section::ALL {
        let _ = validate(section, &Bounds::default(), &fields);
    }
});
