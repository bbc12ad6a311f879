//! placeholder: being written
pub mod schema;
