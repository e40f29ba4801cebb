//! The Power Platform custom connector: Swagger 2.0 generated from the OpenAPI document.
