//! Pictures a model drew (`message.images` in OpenRouter's answer), as file content a flow saves
//! with *Create file*: the type, the base64 bytes and a file name.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::files::check_base64;

/// One picture the model drew.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct OutputImage {
    /// The picture's type, e.g. `image/png`.
    pub content_type: String,
    /// The picture's bytes in base64, ready for *Create file*'s file content.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Byte)]
    pub content: Option<String>,
    /// Where the picture is, when the model gave a link instead of the bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A file name for it: `image-1.png`, `image-2.jpg`, ….
    pub name: String,
}

impl OutputImage {
    /// The pictures of an upstream message's `images` (`[{"image_url": {"url": …}}]`, or bare
    /// URLs), numbered from 1. Only what a flow can use is kept: a base64 `data:` URL of an
    /// image type, or an https URL; anything else (another scheme, base64 that does not
    /// decode, a type with blanks or control characters) is left out.
    pub fn from_upstream(images: Vec<Value>) -> Vec<OutputImage> {
        let urls = images.into_iter().filter_map(|image| match image {
            Value::String(url) => Some(url),
            Value::Object(mut image) => match image.remove("image_url")? {
                Value::Object(mut inner) => match inner.remove("url")? {
                    Value::String(url) => Some(url),
                    _ => None,
                },
                Value::String(url) => Some(url),
                _ => None,
            },
            _ => None,
        });
        let mut kept = Vec::new();
        for url in urls {
            if let Some(image) = OutputImage::from_url(kept.len() + 1, url) {
                kept.push(image);
            }
        }
        kept
    }

    /// The picture at `url`: a `data:` URL becomes its type and bytes (the URL's text moved,
    /// not copied), an https URL is passed on as it is.
    fn from_url(number: usize, url: String) -> Option<OutputImage> {
        if let Some((content_type, header)) = data_url_header(&url) {
            let content_type = content_type.to_ascii_lowercase();
            check_base64(&url[header..])?;
            let mut content = url;
            content.drain(..header);
            let name = format!("image-{number}.{}", extension(&content_type));
            return Some(OutputImage {
                content_type,
                content: Some(content),
                url: None,
                name,
            });
        }
        let is_https = url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
        if !is_https || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let content_type = type_from_path(&url).unwrap_or("application/octet-stream");
        let name = format!("image-{number}.{}", extension(content_type));
        Some(OutputImage {
            content_type: content_type.to_owned(),
            content: None,
            url: Some(url),
            name,
        })
    }
}

/// The image type and the length of the header of a base64 `data:` URL
/// (`data:image/png;base64,`), the scheme and `base64` in any case; `None` for any other URL,
/// a type that is not `image/…`, or one with characters a MIME type has not.
fn data_url_header(url: &str) -> Option<(&str, usize)> {
    let scheme = url.get(..5)?;
    if !scheme.eq_ignore_ascii_case("data:") {
        return None;
    }
    let rest = &url[5..];
    let comma = rest.find(',')?;
    let mut parameters = rest[..comma].split(';');
    let content_type = parameters.next()?.trim();
    let base64 = parameters.any(|p| p.trim().eq_ignore_ascii_case("base64"));
    let (kind, subtype) = content_type.split_once('/')?;
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let is_image = kind.eq_ignore_ascii_case("image") && token(subtype);
    (base64 && is_image).then_some((content_type, 5 + comma + 1))
}

/// A picture's type from the extension of its URL's path.
fn type_from_path(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let file = path.rsplit('/').next().unwrap_or_default();
    let extension = file.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "webp" => Some("image/webp"),
        "gif" => Some("image/gif"),
        _ => None,
    }
}

/// The file extension for a picture's type (`bin` for a type this service does not know).
fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "image/svg+xml" => "svg",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_data_url_becomes_the_type_the_bytes_and_a_numbered_name() {
        let images = OutputImage::from_upstream(vec![
            json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}),
            json!({"image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}}),
        ]);
        let flat = serde_json::to_value(images).unwrap();
        assert_eq!(
            flat,
            json!([
                {"content_type": "image/png", "content": "iVBORw0KGgo=", "name": "image-1.png"},
                {"content_type": "image/jpeg", "content": "/9j/4AAQ", "name": "image-2.jpg"},
            ])
        );
    }

    #[test]
    fn an_https_image_is_passed_on_as_its_url() {
        let images = OutputImage::from_upstream(vec![
            json!({"image_url": {"url": "https://cdn.example/a/pic.WEBP?sig=1"}}),
        ]);
        let flat = serde_json::to_value(images).unwrap();
        assert_eq!(
            flat,
            json!([{"content_type": "image/webp", "url": "https://cdn.example/a/pic.WEBP?sig=1",
                    "name": "image-1.webp"}])
        );
    }

    #[test]
    fn only_base64_images_and_https_links_are_kept_and_numbered_in_order() {
        let images = OutputImage::from_upstream(vec![
            json!("not a url"),
            json!({"image_url": {"url": 7}}),
            json!(null),
            json!({"image_url": "DATA:IMAGE/PNG;BASE64,AAAA"}),
            json!("data:image/png;base64,!!!notbase64***"),
            json!("data:text/html;base64,AAAA"),
            json!("data:image/png\r\nX-Evil: 1;base64,AAAA"),
            json!("data:image/svg+xml,<svg/>"),
            json!("http://plain.example/a.png"),
            json!("javascript:alert(1)"),
            json!("https://cdn.example/noext"),
        ]);
        let flat = serde_json::to_value(images).unwrap();
        assert_eq!(
            flat,
            json!([
                {"content_type": "image/png", "content": "AAAA", "name": "image-1.png"},
                {"content_type": "application/octet-stream", "url": "https://cdn.example/noext",
                 "name": "image-2.bin"},
            ])
        );
    }
}
