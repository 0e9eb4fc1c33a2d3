//! Capture's tests, one binary: the front's screens and API (`front`), the import and the demo
//! election against a real database (`import`), and the journeys across the six services started
//! in this process on free ports (`journeys`); `common` is the stack they share.

mod common;
mod front;
mod import;
mod journeys;
