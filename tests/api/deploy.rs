//! The deployment files in `deploy/` agree with the service: every environment variable they set
//! is one the service reads (asked of clap, so a renamed or removed setting fails here), the
//! ports are the one in `BIND`, the health checks use `/health/ready` or `/health/live`, and the
//! shapes the issue asks for are there (two replicas, Redis, nginx in front; probes, limits,
//! autoscaler and disruption budget in Kubernetes; at least two replicas in Azure).
//!
//! One file per deployment: `deploy/compose.rs` (with nginx), `deploy/kubernetes.rs`,
//! `deploy/dockerfile.rs` and `deploy/azure.rs`; this one holds what they share. The YAML files
//! are read with `yaml-rust2` (YAML 1.2, refuses duplicate keys); yamllint and
//! kubernetes-validate (`.ci/check-deploy`) check them as YAML and as Kubernetes objects.

mod azure;
mod compose;
mod dockerfile;
mod kubernetes;
mod nginx;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use openrouter_connector::settings::Settings;
use yaml_rust2::{Yaml, YamlLoader};

// ---------------------------------------------------------------------------------------------
// What the service reads, asked of its settings.

/// Every environment variable the service reads, from clap's own description of the settings.
fn service_env_names() -> BTreeSet<String> {
    Settings::command()
        .get_arguments()
        .filter_map(|argument| argument.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

/// The service's default for the setting read from `env`, if it has one.
fn service_default(env: &str) -> Option<String> {
    let command = Settings::command();
    let argument = command
        .get_arguments()
        .find(|argument| argument.get_env().is_some_and(|name| name == env))?;
    argument
        .get_default_values()
        .first()
        .map(|value| value.to_string_lossy().into_owned())
}

/// Fails naming every variable in `names` that the service does not read.
fn assert_service_reads(file: &str, names: &BTreeSet<String>) {
    assert!(
        !names.is_empty(),
        "{file}: found no environment variable at all"
    );
    let known = service_env_names();
    let unknown: Vec<&String> = names.iter().filter(|name| !known.contains(*name)).collect();
    assert!(
        unknown.is_empty(),
        "{file} sets environment variables that the service does not read: {}. \
         The service reads: {} (src/settings.rs).",
        join(&unknown),
        join(&known.iter().collect::<Vec<_>>()),
    );
}

fn join(names: &[&String]) -> String {
    names
        .iter()
        .map(|name| name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses the values given for settings the service knows, as the service would at start-up:
/// a value the service would refuse fails here, naming the file. Unknown names are left to
/// `assert_service_reads`.
fn assert_values_parse(file: &str, env: &BTreeMap<String, String>) {
    let command = Settings::command();
    let mut args = vec!["openrouter-connector".to_owned()];
    for (name, value) in env {
        let Some(argument) = command
            .get_arguments()
            .find(|argument| argument.get_env().is_some_and(|env| env == name.as_str()))
        else {
            continue;
        };
        let long = argument.get_long().unwrap();
        args.push(format!("--{long}={value}"));
    }
    // Every value is parsed and range-checked by clap itself.
    if let Err(error) = Settings::try_parse_from(&args) {
        panic!("{file}: the service refuses these settings: {error}");
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the files.

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn read(relative: &str) -> String {
    let path = deploy_dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn yaml_documents(relative: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(relative))
        .unwrap_or_else(|error| panic!("deploy/{relative}: {error}"))
}

fn yaml_document(relative: &str) -> Yaml {
    let mut documents = yaml_documents(relative);
    assert_eq!(
        documents.len(),
        1,
        "deploy/{relative}: one YAML document expected"
    );
    documents.remove(0)
}

/// Walking a YAML tree: a key that is not there is `None`, while a node of another shape than
/// the one asked for fails, showing what it is.
trait Node {
    /// The value of `key` in a mapping (`None` in an empty value).
    fn get(&self, key: &str) -> Option<&Yaml>;
    /// The node at the end of a path of mapping keys.
    fn at(&self, path: &[&str]) -> Option<&Yaml>;
    /// A mapping's entries in file order; an empty value has none.
    fn entries(&self) -> Vec<(&str, &Yaml)>;
    /// A sequence's items; an empty value has none.
    fn items(&self) -> &[Yaml];
    /// A string scalar (quoted, or plain and not a number, boolean or null).
    fn str(&self) -> &str;
    /// An integer scalar.
    fn int(&self) -> i64;
    /// A boolean scalar.
    fn boolean(&self) -> bool;
    /// Any scalar as the text it stands for (`8080`, `"8080"` and `http` alike), as compose
    /// reads environment values and Kubernetes reads ports; `None` for an empty value.
    fn text(&self) -> Option<String>;

    /// The string at `path`; fails naming the path when it is missing.
    fn str_at(&self, path: &[&str]) -> &str {
        self.required(path).str()
    }

    /// The integer at `path`; fails naming the path when it is missing.
    fn int_at(&self, path: &[&str]) -> i64 {
        self.required(path).int()
    }

    /// The boolean at `path`; fails naming the path when it is missing.
    fn bool_at(&self, path: &[&str]) -> bool {
        self.required(path).boolean()
    }

    /// The scalar at `path` as text; fails naming the path when it is missing or empty.
    fn text_at(&self, path: &[&str]) -> String {
        self.required(path)
            .text()
            .unwrap_or_else(|| panic!("{} is empty", path.join(".")))
    }

    /// The node at `path`; fails naming the path when it is missing.
    fn required(&self, path: &[&str]) -> &Yaml;
}

impl Node for Yaml {
    fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Hash(hash) => hash.get(&Yaml::String(key.to_owned())),
            Yaml::Null => None,
            other => panic!("expected a mapping with {key}, found {other:?}"),
        }
    }

    fn at(&self, path: &[&str]) -> Option<&Yaml> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    fn entries(&self) -> Vec<(&str, &Yaml)> {
        match self {
            Yaml::Hash(hash) => hash.iter().map(|(key, value)| (key.str(), value)).collect(),
            Yaml::Null => Vec::new(),
            other => panic!("expected a mapping, found {other:?}"),
        }
    }

    fn items(&self) -> &[Yaml] {
        match self {
            Yaml::Array(items) => items,
            Yaml::Null => &[],
            other => panic!("expected a sequence, found {other:?}"),
        }
    }

    fn str(&self) -> &str {
        self.as_str()
            .unwrap_or_else(|| panic!("expected a string, found {self:?}"))
    }

    fn int(&self) -> i64 {
        self.as_i64()
            .unwrap_or_else(|| panic!("expected an integer, found {self:?}"))
    }

    fn boolean(&self) -> bool {
        self.as_bool()
            .unwrap_or_else(|| panic!("expected true or false, found {self:?}"))
    }

    fn text(&self) -> Option<String> {
        match self {
            Yaml::String(text) | Yaml::Real(text) => Some(text.clone()),
            Yaml::Integer(number) => Some(number.to_string()),
            Yaml::Boolean(value) => Some(value.to_string()),
            Yaml::Null => None,
            other => panic!("expected a scalar, found {other:?}"),
        }
    }

    fn required(&self, path: &[&str]) -> &Yaml {
        self.at(path)
            .unwrap_or_else(|| panic!("no {} in {self:?}", path.join(".")))
    }
}

// ---------------------------------------------------------------------------------------------
// Ports, grace periods and health checks, as every file must have them.

/// The port of a `host:port` address such as `BIND`'s.
fn port_of(address: &str) -> u16 {
    let (_, port) = address
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{address:?} has no port"));
    port.parse()
        .unwrap_or_else(|_| panic!("{address:?} has no numeric port"))
}

/// The port the service listens on with the settings `env`: its `BIND`, else the default one.
fn bind_port(env: &BTreeMap<String, String>) -> u16 {
    let bind = env
        .get("BIND")
        .cloned()
        .or_else(|| service_default("BIND"))
        .unwrap();
    port_of(&bind)
}

fn shutdown_grace_secs(file: &str, env: &BTreeMap<String, String>) -> u64 {
    let value = env
        .get("SHUTDOWN_GRACE_SECS")
        .cloned()
        .or_else(|| service_default("SHUTDOWN_GRACE_SECS"))
        .unwrap_or_else(|| panic!("{file} must set SHUTDOWN_GRACE_SECS"));
    value.parse().unwrap()
}

fn assert_health_path(file: &str, path: &str) {
    assert!(
        path == "/health/ready" || path == "/health/live",
        "{file}: health check path {path:?} must be /health/ready or /health/live"
    );
}

#[test]
fn every_yaml_file_in_deploy_is_yaml_without_duplicate_keys() {
    let mut files = Vec::new();
    for folder in ["", "kubernetes"] {
        for entry in std::fs::read_dir(deploy_dir().join(folder)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".yaml") || name.ends_with(".yml") {
                files.push(if folder.is_empty() {
                    name
                } else {
                    format!("{folder}/{name}")
                });
            }
        }
    }
    assert!(
        files.len() >= 3,
        "deploy/: expected the compose, yamllint and Kubernetes files: {files:?}"
    );
    for file in &files {
        assert!(
            !yaml_documents(file).is_empty(),
            "deploy/{file}: no YAML document"
        );
    }
    // The reader refuses what would silently hide a setting: a key given twice.
    assert!(YamlLoader::load_from_str("a: 1\na: 2\n").is_err());
}
