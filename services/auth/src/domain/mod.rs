//! Values parsed at the edge: the inside of the service only sees valid ones.

mod email;
pub mod login_name;
mod password;

pub use email::Email;
pub use password::{Password, PasswordError};
