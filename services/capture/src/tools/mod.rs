//! What operators and developers run beside the service: the demo process, the synthetic
//! candidacy generator and the import benchmark.

pub mod bench;
pub mod demo;
pub mod demo_emblems;
pub mod generator;
