//! Where a deployment of the service answers (scheme, host, base path), from `PUBLIC_BASE_URL`
//! (or `--public-url`) or from the request that asked. The connector definition's `host` and
//! the async `Location` are both built from it.

use actix_web::HttpRequest;
use reqwest::Url;

/// The public address of one deployment of the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    scheme: String,
    host: String,
    base_path: String,
}

/// Why a URL cannot be this deployment's public URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PublicUrlError(String);

impl std::str::FromStr for PublicUrl {
    type Err = PublicUrlError;

    fn from_str(url: &str) -> Result<PublicUrl, PublicUrlError> {
        PublicUrl::from_url(url)
    }
}

impl PublicUrl {
    /// The example deployment `https://openrouter-connector.example.com/`, written into the
    /// committed connector files, where a maker replaces it or the service serves its own host.
    pub fn example() -> PublicUrl {
        PublicUrl {
            scheme: "https".to_owned(),
            host: "openrouter-connector.example.com".to_owned(),
            base_path: "/".to_owned(),
        }
    }

    /// The deployment at `url` (e.g. `https://connector.example.com` or
    /// `https://example.com/openrouter`, whose path becomes the `basePath`).
    pub fn from_url(url: &str) -> Result<PublicUrl, PublicUrlError> {
        let parsed = Url::parse(url)
            .map_err(|error| PublicUrlError(format!("{url} is not a URL: {error}")))?;
        let scheme = parsed.scheme().to_owned();
        if scheme != "http" && scheme != "https" {
            return Err(PublicUrlError(format!(
                "{url} must start with http:// or https://"
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(PublicUrlError(format!(
                "{url} must not hold a user name or password"
            )));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(PublicUrlError(format!(
                "{url} must not hold a query (`?`) or a fragment (`#`)"
            )));
        }
        if parsed.port() == Some(0) {
            return Err(PublicUrlError(format!("{url} must not use port 0")));
        }
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(PublicUrlError(format!("{url} has no host"))),
        };
        if !is_host(&host) {
            return Err(PublicUrlError(format!(
                "{url}: Power Platform needs a host name of letters, digits, dots and hyphens \
                 (such as connector.example.com) or an IPv4 address; an IPv6 address or a `_` \
                 cannot be used"
            )));
        }
        let path = parsed.path().trim_end_matches('/');
        let base_path = if path.is_empty() { "/" } else { path };
        Ok(PublicUrl {
            scheme,
            host,
            base_path: base_path.to_owned(),
        })
    }

    /// The deployment as the caller reached it: `Forwarded`, `X-Forwarded-Host` and
    /// `X-Forwarded-Proto` when a proxy set them, else `Host` and the connection's scheme.
    /// None when the host is not one Power Platform accepts.
    pub fn from_request(request: &HttpRequest) -> Option<PublicUrl> {
        let info = request.connection_info();
        let host = info.host().trim().to_ascii_lowercase();
        let scheme = info.scheme().trim().to_ascii_lowercase();
        let scheme = if scheme == "http" { "http" } else { "https" };
        is_host(&host).then(|| PublicUrl {
            scheme: scheme.to_owned(),
            host,
            base_path: "/".to_owned(),
        })
    }

    /// The base path: `/`, or the path of `PUBLIC_BASE_URL` without a trailing slash.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The host: a name and maybe a port.
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
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
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
            PublicUrl::from_url("https://Connector.Example.com:8443/openrouter/").unwrap();
        assert_eq!(deployment.host(), "connector.example.com:8443");
        assert_eq!(deployment.scheme(), "https");
        assert_eq!(
            deployment.base_url(),
            "https://connector.example.com:8443/openrouter"
        );
        assert_eq!(deployment.base_path(), "/openrouter");
    }

    #[test]
    fn a_default_port_is_left_out() {
        let deployment = PublicUrl::from_url("http://localhost:80").unwrap();
        assert_eq!(deployment.host(), "localhost");
        assert_eq!(deployment.base_url(), "http://localhost");
    }

    #[test]
    fn a_url_that_power_platform_cannot_use_is_refused() {
        assert!(PublicUrl::from_url("ftp://example.com").is_err());
        assert!(PublicUrl::from_url("https://[::1]:8080").is_err());
        assert!(PublicUrl::from_url("not a url").is_err());
    }

    #[test]
    fn forwarded_headers_win_over_host() {
        let request = TestRequest::default()
            .insert_header(("Host", "internal:8080"))
            .insert_header(("X-Forwarded-Host", "public.example.com, proxy.local"))
            .insert_header(("X-Forwarded-Proto", "https"))
            .to_http_request();
        let deployment = PublicUrl::from_request(&request).unwrap();
        assert_eq!(deployment.base_url(), "https://public.example.com");
    }

    #[test]
    fn without_forwarded_headers_the_host_header_is_used() {
        let request = TestRequest::default()
            .insert_header(("Host", "127.0.0.1:8080"))
            .to_http_request();
        assert_eq!(
            PublicUrl::from_request(&request).unwrap().base_url(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn a_hostile_forwarded_host_is_not_echoed() {
        let request = TestRequest::default()
            .insert_header(("X-Forwarded-Host", "evil.example.com/\"}"))
            .to_http_request();
        assert_eq!(PublicUrl::from_request(&request), None);
    }

    #[test]
    fn a_url_with_parts_power_platform_would_drop_or_refuse_is_refused() {
        for url in [
            "https://x_y.example.com",
            "https://..",
            "https://a..b.example.com",
            "https://-a.example.com",
            "https://example.com:0",
            "https://user:pw@example.com",
            "https://example.com/?q=1",
            "https://example.com/#f",
        ] {
            assert!(PublicUrl::from_url(url).is_err(), "{url}");
        }
        let message = PublicUrl::from_url("https://x_y.example.com")
            .unwrap_err()
            .to_string();
        assert!(message.contains("`_`"), "{message}");
    }
}
