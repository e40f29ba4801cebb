//! `files` on Chat Completion (contract 4.8): each item is Power Automate's file content, base64,
//! a data URL or an https URL, and becomes one OpenRouter content part: an image, a PDF (a `file`
//! part), audio (`input_audio`) or a text file's text. Everything wrong with a file is a `400`
//! naming it (`files[2].content`), found before any upstream call.
//!
//! The bytes are checked, never kept decoded: base64 is decoded a few KiB at a time to prove it
//! decodes and to read the first bytes for the type; only a text file is decoded whole, since its
//! text is what goes upstream. The base64 itself is moved, not copied, from the request, and is
//! written into the upstream body from there: a data URL's prefix and the base64 are written one
//! after the other, never joined into a new string.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::input::is_blank;
use crate::error::ApiError;

/// The names a file item takes.
const MEMBERS: [&str; 4] = ["content", "url", "name", "content_type"];

/// What the supported types are, for the messages that refuse one.
const SUPPORTED: &str = "a PDF, an image (PNG, JPEG, WebP, GIF), audio (WAV, MP3) or a text file \
    (text/*, JSON, CSV, Markdown)";

/// A file sent with a chat: its content (or an https URL), with an optional name and type.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct FileInput {
    /// The file's content: drop Power Automate's *File content* here (base64; a data URL
    /// `data:<type>;base64,…` works too).
    #[schema(value_type = Option<String>, format = Byte)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    /// An https URL instead of `content`, for images and PDFs only (OpenRouter fetches it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The file's name, e.g. `invoice.pdf`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The file's MIME type, e.g. `application/pdf`; left out, it comes from the content, the
    /// name or the first bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// How OpenRouter reads PDFs (its `file-parser` plugin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PdfEngine {
    /// The model reads the PDF itself, where it can.
    Native,
    /// Text taken out of the PDF (free).
    PdfText,
    /// Mistral's OCR, for scans (costs extra).
    MistralOcr,
}

impl PdfEngine {
    /// OpenRouter's name for the engine.
    pub fn as_str(self) -> &'static str {
        match self {
            PdfEngine::Native => "native",
            PdfEngine::PdfText => "pdf-text",
            PdfEngine::MistralOcr => "mistral-ocr",
        }
    }
}

/// One file, checked and ready to go upstream.
#[derive(Debug)]
pub struct FilePart {
    name: Option<String>,
    part: Part,
}

