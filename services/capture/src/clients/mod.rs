//! One typed client per peer capture calls, each sending capture's own service token or the
//! person's acting token as the call requires.

pub mod auth;
pub mod identity;
pub mod statistics;
pub mod validation;

pub use auth::AuthClient;
pub use identity::IdentityClient;
pub use statistics::StatisticsClient;
pub use validation::ValidationClient;
