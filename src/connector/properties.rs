//! `apiProperties.json` (the API-key connection parameter, brand colour, publisher) and
//! `settings.json` (the argument store of the `paconn` CLI).

use serde_json::{Value, json};

/// The brand colour: the background of `icon.png`, as Microsoft requires.
pub const BRAND_COLOR: &str = "#6467F2";

/// The connector's properties: one secure API-key connection parameter, named `api_key` as
/// Power Platform expects for an `apiKey` security definition.
pub fn api_properties() -> Value {
    json!({
        "properties": {
            "connectionParameters": {
                "api_key": {
                    "type": "securestring",
                    "uiDefinition": {
                        "displayName": "OpenRouter API key",
                        "description": "Your OpenRouter API key (it starts with sk-or-). Paste the key as it is: \
                                        typing \"Bearer\" in front is not needed.",
                        "tooltip": "Create a key at https://openrouter.ai/settings/keys and paste it here.",
                        "constraints": {
                            "tabIndex": 2,
                            "clearText": false,
                            "required": "true"
                        }
                    }
                }
            },
            "iconBrandColor": BRAND_COLOR,
            "capabilities": [],
            "policyTemplateInstances": [],
            "publisher": "openrouter-connector contributors",
            "stackOwner": "OpenRouter, Inc."
        }
    })
}

/// The `paconn` settings: which file is which. The environment is left for `paconn` to ask
/// (or for the maker to add), and `connectorId` is added after the first `paconn create`.
pub fn settings() -> Value {
    json!({
        "apiDefinition": "apiDefinition.swagger.json",
        "apiProperties": "apiProperties.json",
        "icon": "icon.png",
        "powerAppsUrl": "https://api.powerapps.com",
        "powerAppsApiVersion": "2016-11-01",
        "flowUrl": "https://api.flow.microsoft.com",
        "flowApiVersion": "2016-11-01"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_a_secure_string_with_a_display_name_description_and_tooltip() {
        let key = &api_properties()["properties"]["connectionParameters"]["api_key"];
        assert_eq!(key["type"], "securestring");
        for field in ["displayName", "description", "tooltip"] {
            assert!(
                key["uiDefinition"][field]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "{field}"
            );
        }
    }

    #[test]
    fn the_brand_colour_is_a_hex_colour() {
        let color = BRAND_COLOR.strip_prefix('#').unwrap_or_default();
        assert!(color.len() == 6 && color.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