/// What a file goes upstream as.
#[derive(Debug)]
enum Part {
    /// An image part, of this MIME type.
    Image(&'static str, Data),
    /// A PDF, as a `file` part.
    Pdf(Data),
    /// Audio, as an `input_audio` part of this format (`wav` or `mp3`).
    Audio(&'static str, Encoded),
    /// A text file's text, as a text part (with this MIME type, for its default name).
    Text(&'static str, String),
}

/// Where a part's bytes are.
#[derive(Debug)]
enum Data {
    /// An https URL OpenRouter fetches itself.
    Url(String),
    /// The bytes, in base64.
    Encoded(Encoded),
}

/// Base64 at `text[start..]`: `text` is the string the caller sent (a data URL, or base64),
/// moved here rather than copied.
#[derive(Debug)]
struct Encoded {
    text: String,
    start: usize,
}

impl Encoded {
    fn base64(&self) -> &str {
        &self.text[self.start..]
    }
}

impl FilePart {
    /// The MIME type the file goes upstream as.
    pub fn mime(&self) -> &'static str {
        match &self.part {
            Part::Image(mime, _) | Part::Text(mime, _) => mime,
            Part::Pdf(_) => "application/pdf",
            Part::Audio("wav", _) => "audio/wav",
            Part::Audio(..) => "audio/mpeg",
        }
    }
}

/// Reads `files`: each item as [`read_file`] does, naming `files[i]` in any error.
pub fn read_files(items: Vec<Value>) -> Result<Vec<FilePart>, ApiError> {
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| read_file(&format!("files[{index}]"), item))
        .collect()
}

/// Reads one file item, `field` naming it in errors.
pub fn read_file(field: &str, item: Value) -> Result<FilePart, ApiError> {
    let Value::Object(mut item) = item else {
        return Err(ApiError::invalid(
            field,
            format!(
                "`{field}` must be an object: Power Automate's file content, or `content` (or \
                 `url`) with an optional `name` and `content_type`."
            ),
        ));
    };
    // Power Automate's file content as the whole item.
    if item.contains_key("$content") || item.contains_key("$content-type") {
        let content_field = field.to_owned();
        return read_content(&content_field, Value::Object(item), None, None);
    }
    if let Some(unknown) = item.keys().find(|name| !MEMBERS.contains(&name.as_str())) {
        let name = format!("{field}.{unknown}");
        return Err(ApiError::invalid_name(
            name.clone(),
            format!(
                "Unknown field `{name}`. A file takes: {}.",
                MEMBERS.join(", ")
            ),
        ));
    }
    // A name is shown to the model (`File <name>:`): a line break in it could fake another file.
    let name = optional_text(&mut item, field, "name")?.map(|name| {
        name.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
    });
    let declared = optional_text(&mut item, field, "content_type")?;
    let content = item.remove("content").filter(|value| !is_blank(value));
    let url = optional_text(&mut item, field, "url")?;
    match (content, url) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            format!("{field}.url"),
            format!("Give `{field}.content` or `{field}.url`, not both."),
        )),
        (None, None) => Err(ApiError::invalid(
            format!("{field}.content"),
            format!(
                "`{field}.content` is required: the file's content (base64, a data URL or \
                 Power Automate's file content), or an https `url` instead."
            ),
        )),
        (None, Some(url)) => read_url(field, url, name, declared),
        (Some(content), None) => read_content(&format!("{field}.content"), content, name, declared),
    }
}

/// A file OpenRouter fetches itself: an image or a PDF at an https URL.
fn read_url(
    field: &str,
    url: String,
    name: Option<String>,
    declared: Option<String>,
) -> Result<FilePart, ApiError> {
    let url_field = format!("{field}.url");
    // The URL parser would quietly trim or encode blanks and control characters: refused instead,
    // as a credential in the URL is (OpenRouter would be handed it).
    let plain = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    let parsed = reqwest::Url::parse(&url)
        .ok()
        .filter(|u| plain && u.scheme() == "https")
        .filter(|u| u.username().is_empty() && u.password().is_none());
    let Some(parsed) = parsed else {
        return Err(ApiError::invalid(
            url_field.clone(),
            format!(
                "`{url_field}` must be an https URL, without blanks, control characters or a \
                 user name."
            ),
        ));
    };
    // Sent as the parser writes it: an international host in punycode, other characters
    // percent-encoded.
    let url = String::from(parsed.clone());
    let mime = declared
        .as_deref()
        .and_then(known_mime)
        .or_else(|| parsed.path_segments()?.next_back().and_then(by_extension));
    let part = match mime {
        Some("application/pdf") => Some(Part::Pdf(Data::Url(url))),
        Some(image) if image.starts_with("image/") => Some(Part::Image(image, Data::Url(url))),
        _ => None,
    };
    match part {
        Some(part) => Ok(FilePart { name, part }),
        None => Err(ApiError::invalid(
            url_field.clone(),
            format!(
                "A file given by URL must be an image (PNG, JPEG, WebP, GIF) or a PDF, named by \
                 `{field}.content_type` or by the URL's extension (`.pdf`, `.png`, …). Send \
                 other files as `content`."
            ),
        )),
    }
}

