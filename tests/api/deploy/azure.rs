//! `deploy/azure/main.bicep`, Azure Container Apps: it sets only settings the service reads,
//! listens on `BIND`'s port with readiness and liveness probes, runs at least two replicas and
//! stops more slowly than `SHUTDOWN_GRACE_SECS`. Bicep is read as text, by the template's own
//! conventions (one `{ name: 'NAME', value: … }` per line).

use std::collections::BTreeSet;

use super::{assert_health_path, assert_service_reads, read};

const BICEP: &str = "deploy/azure/main.bicep";

/// The environment variables of main.bicep: by its convention, one `{ name: 'NAME', ... }`
/// entry per line, with `value:` or `secretRef:`.
fn bicep_env_names(bicep: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in bicep
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
    {
        if !(line.contains("value:") || line.contains("secretRef:")) {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("{ name: '") {
            rest = &rest[at + "{ name: '".len()..];
            let end = rest.find('\'').unwrap();
            names.insert(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    names
}

fn bicep_int(bicep: &str, declaration: &str) -> u64 {
    bicep
        .lines()
        .find_map(|line| line.trim().strip_prefix(declaration))
        .unwrap_or_else(|| panic!("{BICEP}: no `{declaration}`"))
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{BICEP}: `{declaration}` is not a number"))
}

#[test]
fn bicep_sets_only_settings_the_service_reads() {
    let bicep = read("azure/main.bicep");
    let names = bicep_env_names(&bicep);
    assert_service_reads(BICEP, &names);
    for expected in [
        "BIND",
        "REDIS_URL",
        "PUBLIC_BASE_URL",
        "SHUTDOWN_GRACE_SECS",
    ] {
        assert!(
            names.contains(expected),
            "{BICEP}: the service should get {expected}"
        );
    }
}

#[test]
fn bicep_app_listens_on_bind_with_probes_and_two_replicas() {
    let bicep = read("azure/main.bicep");
    let port = bicep_int(&bicep, "var connectorPort =");
    assert!(
        bicep.contains("{ name: 'BIND', value: '0.0.0.0:${connectorPort}' }"),
        "{BICEP}: BIND listens on connectorPort"
    );
    assert_eq!(port, 8080, "{BICEP}: the service's usual port");
    assert!(
        bicep.contains("targetPort: connectorPort"),
        "{BICEP}: ingress to connectorPort"
    );
    let paths: Vec<&str> = bicep
        .lines()
        .filter_map(|line| line.trim().strip_prefix("path: '"))
        .map(|rest| rest.trim_end_matches('\''))
        .collect();
    assert!(
        paths.contains(&"/health/ready"),
        "{BICEP}: a readiness probe on /health/ready"
    );
    assert!(
        paths.contains(&"/health/live"),
        "{BICEP}: a liveness probe on /health/live"
    );
    for path in paths {
        assert_health_path(BICEP, path);
    }
    assert!(
        bicep_int(&bicep, "param minReplicas int =") >= 2,
        "{BICEP}: two replicas"
    );
    let grace = bicep_int(&bicep, "var shutdownGraceSecs =");
    assert!(
        bicep.contains("terminationGracePeriodSeconds: shutdownGraceSecs + "),
        "{BICEP}: terminationGracePeriodSeconds exceeds SHUTDOWN_GRACE_SECS ({grace})"
    );
}
