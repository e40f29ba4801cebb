//! Parsed newtypes: a value of one of these types has passed its rules.

pub mod api_key;
mod connection_id;
pub mod deadline;
mod model_id;
mod public_url;
pub mod spelling;

pub use api_key::ApiKey;
pub use connection_id::ConnectionId;
pub use model_id::ModelId;
pub use public_url::{PublicUrl, PublicUrlError, is_host};