/// A file given by content: `content` is base64, a data URL, or Power Automate's file content.
fn read_content(
    field: &str,
    content: Value,
    name: Option<String>,
    declared: Option<String>,
) -> Result<FilePart, ApiError> {
    let (text, start, hint) = match content {
        Value::String(text) if starts_with_ignore_case(&text, "data:") => {
            let Some(comma) = text.find(',') else {
                return Err(bad_content(
                    field,
                    "is a data URL without a `,` before its data",
                ));
            };
            let header = &text[5..comma];
            let Some(mime) = header
                .strip_suffix(";base64")
                .or_else(|| header.strip_suffix(";BASE64"))
            else {
                return Err(bad_content(
                    field,
                    "is a data URL that is not base64 (`data:<type>;base64,…`)",
                ));
            };
            let hint = mime.split(';').next().unwrap_or_default().trim().to_owned();
            (text, comma + 1, Some(hint))
        }
        Value::String(text) => (text, 0, None),
        Value::Object(mut object) => {
            let hint = match object.remove("$content-type") {
                Some(Value::String(kind)) => Some(kind),
                None | Some(Value::Null) => None,
                Some(_) => {
                    return Err(bad_content(
                        &format!("{field}.$content-type"),
                        "must be a MIME type, such as `application/pdf`",
                    ));
                }
            };
            let Some(Value::String(text)) = object.remove("$content") else {
                return Err(bad_content(
                    &format!("{field}.$content"),
                    "is required: the file's bytes in base64",
                ));
            };
            if let Some(other) = object.keys().next() {
                return Err(ApiError::invalid_name(
                    format!("{field}.{other}"),
                    format!(
                        "File content takes `$content-type` and `$content` only, not `{other}`."
                    ),
                ));
            }
            (text, 0, hint)
        }
        _ => {
            return Err(bad_content(
                field,
                "must be the file's content: base64, a data URL or Power Automate's file content",
            ));
        }
    };
    let (text, start) = without_blanks(text, start);
    let head = check_base64(&text[start..]).ok_or_else(|| {
        bad_content(
            field,
            "is not valid base64 (the standard alphabet, with `=` padding)",
        )
    })?;
    // A type the caller names is the file's type: an unsupported one is refused, not guessed
    // around. Power Automate's and the data URL's are hints, which names and bytes may beat.
    let named = match declared.as_deref().filter(|t| !is_unknown_type(t)) {
        Some(said) => Some(known_mime(said).ok_or_else(|| {
            let type_field = field
                .strip_suffix(".content")
                .map_or_else(|| field.to_owned(), |item| format!("{item}.content_type"));
            ApiError::invalid(
                type_field,
                format!("`{said}` files are not supported: give {SUPPORTED}."),
            )
        })?),
        None => None,
    };
    let mime = named
        .or_else(|| hint.as_deref().and_then(known_mime))
        .or_else(|| name.as_deref().and_then(by_extension))
        .or_else(|| sniff(&head));
    let Some(mime) = mime else {
        let said = hint.filter(|t| !is_unknown_type(t));
        return Err(match said {
            Some(said) => ApiError::invalid(
                field.to_owned(),
                format!("`{said}` files are not supported: give {SUPPORTED}."),
            ),
            None => ApiError::invalid(
                field.to_owned(),
                format!(
                    "The type of this file cannot be told from its name or its first bytes: \
                     give `content_type` ({SUPPORTED})."
                ),
            ),
        });
    };
    let encoded = Encoded { text, start };
    let part = match mime {
        "application/pdf" => Part::Pdf(Data::Encoded(encoded)),
        "audio/wav" => Part::Audio("wav", encoded),
        "audio/mpeg" => Part::Audio("mp3", encoded),
        image if image.starts_with("image/") => Part::Image(image, Data::Encoded(encoded)),
        text_type => {
            let bytes = STANDARD
                .decode(encoded.base64())
                .map_err(|_| bad_content(field, "is not valid base64"))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| bad_content(field, "is a text file that is not UTF-8"))?;
            Part::Text(text_type, text)
        }
    };
    Ok(FilePart { name, part })
}

fn bad_content(field: &str, problem: &str) -> ApiError {
    ApiError::invalid(field.to_owned(), format!("`{field}` {problem}."))
}

