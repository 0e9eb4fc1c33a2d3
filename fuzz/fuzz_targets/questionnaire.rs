//! An identity questionnaire definition (JSON an administrator uploads): parsed and checked
//! without a panic; a definition that passes its check validates answers without one either.
#![no_main]

use std::collections::BTreeMap;

use conoceles_identity_questionnaire::Definition;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(definition) = Definition::parse(text)
        && definition.check().is_ok()
    {
        let _ = definition.validate(BTreeMap::new());
        let _ = definition.aggregate_tables();
    }
});
