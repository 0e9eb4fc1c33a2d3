//! The end-to-end tests, one binary: the six service binaries run as processes on free ports
//! with fresh databases (`conoceles_e2e::ProcessStack`) — started and stopped (`smoke`), the
//! process journeys (`process`), crashes and freezes (`faults`), headless Chromium (`browser`),
//! the municipal elections (`municipal`) and hostile clients (`hostile`); and the journeys with
//! the six services started inside the test process (`in_process`).

mod browser;
mod faults;
mod hostile;
mod in_process;
mod municipal;
mod process;
mod smoke;