fn optional_text(
    item: &mut Map<String, Value>,
    field: &str,
    name: &str,
) -> Result<Option<String>, ApiError> {
    match item.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::invalid(
            format!("{field}.{name}"),
            format!("`{field}.{name}` must be a string."),
        )),
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// `text` with ASCII whitespace taken out of its base64 (line breaks some tools insert); the
/// string is copied only when there is any.
fn without_blanks(text: String, start: usize) -> (String, usize) {
    if !text.as_bytes()[start..].iter().any(u8::is_ascii_whitespace) {
        return (text, start);
    }
    let mut cleaned = String::with_capacity(text.len());
    cleaned.push_str(&text[..start]);
    cleaned.extend(text[start..].chars().filter(|c| !c.is_ascii_whitespace()));
    (cleaned, start)
}

/// The base64 chunk decoded at a time: 4,096 characters, 3,072 bytes.
const CHUNK: usize = 4096;

/// Whether `encoded` is standard base64 with padding, decoded a chunk at a time into a small
/// buffer; the first bytes decoded (up to 16), for the type.
pub(super) fn check_base64(encoded: &str) -> Option<Vec<u8>> {
    let bytes = encoded.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut buffer = [0u8; CHUNK / 4 * 3];
    let mut head = Vec::new();
    let chunks = bytes.len().div_ceil(CHUNK);
    for (index, chunk) in bytes.chunks(CHUNK).enumerate() {
        // Padding ends the data: only the last chunk may hold it.
        if index + 1 < chunks && chunk.contains(&b'=') {
            return None;
        }
        let decoded = STANDARD.decode_slice(chunk, &mut buffer).ok()?;
        if head.len() < 16 {
            let take = (16 - head.len()).min(decoded);
            head.extend_from_slice(&buffer[..take]);
        }
    }
    Some(head)
}

/// A type that says nothing of the bytes (what Outlook gives many attachments).
fn is_unknown_type(mime: &str) -> bool {
    let mime = mime.trim();
    mime.is_empty() || mime.eq_ignore_ascii_case("application/octet-stream")
}

/// The MIME type this service knows `declared` as (aliases and parameters dropped), if any
/// it sends; `None` for an unknown or unsupported one, and for `application/octet-stream`.
fn known_mime(declared: &str) -> Option<&'static str> {
    let essence = declared.split(';').next()?.trim().to_ascii_lowercase();
    Some(match essence.as_str() {
        "image/png" => "image/png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "image/jpeg",
        "image/webp" => "image/webp",
        "image/gif" => "image/gif",
        "application/pdf" | "application/x-pdf" => "application/pdf",
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => "audio/wav",
        "audio/mpeg" | "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg-3" => "audio/mpeg",
        "application/json" | "text/json" => "application/json",
        "text/csv" | "application/csv" => "text/csv",
        "text/markdown" | "text/x-markdown" => "text/markdown",
        "text/plain" => "text/plain",
        "text/html" => "text/html",
        "text/xml" | "application/xml" => "text/xml",
        "text/tab-separated-values" => "text/tab-separated-values",
        other if other.starts_with("text/") => "text/plain",
        _ => return None,
    })
}

/// The type a file name's extension says.
fn by_extension(name: &str) -> Option<&'static str> {
    let (_, extension) = name.rsplit_once('.')?;
    Some(match extension.to_ascii_lowercase().as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "txt" | "text" | "log" => "text/plain",
        "csv" => "text/csv",
        "tsv" => "text/tab-separated-values",
        "md" | "markdown" => "text/markdown",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "xml" => "text/xml",
        _ => return None,
    })
}

/// The type the first bytes say (PDF, PNG, JPEG, GIF, WebP, WAV, MP3); text is not guessed.
fn sniff(head: &[u8]) -> Option<&'static str> {
    let riff = |form: &[u8]| head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == form;
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if riff(b"WEBP") {
        Some("image/webp")
    } else if riff(b"WAVE") {
        Some("audio/wav")
    } else if head.starts_with(b"ID3")
        || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0)
    {
        Some("audio/mpeg")
    } else {
        None
    }
}

/// The name a text file without one is given in its part.
fn text_name(mime: &str) -> &'static str {
    match mime {
        "text/csv" => "data.csv",
        "application/json" => "data.json",
        "text/markdown" => "document.md",
        _ => "document.txt",
    }
}

#[path = "files_upstream.rs"]
mod upstream;

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
