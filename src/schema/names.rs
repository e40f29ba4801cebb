//! Display names made from field names: what Power Automate shows as `x-ms-summary` when a
//! schema gives no title of its own.

/// Words written in capitals in a title.
const ACRONYMS: &[&str] = &["id", "url", "json", "zdr", "byok", "api", "usd", "pdf"];

/// Words that stay lowercase inside a title, unless they come first or last.
const MINOR_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "per", "the", "to",
    "vs", "with",
];

/// The display name made from a field's name: `max_tokens` is `Max Tokens`, `image_url` is
/// `Image URL`, `top_a` is `Top A`.
pub fn title_case(name: &str) -> String {
    let words: Vec<&str> = name
        .split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    let last = words.len().saturating_sub(1);
    let words = words.iter().enumerate().map(|(index, word)| {
        let lower = word.to_lowercase();
        if ACRONYMS.contains(&lower.as_str()) {
            lower.to_uppercase()
        } else if MINOR_WORDS.contains(&lower.as_str()) && index != 0 && index != last {
            lower
        } else {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
    });
    words.collect::<Vec<_>>().join(" ")
}

/// The display name of a field a maker named: `unit_price`, `unit-price` and `unitPrice` are
/// all `Unit Price`; a name with no letters or digits stays as it is.
pub fn display_name(name: &str) -> String {
    let mut words = String::with_capacity(name.len() + 4);
    let mut previous: Option<char> = None;
    for c in name.chars() {
        // A capital after a small letter or a digit starts a word: `invoiceID` is `invoice ID`.
        if c.is_uppercase() && previous.is_some_and(|p| p.is_lowercase() || p.is_numeric()) {
            words.push(' ');
        }
        words.push(c);
        previous = Some(c);
    }
    let title = title_case(&words);
    if title.is_empty() {
        name.to_owned()
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_become_title_case_display_names() {
        assert_eq!(title_case("max_tokens"), "Max Tokens");
        assert_eq!(title_case("image_url"), "Image URL");
        assert_eq!(title_case("top_a"), "Top A");
        assert_eq!(title_case("tool_call_id"), "Tool Call ID");
        assert_eq!(title_case("num_media_in_prompt"), "Num Media in Prompt");
    }

    #[test]
    fn camel_case_names_are_split_into_words() {
        assert_eq!(display_name("unitPrice"), "Unit Price");
        assert_eq!(display_name("invoiceID"), "Invoice ID");
        assert_eq!(display_name("line2Total"), "Line2 Total");
        assert_eq!(display_name("pricePerUnit"), "Price per Unit");
        assert_eq!(display_name("HTMLBody"), "HTMLBody");
    }

    #[test]
    fn a_name_without_words_stays_as_it_is() {
        assert_eq!(display_name("_"), "_");
        assert_eq!(display_name(""), "");
    }
}
