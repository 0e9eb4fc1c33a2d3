//! Import of approved candidacies from a CSV export of the national registry.
//!
//! Every row is checked against the election's catalogs and **all** errors are reported at once
//! (row and column, in Spanish); if any row fails nothing is imported. Re-importing the same
//! file changes nothing; a changed row updates its candidacy, a different person in a seat is a
//! substitution and a row the registry cancelled cancels. New candidacies emit
//! `candidacy.registered` through the outbox, in the same transaction. `preview` says what a
//! file would do, line by line, before it is applied.
//!
//! Columns (header names, in any order; `docs/import.md` documents them):
//! `id_registro, cargo, principio, circunscripcion, postulante, posicion_lista,
//! propietario_nombre, propietario_sexo, propietario_fecha_nacimiento, suplente_nombre,
//! suplente_sexo, suplente_fecha_nacimiento, accion_afirmativa`; optional `fecha_aprobacion,
//! estatus, partido_responsable`. The national registry's own export (one row per person) is
//! read too (`registry`).

mod apply;
pub mod export;
mod parse;
mod registry;
pub mod uploads;

pub use apply::{Change, ImportSummary, apply, history as apply_history, preview, sex_proto};
pub use parse::{
    Catalog, Composition, ImportError, PersonRow, Row, normalize as parse_normalize, parse,
    person_identity,
};
pub use registry::header_key;

/// Files larger than this are refused before parsing.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// And files with more rows than this.
pub const MAX_ROWS: usize = 200_000;
