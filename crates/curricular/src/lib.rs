//! The curricular questionnaire's sections, fields and rules (DESIGN §6): one definition that
//! the capture front checks as people type and `validation` checks again on every submission.

pub mod definition;
pub mod fields;
pub mod sections;

pub use definition::{Definition, ExtraField, ExtraKind};
pub use sections::{Bounds, Fields, Section, validate};
