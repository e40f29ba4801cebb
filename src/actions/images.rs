//! Pictures a model drew (`message.images` in OpenRouter's answer), as file content a flow saves
//! with *Create file*: the type, the base64 bytes and a file name.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

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
    /// The pictures of an upstream message's `images` (`[{"image_url": {"url": …}}]`), numbered
    /// from 1; an item without a usable URL is left out.
    pub fn from_upstream(images: Vec<Value>) -> Vec<OutputImage> {
        images
            .into_iter()
            .filter_map(|image| match image {
                Value::Object(mut image) => match image.remove("image_url") {
                    Some(Value::Object(mut inner)) => match inner.remove("url") {
                        Some(Value::String(url)) => Some(url),
                        _ => None,
                    },
                    // A bare string, as some providers write it.
                    Some(Value::String(url)) => Some(url),
                    _ => None,
                },
                _ => None,
            })
            .enumerate()
            .map(|(index, url)| OutputImage::from_url(index + 1, url))
            .collect()
    }

    /// The picture at `url`: a `data:` URL becomes its type and bytes (the URL's text moved,
    /// not copied), any other URL is passed on as it is.
    fn from_url(number: usize, url: String) -> OutputImage {
        match data_url_header(&url) {
            Some((content_type, header)) => {
                let content_type = content_type.to_owned();
                let mut content = url;
                content.drain(..header);
                let name = format!("image-{number}.{}", extension(&content_type));
                OutputImage {
                    content_type,
                    content: Some(content),
                    url: None,
                    name,
                }
            }
            None => {
                let content_type = type_from_path(&url).unwrap_or("image/png").to_owned();
                let name = format!("image-{number}.{}", extension(&content_type));
                OutputImage {
                    content_type,
                    content: None,
                    url: Some(url),
                    name,
                }
            }
        }
    }
}

/// The type and the length of the header of a base64 `data:` URL (`data:image/png;base64,`).
fn data_url_header(url: &str) -> Option<(&str, usize)> {
    let rest = url.strip_prefix("data:")?;
    let comma = rest.find(',')?;
    let (meta, _) = rest.split_at(comma);
    let content_type = meta.strip_suffix(";base64")?;
    let content_type = content_type.split(';').next().unwrap_or_default().trim();
    let content_type = if content_type.is_empty() {
        "image/png"
    } else {
        content_type
    };
    Some((content_type, "data:".len() + comma + 1))
}

/// A picture's type from the extension of its URL's path.
fn type_from_path(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
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
    match content_type.to_ascii_lowercase().as_str() {
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
    fn items_without_a_url_are_left_out_and_the_rest_numbered_in_order() {
        let images = OutputImage::from_upstream(vec![
            json!("not an object"),
            json!({"image_url": {"url": 7}}),
            json!({"image_url": "data:;base64,AAAA"}),
        ]);
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].name, "image-1.png");
        assert_eq!(images[0].content.as_deref(), Some("AAAA"));
    }

    #[test]
    fn a_data_url_that_is_not_base64_is_passed_on_as_a_url() {
        let images = OutputImage::from_upstream(vec![
            json!({"image_url": {"url": "data:image/svg+xml,<svg/>"}}),
        ]);
        assert_eq!(images[0].content, None);
        assert_eq!(images[0].url.as_deref(), Some("data:image/svg+xml,<svg/>"));
    }
}
