//! `ModelId`: an OpenRouter model id such as `openai/gpt-4o-mini` or `google/gemini-2.5-flash:free`.

use serde::Serialize;

/// A model id: no blanks, no control characters, at most 256 characters. Whether the model
/// exists is OpenRouter's to say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelId(String);

impl ModelId {
    /// Parses a model id. Blanks are refused, not trimmed (contract section 5): `" a/b"` is not
    /// `a/b`, and a maker should see the stray space rather than a call to another model.
    pub fn parse(text: &str) -> Result<ModelId, &'static str> {
        let id = text;
        if id.trim().is_empty() {
            return Err("must not be empty");
        }
        if id.len() > 256 {
            return Err("must be at most 256 characters");
        }
        if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(
                "must not contain blanks (leading and trailing included) or control characters \
                 (e.g. `openai/gpt-4o-mini`)",
            );
        }
        Ok(ModelId(id.to_owned()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_id_with_a_variant_is_accepted() {
        assert_eq!(
            ModelId::parse("google/gemini-2.5-flash:free").map(|m| m.as_str().to_owned()),
            Ok("google/gemini-2.5-flash:free".to_owned())
        );
    }

    #[test]
    fn blanks_around_a_model_id_are_refused_not_trimmed() {
        for text in [
            " a/b",
            "a/b ",
            "a/b\u{a0}",
            "\u{3000}a/b",
            "a/b\u{85}",
            "a/b\u{2028}",
            "\ta/b",
        ] {
            assert!(ModelId::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_model_id_with_spaces_is_rejected() {
        assert!(ModelId::parse("gpt 4").is_err());
        assert!(ModelId::parse("   ").is_err());
        assert!(ModelId::parse(&"a".repeat(300)).is_err());
    }
}
