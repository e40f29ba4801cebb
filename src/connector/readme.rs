//! `readme.md` of the connector folder, in the PowerPlatformConnectors layout: the fixed text
//! of `readme_template.md` with the operations listed from the definition itself.

use serde_json::Value;

use crate::domain::PublicUrl;

const TEMPLATE: &str = include_str!("readme_template.md");

/// The readme for `definition`, written for `deployment`.
pub fn readme(definition: &Value, deployment: &PublicUrl) -> String {
    let info = &definition["info"];
    TEMPLATE
        .replace("{{title}}", info["title"].as_str().unwrap_or_default())
        .replace(
            "{{description}}",
            info["description"].as_str().unwrap_or_default(),
        )
        .replace("{{operations}}", &operations(definition))
        .replace("{{base_url}}", &deployment.base_url())
        .replace("{{host}}", deployment.host())
}

/// One `###` section per operation, the prominent ones first.
fn operations(definition: &Value) -> String {
    let paths = definition["paths"].as_object().into_iter().flatten();
    let mut operations: Vec<&Value> = paths
        .filter_map(|(_, item)| item.as_object())
        .flat_map(|item| item.values())
        .collect();
    operations.sort_by_key(|operation| operation["x-ms-visibility"] != "important");
    let mut text = String::new();
    for operation in operations {
        let field = |key: &str| operation[key].as_str().unwrap_or_default().to_owned();
        text.push_str(&format!(
            "### {} (`{}`)\n{}\n\n",
            field("summary"),
            field("operationId"),
            field("description")
        ));
    }
    format!("{}\n", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_operation_gets_a_section_and_the_host_is_filled_in() {
        let definition = json!({
            "info": {"title": "T", "description": "D."},
            "paths": {
                "/a": {"get": {"operationId": "A", "summary": "Do a", "description": "Does a."}},
                "/b": {"post": {"operationId": "B", "summary": "Do b", "description": "Does b.",
                                "x-ms-visibility": "important"}},
            },
        });
        let text = readme(
            &definition,
            &PublicUrl::from_url("https://x.example.com").unwrap(),
        );
        assert!(text.starts_with("# T\n\nD. "), "{text}");
        let b = text.find("### Do b (`B`)\nDoes b.").unwrap_or(usize::MAX);
        let a = text.find("### Do a (`A`)\nDoes a.").unwrap_or(0);
        assert!(b < a, "the important operation comes first:\n{text}");
        assert!(text.contains("`https://x.example.com`"));
        assert!(!text.contains("{{"));
    }
}
