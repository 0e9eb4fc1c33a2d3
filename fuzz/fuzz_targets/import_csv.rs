//! The electoral body's candidacy CSV: any bytes are parsed and checked against a small catalog
//! without a panic (every problem is a listed error).
#![no_main]

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use conoceles_capture::import::{Catalog, parse};
use libfuzzer_sys::fuzz_target;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog {
        election_day: chrono::NaiveDate::from_ymd_opt(2027, 6, 6).expect("a date"),
        offices: HashMap::from([
            ("diputacion_mr".into(), ("mr".into(), "district".into())),
            ("diputacion_rp".into(), ("rp".into(), "list".into())),
        ]),
        constituencies: HashSet::from([
            ("district".into(), "01".into()),
            ("district".into(), "02".into()),
            ("list".into(), "RP".into()),
        ]),
        postulants: HashMap::from([
            ("PAN".into(), uuid::Uuid::from_u128(1)),
            ("MORENA".into(), uuid::Uuid::from_u128(2)),
        ]),
        occupied: HashMap::from([(
            ("diputacion_mr".into(), "01".into(), "PAN".into(), 0),
            "REG-1".into(),
        )]),
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = parse(data, catalog());
});
