//! `GET /connector/apiDefinition.swagger.json` and `GET /connector/apiProperties.json`: the
//! connector files for "Import an OpenAPI from URL", with this deployment's host. No key,
//! not rate limited.

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::domain::PublicUrl;
use crate::error::ApiError;
use crate::routes;

/// The connector files, built once at start-up, and the public address when configured.
pub struct ConnectorFiles {
    definition: Value,
    mcp_definition: Value,
    properties: String,
    public: Option<PublicUrl>,
}

impl ConnectorFiles {
    /// The files for a service whose `PUBLIC_BASE_URL` is `public`; without one, the host is
    /// taken from each request.
    pub fn new(public: Option<PublicUrl>) -> ConnectorFiles {
        let definition = super::definition();
        ConnectorFiles {
            mcp_definition: super::mcp::definition(&definition),
            definition,
            properties: super::api_properties_json(),
            public,
        }
    }

    /// `definition` for the deployment `request` reached, and whether it was taken from the
    /// request (so the answer varies with its host headers).
    fn definition_for(
        &self,
        definition: &Value,
        request: &HttpRequest,
    ) -> Result<(String, bool), ApiError> {
        let (deployment, from_request) = match &self.public {
            Some(public) => (public.clone(), false),
            None => (
                PublicUrl::from_request(request).ok_or_else(unusable_host)?,
                true,
            ),
        };
        let mut definition = definition.clone();
        super::apply(&deployment, &mut definition);
        Ok((super::pretty(&definition), from_request))
    }
}

/// `GET /connector/apiDefinition.swagger.json`: the Swagger 2.0 definition with `host` and
/// `schemes` of this deployment (`PUBLIC_BASE_URL`, else the request's forwarded or own host).
pub async fn api_definition(
    request: HttpRequest,
    files: web::Data<ConnectorFiles>,
) -> Result<HttpResponse, ApiError> {
    definition_answer(files.definition_for(&files.definition, &request)?)
}

/// `GET /connector/mcp/apiDefinition.swagger.json`: the Copilot Studio connector of the MCP
/// server, with `host` and `schemes` of this deployment as for the actions' definition.
pub async fn mcp_api_definition(
    request: HttpRequest,
    files: web::Data<ConnectorFiles>,
) -> Result<HttpResponse, ApiError> {
    definition_answer(files.definition_for(&files.mcp_definition, &request)?)
}

fn definition_answer((body, from_request): (String, bool)) -> Result<HttpResponse, ApiError> {
    let mut response = HttpResponse::Ok();
    response.content_type(ContentType::json());
    if from_request {
        response.insert_header((
            header::VARY,
            "Host, X-Forwarded-Host, X-Forwarded-Proto, Forwarded",
        ));
    }
    Ok(response.body(body))
}

/// `GET /connector/apiProperties.json`: the connector's properties.
pub async fn api_properties(files: web::Data<ConnectorFiles>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(files.properties.clone())
}

/// Mounts the files, each answering `405` with `Allow: GET` to another method, with the
/// files as their own state.
pub fn configure(files: web::Data<ConnectorFiles>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .app_data(files)
            .service(routes::mount(routes::CONNECTOR_DEFINITION, api_definition))
            .service(routes::mount(routes::CONNECTOR_PROPERTIES, api_properties))
            .service(routes::mount(
                routes::MCP_CONNECTOR_DEFINITION,
                mcp_api_definition,
            ))
            // One connection parameter, the key, in both connectors.
            .service(routes::mount(
                routes::MCP_CONNECTOR_PROPERTIES,
                api_properties,
            ));
    }
}

fn unusable_host() -> ApiError {
    ApiError::invalid(
        "Host",
        "The host this request came to cannot be a Power Platform connector host (a DNS name or \
         IPv4 address, with an optional port). Set PUBLIC_BASE_URL on the service, or call it by \
         its name.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, test};

    async fn get(
        files: ConnectorFiles,
        request: test::TestRequest,
    ) -> (u16, Value, Option<String>) {
        let app = test::init_service(App::new().configure(configure(web::Data::new(files)))).await;
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        let vary = response
            .headers()
            .get(header::VARY)
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
        (status, body, vary)
    }

    #[actix_web::test]
    async fn the_public_base_url_wins_over_the_request() {
        let files = ConnectorFiles::new(Some("https://flows.example.com".parse().unwrap()));
        let request = test::TestRequest::get()
            .uri(routes::CONNECTOR_DEFINITION.path)
            .insert_header(("Host", "internal:8080"));
        let (status, body, vary) = get(files, request).await;
        assert_eq!(status, 200);
        assert_eq!(body["host"], "flows.example.com");
        assert_eq!(body["schemes"], serde_json::json!(["https"]));
        assert_eq!(vary, None);
    }

    #[actix_web::test]
    async fn without_a_public_base_url_the_forwarded_host_is_used() {
        let request = test::TestRequest::get()
            .uri(routes::CONNECTOR_DEFINITION.path)
            .insert_header(("X-Forwarded-Host", "public.example.com"))
            .insert_header(("X-Forwarded-Proto", "https"));
        let (status, body, vary) = get(ConnectorFiles::new(None), request).await;
        assert_eq!(status, 200);
        assert_eq!(body["host"], "public.example.com");
        assert_eq!(body["schemes"], serde_json::json!(["https"]));
        assert!(vary.unwrap().contains("X-Forwarded-Host"));
    }

    #[actix_web::test]
    async fn an_unusable_host_is_a_400_saying_what_to_set() {
        let request = test::TestRequest::get()
            .uri(routes::CONNECTOR_DEFINITION.path)
            .insert_header(("Host", "a b"));
        let (status, body, _) = get(ConnectorFiles::new(None), request).await;
        assert_eq!(status, 400);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("PUBLIC_BASE_URL")
        );
    }

    #[actix_web::test]
    async fn another_method_is_a_405() {
        let request = test::TestRequest::post().uri(routes::CONNECTOR_PROPERTIES.path);
        let (status, body, _) = get(ConnectorFiles::new(None), request).await;
        assert_eq!(status, 405);
        assert_eq!(body["error"]["code"], 405);
    }
}
