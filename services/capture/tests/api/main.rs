//! Capture's tests: the import and the demo election against a real database. The journeys
//! across the six services (the front included) are in `tests/tests/e2e/in_process/`.

mod cli;
mod import;
