//! Where a deployment of the service answers: the `host`, `schemes` and `basePath` of the
//! definition, from `PUBLIC_BASE_URL` (or `--public-url`) or from the request that asked.

use actix_web::HttpRequest;
use reqwest::Url;
use serde_json::{Value, json};

use super::PLACEHOLDER_HOST;

/// The public address of one deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    scheme: String,
    host: String,
    base_path: String,
}

impl Deployment {
    /// The placeholder of the committed files: `https://openrouter-connector.example.com/`.
    pub fn placeholder() -> Deployment {
        Deployment {
            scheme: "https".to_owned(),
            host: PLACEHOLDER_HOST.to_owned(),
            base_path: "/".to_owned(),
        }
    }

    /// The deployment at `url` (e.g. `https://connector.example.com` or
    /// `https://example.com/openrouter`, whose path becomes the `basePath`).
    pub fn from_url(url: &str) -> Result<Deployment, String> {
        let parsed = Url::parse(url).map_err(|error| format!("{url} is not a URL: {error}"))?;
        let scheme = parsed.scheme().to_owned();
        if scheme != "http" && scheme != "https" {
            return Err(format!("{url} must start with http:// or https://"));
        }
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(format!("{url} has no host")),
        };
        if !is_host(&host) {
            return Err(format!(
                "{url}: Power Platform needs a host name (an IPv6 address cannot be used)"
            ));
        }
        let path = parsed.path().trim_end_matches('/');
        let base_path = if path.is_empty() { "/" } else { path };
        Ok(Deployment {
            scheme,
            host,
            base_path: base_path.to_owned(),
        })
    }

    /// The deployment as the caller reached it: `Forwarded`, `X-Forwarded-Host` and
    /// `X-Forwarded-Proto` when a proxy set them, else `Host` and the connection's scheme.
    /// None when the host is not one Power Platform accepts.
    pub fn from_request(request: &HttpRequest) -> Option<Deployment> {
        let info = request.connection_info();
        let host = info.host().trim().to_ascii_lowercase();
        let scheme = info.scheme().trim().to_ascii_lowercase();
        let scheme = if scheme == "http" { "http" } else { "https" };
        is_host(&host).then(|| Deployment {
            scheme: scheme.to_owned(),
            host,
            base_path: "/".to_owned(),
        })
    }

    /// The `host` of the definition: a name and maybe a port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The URL the connector's paths hang below, without a trailing slash.
    pub fn base_url(&self) -> String {
        let path = self.base_path.trim_end_matches('/');
        format!("{}://{}{path}", self.scheme, self.host)
    }

    /// Writes `host`, `basePath` and `schemes` into a definition.
    pub fn apply(&self, definition: &mut Value) {
        if let Some(root) = definition.as_object_mut() {
            root.insert("host".to_owned(), json!(self.host));
            root.insert("basePath".to_owned(), json!(self.base_path));
            root.insert("schemes".to_owned(), json!([self.scheme]));
        }
    }
}

/// Whether `host` matches Swagger's host rule (`^[^{}/ :\\]+(?::\d+)?$`) and holds only the
/// characters of a DNS name or an IPv4 address.
pub fn is_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    name_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn a_public_url_gives_host_scheme_and_base_path() {
        let deployment =
            Deployment::from_url("https://Connector.Example.com:8443/openrouter/").unwrap();
        assert_eq!(deployment.host(), "connector.example.com:8443");
        assert_eq!(deployment.scheme(), "https");
        assert_eq!(
            deployment.base_url(),
            "https://connector.example.com:8443/openrouter"
        );
        let mut definition = json!({"host": "x", "basePath": "/", "schemes": ["http"]});
        deployment.apply(&mut definition);
        assert_eq!(
            definition,
            json!({"host": "connector.example.com:8443", "basePath": "/openrouter", "schemes": ["https"]})
        );
    }

    #[test]
    fn a_default_port_is_left_out() {
        let deployment = Deployment::from_url("http://localhost:80").unwrap();
        assert_eq!(deployment.host(), "localhost");
        assert_eq!(deployment.base_url(), "http://localhost");
    }

    #[test]
    fn a_url_that_power_platform_cannot_use_is_refused() {
        assert!(Deployment::from_url("ftp://example.com").is_err());
        assert!(Deployment::from_url("https://[::1]:8080").is_err());
        assert!(Deployment::from_url("not a url").is_err());
    }

    #[test]
    fn forwarded_headers_win_over_host() {
        let request = TestRequest::default()
            .insert_header(("Host", "internal:8080"))
            .insert_header(("X-Forwarded-Host", "public.example.com, proxy.local"))
            .insert_header(("X-Forwarded-Proto", "https"))
            .to_http_request();
        let deployment = Deployment::from_request(&request).unwrap();
        assert_eq!(deployment.base_url(), "https://public.example.com");
    }

    #[test]
    fn without_forwarded_headers_the_host_header_is_used() {
        let request = TestRequest::default()
            .insert_header(("Host", "127.0.0.1:8080"))
            .to_http_request();
        assert_eq!(
            Deployment::from_request(&request).unwrap().base_url(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn a_hostile_forwarded_host_is_not_echoed() {
        let request = TestRequest::default()
            .insert_header(("X-Forwarded-Host", "evil.example.com/\"}"))
            .to_http_request();
        assert_eq!(Deployment::from_request(&request), None);
    }
}
