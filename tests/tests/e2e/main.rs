//! The end-to-end tests, one binary: the six service binaries run as processes on free ports
//! with fresh databases (`conoceles_e2e::ProcessStack`) — started and stopped (`smoke`), the
//! process journeys (`process`), crashes and freezes (`faults`), headless Chromium (`browser`),
//! the municipal elections (`municipal`) and hostile clients (`hostile`).

mod browser;
mod faults;
mod hostile;
mod municipal;
mod process;
mod smoke;
