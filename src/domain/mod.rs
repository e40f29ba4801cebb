//! Parsed newtypes: a value of one of these types has passed its rules.

pub mod api_key;
mod connection_id;
mod model_id;

pub use api_key::ApiKey;
pub use connection_id::ConnectionId;
pub use model_id::ModelId;
