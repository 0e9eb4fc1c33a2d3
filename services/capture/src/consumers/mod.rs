//! The events capture applies from the broker.

pub mod reviews;
