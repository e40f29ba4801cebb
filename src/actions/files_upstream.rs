//! The upstream form of a file: OpenRouter's content part, written straight from the
//! request's strings (a data URL's prefix and the base64 one after the other, never joined
//! into a new string).

use serde::{Serialize, Serializer};

use super::{Data, Encoded, FilePart, Part, text_name};

impl Encoded {
    /// A data URL of the bytes, written as a JSON string: the caller's own when it already is
    /// one of this type, else the prefix and the base64 written one after the other.
    fn write_data_url<S: Serializer>(&self, mime: &str, serializer: S) -> Result<S::Ok, S::Error> {
        let own_type = self.text[..self.start]
            .strip_prefix("data:")
            .and_then(|header| header.strip_suffix(";base64,"));
        if own_type == Some(mime) {
            serializer.serialize_str(&self.text)
        } else {
            serializer.collect_str(&format_args!("data:{mime};base64,{}", self.base64()))
        }
    }
}

/// Room for a part's members beyond its data and name: its type, the names, a data URL's prefix.
const PART_BYTES: usize = 96;

/// A part's URL (`image_url.url`, `file.file_data`) of this MIME type, written from where the
/// bytes are.
struct UrlOf<'a>(&'a Data, &'a str);

impl Serialize for UrlOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Data::Url(url) => serializer.serialize_str(url),
            Data::Encoded(encoded) => encoded.write_data_url(self.1, serializer),
        }
    }
}

/// OpenRouter's content part for a file, borrowing the file's strings.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum UpstreamPart<'a> {
    /// `{"type": "image_url", "image_url": {"url": …}}`.
    ImageUrl { image_url: ImageUrl<'a> },
    /// `{"type": "file", "file": {"filename": …, "file_data": …}}`.
    File { file: PdfFile<'a> },
    /// `{"type": "input_audio", "input_audio": {"data": …, "format": …}}`.
    InputAudio { input_audio: InputAudio<'a> },
    /// `{"type": "text", "text": "File <name>:\n<text>"}`.
    Text { text: Labelled<'a> },
}

#[derive(Serialize)]
struct ImageUrl<'a> {
    url: UrlOf<'a>,
}

#[derive(Serialize)]
struct PdfFile<'a> {
    filename: &'a str,
    file_data: UrlOf<'a>,
}

#[derive(Serialize)]
struct InputAudio<'a> {
    data: &'a str,
    format: &'a str,
}

/// A text file's text behind its name, `File <name>:` and a line break, written as one string.
struct Labelled<'a> {
    name: &'a str,
    text: &'a str,
}

impl Serialize for Labelled<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("File {}:\n{}", self.name, self.text))
    }
}

impl FilePart {
    /// About how many bytes the part takes in the upstream body, escapes aside.
    pub fn size_hint(&self) -> usize {
        let data = match &self.part {
            Part::Image(_, Data::Url(text)) | Part::Pdf(Data::Url(text)) | Part::Text(_, text) => {
                text.len()
            }
            Part::Image(_, Data::Encoded(encoded))
            | Part::Pdf(Data::Encoded(encoded))
            | Part::Audio(_, encoded) => encoded.text.len(),
        };
        data.saturating_add(self.name.as_ref().map_or(0, String::len))
            .saturating_add(PART_BYTES)
    }

    fn upstream(&self) -> UpstreamPart<'_> {
        match &self.part {
            Part::Image(mime, data) => UpstreamPart::ImageUrl {
                image_url: ImageUrl {
                    url: UrlOf(data, mime),
                },
            },
            Part::Pdf(data) => UpstreamPart::File {
                file: PdfFile {
                    filename: self.name.as_deref().unwrap_or("document.pdf"),
                    file_data: UrlOf(data, "application/pdf"),
                },
            },
            Part::Audio(format, encoded) => UpstreamPart::InputAudio {
                input_audio: InputAudio {
                    data: encoded.base64(),
                    format,
                },
            },
            Part::Text(mime, text) => UpstreamPart::Text {
                text: Labelled {
                    name: self.name.as_deref().unwrap_or_else(|| text_name(mime)),
                    text,
                },
            },
        }
    }
}

/// OpenRouter's content part for this file (contract 4.8), written straight from the
/// request's strings.
impl Serialize for FilePart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.upstream().serialize(serializer)
    }
}
