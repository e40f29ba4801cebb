//! The wording rules of Microsoft's connector guidelines: summaries in sentence case, display
//! names (`x-ms-summary`) in title case.

/// Words that stay lowercase inside a title.
const MINOR_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "per", "the", "to",
    "vs", "with",
];

/// `List models`, not `List Models`: after the first word, not every word is capitalised.
pub fn is_sentence_case(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let starts_upper = words
        .next()
        .and_then(|w| w.chars().next())
        .is_some_and(char::is_uppercase);
    let rest: Vec<&str> = words.collect();
    let capitalised = |w: &&str| {
        let mut chars = w.chars();
        chars.next().is_some_and(char::is_uppercase) && chars.all(|c| !c.is_uppercase())
    };
    starts_upper && (rest.is_empty() || !rest.iter().all(capitalised))
}

/// `Max Tokens`, `Image URL`, `Uptime in Percent`: every word but the minor ones capitalised.
pub fn is_title_case(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    !words.is_empty()
        && words.iter().enumerate().all(|(index, word)| {
            let word = word.trim_start_matches(|c: char| !c.is_alphanumeric());
            let minor = index > 0 && MINOR_WORDS.contains(&word.to_lowercase().as_str());
            minor || word.chars().next().is_none_or(|c| !c.is_lowercase())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_case_allows_names_but_not_title_case() {
        assert!(is_sentence_case("List models"));
        assert!(is_sentence_case("Chat with a model"));
        assert!(is_sentence_case("List a model's providers"));
        assert!(!is_sentence_case("List Models"));
        assert!(!is_sentence_case("list models"));
    }

    #[test]
    fn title_case_allows_minor_words_and_acronyms() {
        assert!(is_title_case("Max Tokens"));
        assert!(is_title_case("Media in Prompt"));
        assert!(is_title_case("Cost (USD)"));
        assert!(!is_title_case("Max tokens"));
        assert!(!is_title_case(""));
    }
}
