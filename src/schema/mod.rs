//! JSON Schemas as Power Platform reads them: the Swagger 2.0 form of a schema, used both for the
//! generated connector and for the schema a maker types on a Chat Completion card, and the
//! display names fields get. Nothing here knows about the connector or the actions.

pub mod cost;
pub mod names;
pub mod output;
pub mod swagger;

pub use output::{OutputSchemaError, output_schema};
