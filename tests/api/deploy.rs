//! The deployment files in `deploy/` agree with the service: every environment variable they set
//! is one the service reads (asked of clap, so a renamed or removed setting fails here), the
//! ports are the one in `BIND`, the health checks use `/health/ready` or `/health/live`, and the
//! shapes the issue asks for are there (two replicas, Redis, nginx in front; probes, limits,
//! autoscaler and disruption budget in Kubernetes; at least two replicas in Azure).
//!
//! The YAML files are read with the small parser at the end of this file, which accepts the
//! regular subset the files are written in (block mappings and sequences, plain and quoted
//! scalars, one-line flow sequences) and refuses the rest loudly rather than misreading it.
//! yamllint and kubernetes-validate (`.ci/check-deploy`) check the files as YAML and as
//! Kubernetes objects.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use openrouter_connector::settings::Settings;

use yaml::Yaml;

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
    let settings = Settings::try_parse_from(&args)
        .unwrap_or_else(|error| panic!("{file}: the service refuses these settings: {error}"));
    if let Err(message) = settings.validate() {
        panic!("{file}: the service refuses these settings: {message}");
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
    yaml::parse(&read(relative)).unwrap_or_else(|error| panic!("deploy/{relative}: {error}"))
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

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

const COMPOSE: &str = "deploy/docker-compose.yml";

fn compose() -> Yaml {
    yaml_document("docker-compose.yml")
}

/// The services that run the connector image (built from deploy/Dockerfile).
fn compose_connectors(compose: &Yaml) -> Vec<(&str, &Yaml)> {
    compose
        .get("services")
        .unwrap()
        .entries()
        .iter()
        .filter(|(_, service)| {
            service.at(&["build", "dockerfile"]).map(Yaml::str) == Some("deploy/Dockerfile")
        })
        .map(|(name, service)| (name.as_str(), service))
        .collect()
}

/// A service's `environment:` map; a variable with no value passes the shell's through, and
/// is left out of the values (the service then uses its default).
fn compose_environment(service: &Yaml) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut names = BTreeSet::new();
    let mut values = BTreeMap::new();
    for (name, value) in service
        .get("environment")
        .map(Yaml::entries)
        .unwrap_or_default()
    {
        names.insert(name.clone());
        if let Some(value) = value.as_str() {
            values.insert(name.clone(), compose_default(value));
        }
    }
    (names, values)
}

/// Compose interpolation as it turns out with nothing set in the shell: `${NAME:-default}` is
/// `default`.
fn compose_default(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let inner = &rest[start + 2..end];
        out.push_str(inner.split_once(":-").map_or("", |(_, default)| default));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn compose_sets_only_settings_the_service_reads() {
    let compose = compose();
    let connectors = compose_connectors(&compose);
    assert!(
        !connectors.is_empty(),
        "{COMPOSE}: no service builds deploy/Dockerfile"
    );
    let mut names = BTreeSet::new();
    for (_, service) in &connectors {
        names.extend(compose_environment(service).0);
    }
    assert_service_reads(COMPOSE, &names);
    for expected in [
        "BIND",
        "REDIS_URL",
        "PUBLIC_BASE_URL",
        "LOG_FORMAT",
        "RUST_LOG",
    ] {
        assert!(
            names.contains(expected),
            "{COMPOSE}: the service should get {expected}"
        );
    }
}

#[test]
fn compose_values_are_ones_the_service_accepts() {
    let compose = compose();
    for (name, service) in compose_connectors(&compose) {
        assert_values_parse(
            &format!("{COMPOSE} ({name})"),
            &compose_environment(service).1,
        );
    }
}

#[test]
fn compose_runs_two_replicas_behind_nginx_with_one_redis() {
    let compose = compose();
    let services = compose.get("services").unwrap();
    let replicas: u64 = compose_connectors(&compose)
        .iter()
        .map(|(_, service)| {
            service
                .at(&["deploy", "replicas"])
                .map_or(1, |replicas| replicas.str().parse().unwrap())
        })
        .sum();
    assert_eq!(replicas, 2, "{COMPOSE}: two replicas of the service");
    let redis = services.get("redis").expect("a `redis` service");
    assert!(
        redis.str_at(&["image"]).starts_with("redis:"),
        "{COMPOSE}: redis image"
    );
    let nginx = services.get("nginx").expect("an `nginx` service");
    assert!(
        nginx.str_at(&["image"]).starts_with("nginx:"),
        "{COMPOSE}: nginx image"
    );

    let published = nginx.get("ports").map(Yaml::items).unwrap_or_default();
    assert!(!published.is_empty(), "{COMPOSE}: nginx publishes a port");
    let mounts = nginx.get("volumes").map(Yaml::items).unwrap_or_default();
    assert!(
        mounts
            .iter()
            .any(|mount| mount.str().starts_with("./nginx.conf:")),
        "{COMPOSE}: nginx gets deploy/nginx.conf"
    );
    for (name, service) in compose_connectors(&compose) {
        assert!(
            service.get("ports").is_none(),
            "{COMPOSE}: {name} is reached through nginx only and publishes no port"
        );
        let (_, env) = compose_environment(service);
        let redis_url = env.get("REDIS_URL").map(String::as_str).unwrap_or_default();
        assert!(
            redis_url.starts_with("redis://redis:"),
            "{COMPOSE}: {name} uses the redis service"
        );
        assert!(
            service.at(&["depends_on", "redis"]).is_some(),
            "{COMPOSE}: {name} starts after redis"
        );
        assert!(
            nginx.at(&["depends_on", name]).is_some(),
            "{COMPOSE}: nginx starts after {name}"
        );
    }
}

#[test]
fn compose_ports_and_health_checks_match_bind() {
    let compose = compose();
    for (name, service) in compose_connectors(&compose) {
        let file = format!("{COMPOSE} ({name})");
        let port = bind_port(&compose_environment(service).1);
        let exposed: Vec<u16> = service
            .get("expose")
            .map(Yaml::items)
            .unwrap_or_default()
            .iter()
            .map(|item| item.str().parse().unwrap())
            .collect();
        assert_eq!(exposed, vec![port], "{file}: expose the port of BIND");

        let test = service.at(&["healthcheck", "test"]).expect("a healthcheck");
        let url = test
            .items()
            .iter()
            .map(Yaml::str)
            .find(|item| item.starts_with("http://"))
            .unwrap_or_else(|| panic!("{file}: the healthcheck fetches an http:// URL"));
        let (authority, path) = url["http://".len()..].split_once('/').unwrap();
        assert_eq!(
            port_of(authority),
            port,
            "{file}: the healthcheck uses the port of BIND"
        );
        assert_health_path(&file, &format!("/{path}"));

        let grace = shutdown_grace_secs(&file, &compose_environment(service).1);
        let stop = service.str_at(&["stop_grace_period"]);
        let stop: u64 = stop.strip_suffix('s').unwrap().parse().unwrap();
        assert!(
            stop > grace,
            "{file}: stop_grace_period {stop}s must exceed SHUTDOWN_GRACE_SECS"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// nginx.conf

#[test]
fn nginx_forwards_to_the_replicas_fit_for_long_calls_and_streams() {
    let conf = read("nginx.conf");
    let directives: Vec<&str> = conf
        .lines()
        .map(|line| line.split('#').next().unwrap().trim())
        .filter(|line| !line.is_empty())
        .collect();
    let value_of = |name: &str| -> Vec<&str> {
        directives
            .iter()
            .filter_map(|line| line.strip_prefix(name))
            .filter(|rest| rest.starts_with(' '))
            .map(|rest| rest.trim().trim_end_matches(';').trim())
            .collect()
    };

    let compose = compose();
    let (connector, service) = compose_connectors(&compose)[0];
    let port = bind_port(&compose_environment(service).1);
    let servers = value_of("server");
    assert!(
        servers
            .iter()
            .any(|server| server.starts_with(&format!("{connector}:{port}"))),
        "deploy/nginx.conf: the upstream is {connector}:{port} (the service and BIND's port): \
         {servers:?}"
    );

    let seconds = |value: &str| -> u64 { value.trim_end_matches('s').parse().unwrap() };
    let upstream_timeout: u64 = service_default("UPSTREAM_TIMEOUT_SECS")
        .unwrap()
        .parse()
        .unwrap();
    let least = 130.max(upstream_timeout + 20);
    let read_timeout = value_of("proxy_read_timeout");
    assert!(
        !read_timeout.is_empty() && read_timeout.iter().all(|t| seconds(t) >= least),
        "deploy/nginx.conf: proxy_read_timeout of at least {least}s (the service waits \
         {upstream_timeout}s for OpenRouter): {read_timeout:?}"
    );
    let body = value_of("client_max_body_size");
    assert!(
        body.len() == 1 && body[0].trim_end_matches('m').parse::<u64>().unwrap() >= 32,
        "deploy/nginx.conf: client_max_body_size of at least 32m: {body:?}"
    );
    for header in ["X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id"] {
        assert!(
            value_of("proxy_set_header")
                .iter()
                .any(|value| value.starts_with(&format!("{header} "))),
            "deploy/nginx.conf: forwards {header}"
        );
    }
    let api = conf
        .find("location /api/v1/ {")
        .expect("a location for /api/v1/");
    let block = &conf[api..api + conf[api..].find('}').unwrap()];
    assert!(
        block.contains("proxy_buffering off;"),
        "deploy/nginx.conf: /api/v1/ streams SSE"
    );
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

#[test]
fn dockerfile_builds_the_tested_binary_runs_as_non_root_and_checks_health() {
    let dockerfile = read("Dockerfile");
    // Join continuation lines, drop comments.
    let joined = dockerfile.replace("\\\n", " ");
    let instructions: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();

    let builds: Vec<&str> = instructions
        .iter()
        .flat_map(|line| line.split("&&"))
        .map(str::trim)
        .filter(|command| command.starts_with("cargo build"))
        .collect();
    assert!(!builds.is_empty(), "deploy/Dockerfile: no `cargo build`");
    for build in builds {
        let words: Vec<&str> = build.split_whitespace().collect();
        for needed in ["--release", "--locked"] {
            assert!(
                words.contains(&needed),
                "deploy/Dockerfile: `{build}` lacks {needed}"
            );
        }
        assert!(
            build.contains("--bin openrouter-connector"),
            "deploy/Dockerfile: `{build}` builds --bin openrouter-connector"
        );
        assert!(
            !words.iter().any(|word| word.starts_with("--features")
                || word.starts_with("--all-features")
                || word.starts_with("--no-default-features")
                || word.starts_with("-F")),
            "deploy/Dockerfile: `{build}` must build the default features CI tests"
        );
    }

    let last_stage = instructions
        .iter()
        .rposition(|line| line.starts_with("FROM "))
        .unwrap();
    let runtime = &instructions[last_stage..];
    let user = runtime
        .iter()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("deploy/Dockerfile: the runtime stage sets USER");
    let uid: u32 = user.split(':').next().unwrap().parse().unwrap_or_else(|_| {
        panic!("deploy/Dockerfile: USER {user} must be numeric (for Kubernetes' runAsNonRoot)")
    });
    assert_ne!(uid, 0, "deploy/Dockerfile: the runtime user is not root");

    let mut env = BTreeMap::new();
    for line in runtime.iter().filter_map(|line| line.strip_prefix("ENV ")) {
        for pair in line.split_whitespace() {
            let (name, value) = pair.split_once('=').unwrap();
            env.insert(name.to_owned(), value.to_owned());
        }
    }
    assert_service_reads("deploy/Dockerfile", &env.keys().cloned().collect());
    assert_values_parse("deploy/Dockerfile", &env);
    let port = bind_port(&env);
    assert!(
        runtime.contains(&format!("EXPOSE {port}").as_str()),
        "deploy/Dockerfile: EXPOSE {port}, the port of BIND"
    );
    let healthcheck = runtime
        .iter()
        .find(|line| line.starts_with("HEALTHCHECK "))
        .expect("deploy/Dockerfile: a HEALTHCHECK");
    let path = healthcheck
        .split(['"', ' '])
        .find_map(|word| word.find("/health/").map(|at| &word[at..]))
        .expect("deploy/Dockerfile: the HEALTHCHECK fetches a /health/ path");
    assert_health_path("deploy/Dockerfile", path);
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

const K8S: &str = "deploy/kubernetes";

/// Every object of the manifests listed in kustomization.yaml, as (file, object).
fn kubernetes_objects() -> Vec<(String, Yaml)> {
    let kustomization = yaml_document("kubernetes/kustomization.yaml");
    let files: Vec<String> = kustomization
        .get("resources")
        .unwrap()
        .items()
        .iter()
        .map(|item| item.str().to_owned())
        .collect();
    let mut objects = Vec::new();
    for file in files {
        for object in yaml_documents(&format!("kubernetes/{file}")) {
            objects.push((format!("{K8S}/{file}"), object));
        }
    }
    objects
}

fn kubernetes_object<'a>(objects: &'a [(String, Yaml)], kind: &str, name: &str) -> &'a Yaml {
    objects
        .iter()
        .map(|(_, object)| object)
        .find(|object| {
            object.str_at(&["kind"]) == kind && object.str_at(&["metadata", "name"]) == name
        })
        .unwrap_or_else(|| panic!("{K8S}: no {kind} named {name}"))
}

fn connector_container(deployment: &Yaml) -> &Yaml {
    deployment
        .at(&["spec", "template", "spec", "containers"])
        .unwrap()
        .items()
        .iter()
        .find(|container| container.str_at(&["name"]) == "openrouter-connector")
        .expect("a container named openrouter-connector")
}

/// The connector's environment: the ConfigMaps it loads with envFrom, then its own env.
fn kubernetes_environment(objects: &[(String, Yaml)]) -> BTreeMap<String, String> {
    let deployment = kubernetes_object(objects, "Deployment", "openrouter-connector");
    let container = connector_container(deployment);
    let mut env = BTreeMap::new();
    for source in container
        .get("envFrom")
        .map(Yaml::items)
        .unwrap_or_default()
    {
        let name = source.str_at(&["configMapRef", "name"]);
        let config_map = kubernetes_object(objects, "ConfigMap", name);
        for (key, value) in config_map.get("data").unwrap().entries() {
            env.insert(key.clone(), value.str().to_owned());
        }
    }
    for variable in container.get("env").map(Yaml::items).unwrap_or_default() {
        let value = variable.get("value").map_or("", Yaml::str);
        env.insert(variable.str_at(&["name"]).to_owned(), value.to_owned());
    }
    env
}

#[test]
fn kubernetes_sets_only_settings_the_service_reads() {
    let objects = kubernetes_objects();
    let env = kubernetes_environment(&objects);
    assert_service_reads(K8S, &env.keys().cloned().collect());
    for expected in [
        "BIND",
        "REDIS_URL",
        "PUBLIC_BASE_URL",
        "SHUTDOWN_GRACE_SECS",
    ] {
        assert!(
            env.contains_key(expected),
            "{K8S}: the service should get {expected}"
        );
    }
}

#[test]
fn kubernetes_values_are_ones_the_service_accepts() {
    let objects = kubernetes_objects();
    assert_values_parse(K8S, &kubernetes_environment(&objects));
}

#[test]
fn kustomization_lists_every_manifest() {
    let kustomization = yaml_document("kubernetes/kustomization.yaml");
    let listed: BTreeSet<String> = kustomization
        .get("resources")
        .unwrap()
        .items()
        .iter()
        .map(|item| item.str().to_owned())
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(deploy_dir().join("kubernetes"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") && name != "kustomization.yaml")
        .collect();
    assert_eq!(
        listed, on_disk,
        "{K8S}/kustomization.yaml lists every manifest"
    );
}

#[test]
fn kubernetes_deployment_has_probes_limits_and_a_graceful_stop() {
    let objects = kubernetes_objects();
    let env = kubernetes_environment(&objects);
    let port = bind_port(&env);
    let deployment = kubernetes_object(&objects, "Deployment", "openrouter-connector");
    let pod = deployment.at(&["spec", "template", "spec"]).unwrap();
    let container = connector_container(deployment);

    let ports = container.get("ports").unwrap().items();
    assert_eq!(ports.len(), 1, "{K8S}: one container port");
    assert_eq!(
        ports[0].str_at(&["containerPort"]).parse::<u16>().unwrap(),
        port,
        "{K8S}: containerPort is BIND's port"
    );
    let port_name = ports[0].str_at(&["name"]);

    for (probe, path) in [
        ("readinessProbe", "/health/ready"),
        ("livenessProbe", "/health/live"),
    ] {
        let get = container
            .at(&[probe, "httpGet"])
            .unwrap_or_else(|| panic!("{K8S}: an httpGet {probe}"));
        assert_eq!(get.str_at(&["path"]), path, "{K8S}: {probe} path");
        let probe_port = get.str_at(&["port"]);
        assert!(
            probe_port == port_name || probe_port == port.to_string(),
            "{K8S}: {probe} port {probe_port} is the container's"
        );
    }
    if let Some(get) = container.at(&["startupProbe", "httpGet"]) {
        assert_health_path(K8S, get.str_at(&["path"]));
    }

    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                container.at(&["resources", kind, resource]).is_some(),
                "{K8S}: resources.{kind}.{resource}"
            );
        }
    }

    let grace = shutdown_grace_secs(K8S, &env);
    let termination: u64 = pod
        .str_at(&["terminationGracePeriodSeconds"])
        .parse()
        .unwrap();
    assert!(
        termination > grace,
        "{K8S}: terminationGracePeriodSeconds {termination} must exceed SHUTDOWN_GRACE_SECS {grace}"
    );

    assert_eq!(
        pod.str_at(&["securityContext", "runAsNonRoot"]),
        "true",
        "{K8S}: non-root"
    );
    assert_eq!(
        container.str_at(&["securityContext", "readOnlyRootFilesystem"]),
        "true",
        "{K8S}: read-only root file system"
    );
    assert_eq!(
        container.str_at(&["securityContext", "allowPrivilegeEscalation"]),
        "false",
        "{K8S}: no privilege escalation"
    );
}

#[test]
fn kubernetes_service_autoscaler_and_budget_select_the_deployment() {
    let objects = kubernetes_objects();
    let deployment = kubernetes_object(&objects, "Deployment", "openrouter-connector");
    let pod_labels = deployment
        .at(&["spec", "template", "metadata", "labels"])
        .unwrap();
    let port_name = connector_container(deployment)
        .get("ports")
        .unwrap()
        .items()[0]
        .str_at(&["name"])
        .to_owned();
    let selects_pods = |selector: &Yaml, what: &str| {
        for (key, value) in selector.entries() {
            assert_eq!(
                pod_labels.get(key).map(Yaml::str),
                Some(value.str()),
                "{K8S}: the {what} selects the connector's pods ({key})"
            );
        }
    };

    let service = kubernetes_object(&objects, "Service", "openrouter-connector");
    selects_pods(service.at(&["spec", "selector"]).unwrap(), "Service");
    let target = service.at(&["spec", "ports"]).unwrap().items()[0].str_at(&["targetPort"]);
    assert!(
        target == port_name || target == bind_port(&kubernetes_environment(&objects)).to_string(),
        "{K8S}: the Service targets the container's port"
    );

    let hpa = kubernetes_object(&objects, "HorizontalPodAutoscaler", "openrouter-connector");
    assert_eq!(hpa.str_at(&["apiVersion"]), "autoscaling/v2");
    assert_eq!(
        hpa.str_at(&["spec", "scaleTargetRef", "kind"]),
        "Deployment"
    );
    assert_eq!(
        hpa.str_at(&["spec", "scaleTargetRef", "name"]),
        "openrouter-connector"
    );
    let min: u32 = hpa.str_at(&["spec", "minReplicas"]).parse().unwrap();
    assert!(
        min >= 2,
        "{K8S}: the autoscaler keeps at least two replicas"
    );

    let pdb = kubernetes_object(&objects, "PodDisruptionBudget", "openrouter-connector");
    assert_eq!(pdb.str_at(&["apiVersion"]), "policy/v1");
    selects_pods(
        pdb.at(&["spec", "selector", "matchLabels"]).unwrap(),
        "PodDisruptionBudget",
    );

    let env = kubernetes_environment(&objects);
    let redis_host = env["REDIS_URL"]
        .strip_prefix("redis://")
        .and_then(|rest| rest.split(':').next())
        .unwrap();
    kubernetes_object(&objects, "Service", redis_host);
}

// ---------------------------------------------------------------------------------------------
// Azure Container Apps (Bicep)

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

// ---------------------------------------------------------------------------------------------
// The parser's own checks.

#[test]
fn the_yaml_reader_reads_the_subset_and_refuses_the_rest() {
    let documents = yaml::parse(
        "---\n# comment\na: 1\nb:\n  c: \"x # y\"\n  d:\n    - e: f\n      g: 'h''i'\n    - [j, \"k\"]\n    - plain\nempty:\n---\nz: \"\"\n",
    )
    .unwrap();
    assert_eq!(documents.len(), 2);
    let first = &documents[0];
    assert_eq!(first.str_at(&["a"]), "1");
    assert_eq!(first.str_at(&["b", "c"]), "x # y");
    let items = first.at(&["b", "d"]).unwrap().items();
    assert_eq!(items[0].str_at(&["e"]), "f");
    assert_eq!(items[0].str_at(&["g"]), "h'i");
    assert_eq!(
        items[1].items().iter().map(Yaml::str).collect::<Vec<_>>(),
        ["j", "k"]
    );
    assert_eq!(items[2].str(), "plain");
    assert_eq!(first.get("empty"), Some(&Yaml::Null));
    assert_eq!(documents[1].str_at(&["z"]), "");

    for refused in [
        "a: &anchor 1\n",
        "a: *alias\n",
        "a: !tag 1\n",
        "a: |\n  text\n",
        "a: {b: 1}\n",
        "a: 1\n   b: 2\n",
        "a: 1\na: 2\n",
    ] {
        assert!(yaml::parse(refused).is_err(), "should refuse {refused:?}");
    }
}

/// A reader for the regular YAML subset the deployment files are written in.
mod yaml {
    /// A YAML node: mappings keep their order; every scalar is its text.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Yaml {
        Map(Vec<(String, Yaml)>),
        Seq(Vec<Yaml>),
        Str(String),
        Null,
    }

    impl Yaml {
        pub fn get(&self, key: &str) -> Option<&Yaml> {
            self.entries()
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value)
        }

        pub fn at(&self, path: &[&str]) -> Option<&Yaml> {
            path.iter().try_fold(self, |node, key| node.get(key))
        }

        /// The scalar at `path`; panics naming the path when it is missing.
        pub fn str_at(&self, path: &[&str]) -> &str {
            self.at(path)
                .unwrap_or_else(|| panic!("no {} in {self:?}", path.join(".")))
                .str()
        }

        pub fn entries(&self) -> &[(String, Yaml)] {
            match self {
                Yaml::Map(entries) => entries,
                Yaml::Null => &[],
                other => panic!("expected a mapping, found {other:?}"),
            }
        }

        pub fn items(&self) -> &[Yaml] {
            match self {
                Yaml::Seq(items) => items,
                Yaml::Null => &[],
                other => panic!("expected a sequence, found {other:?}"),
            }
        }

        pub fn as_str(&self) -> Option<&str> {
            match self {
                Yaml::Str(text) => Some(text),
                _ => None,
            }
        }

        pub fn str(&self) -> &str {
            self.as_str()
                .unwrap_or_else(|| panic!("expected a scalar, found {self:?}"))
        }
    }

    struct Line {
        number: usize,
        indent: usize,
        text: String,
    }

    /// Parses every document of `source`.
    pub fn parse(source: &str) -> Result<Vec<Yaml>, String> {
        let mut documents = Vec::new();
        let mut current: Vec<Line> = Vec::new();
        for (index, raw) in source.lines().enumerate() {
            if raw == "---" || raw.starts_with("--- ") {
                if !current.is_empty() {
                    documents.push(std::mem::take(&mut current));
                }
                continue;
            }
            if raw.contains('\t') {
                return Err(format!("line {}: a tab", index + 1));
            }
            let text = strip_comment(raw);
            if text.trim().is_empty() {
                continue;
            }
            let indent = text.len() - text.trim_start().len();
            current.push(Line {
                number: index + 1,
                indent,
                text: text.trim().to_owned(),
            });
        }
        if !current.is_empty() {
            documents.push(current);
        }
        documents
            .into_iter()
            .map(|mut lines| {
                let mut at = 0;
                let indent = lines[0].indent;
                let node = block(&mut lines, &mut at, indent)?;
                match lines.get(at) {
                    Some(line) => Err(format!("line {}: unexpected indentation", line.number)),
                    None => Ok(node),
                }
            })
            .collect()
    }

    /// Cuts a comment: `#` at the start or after a blank, outside quotes.
    fn strip_comment(line: &str) -> &str {
        let mut quote = None;
        let mut previous = ' ';
        for (at, c) in line.char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '#' && previous.is_whitespace() => return &line[..at],
                None => {}
            }
            previous = c;
        }
        line
    }

    fn block(lines: &mut [Line], at: &mut usize, indent: usize) -> Result<Yaml, String> {
        if lines[*at].text == "-" || lines[*at].text.starts_with("- ") {
            sequence(lines, at, indent)
        } else {
            mapping(lines, at, indent)
        }
    }

    fn sequence(lines: &mut [Line], at: &mut usize, indent: usize) -> Result<Yaml, String> {
        let mut items = Vec::new();
        while *at < lines.len() && lines[*at].indent == indent {
            let line = &mut lines[*at];
            if !(line.text == "-" || line.text.starts_with("- ")) {
                return Err(format!(
                    "line {}: a mapping key among sequence items",
                    line.number
                ));
            }
            let rest = line.text[1..].trim_start().to_owned();
            if rest.is_empty() {
                *at += 1;
                items.push(nested(lines, at, indent)?);
            } else if key_split(&rest).is_some() {
                // `- key: value` opens a mapping whose keys sit where `key` does.
                let offset = line.text.len() - rest.len();
                line.indent += offset;
                line.text = rest;
                let inner = line.indent;
                items.push(mapping(lines, at, inner)?);
            } else {
                let number = line.number;
                items.push(scalar(&rest).map_err(|error| format!("line {number}: {error}"))?);
                *at += 1;
            }
        }
        Ok(Yaml::Seq(items))
    }

    fn mapping(lines: &mut [Line], at: &mut usize, indent: usize) -> Result<Yaml, String> {
        let mut entries: Vec<(String, Yaml)> = Vec::new();
        while *at < lines.len() && lines[*at].indent == indent {
            let line = &lines[*at];
            let number = line.number;
            if line.text.starts_with("- ") || line.text == "-" {
                return Err(format!("line {number}: a sequence item among mapping keys"));
            }
            let (key, value) = key_split(&line.text)
                .ok_or_else(|| format!("line {number}: expected `key: value`"))?;
            let key = match scalar(key).map_err(|error| format!("line {number}: {error}"))? {
                Yaml::Str(key) => key,
                _ => return Err(format!("line {number}: a key must be a scalar")),
            };
            if entries.iter().any(|(existing, _)| *existing == key) {
                return Err(format!("line {number}: duplicate key {key}"));
            }
            let value = value.to_owned();
            *at += 1;
            let node = if value.is_empty() {
                match lines.get(*at) {
                    Some(next) if next.indent > indent => nested(lines, at, indent)?,
                    // A sequence may sit at its key's own indentation.
                    Some(next)
                        if next.indent == indent
                            && (next.text == "-" || next.text.starts_with("- ")) =>
                    {
                        sequence(lines, at, indent)?
                    }
                    _ => Yaml::Null,
                }
            } else {
                scalar(&value).map_err(|error| format!("line {number}: {error}"))?
            };
            entries.push((key, node));
        }
        if let Some(line) = lines.get(*at)
            && line.indent > indent
        {
            return Err(format!("line {}: unexpected indentation", line.number));
        }
        Ok(Yaml::Map(entries))
    }

    /// The block below a line, indented deeper than `parent`.
    fn nested(lines: &mut [Line], at: &mut usize, parent: usize) -> Result<Yaml, String> {
        match lines.get(*at) {
            Some(next) if next.indent > parent => {
                let indent = next.indent;
                block(lines, at, indent)
            }
            _ => Ok(Yaml::Null),
        }
    }

    /// Splits `key: value` (or `key:`) at the first `: ` outside quotes.
    fn key_split(text: &str) -> Option<(&str, &str)> {
        let mut quote = None;
        for (at, c) in text.char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '[' || c == '{' => return None,
                None if c == ':' => {
                    let after = &text[at + 1..];
                    if after.is_empty() || after.starts_with(' ') {
                        return Some((text[..at].trim(), after.trim()));
                    }
                }
                None => {}
            }
        }
        None
    }

    fn scalar(text: &str) -> Result<Yaml, String> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix('"') {
            let inner = inner
                .strip_suffix('"')
                .ok_or("an unterminated \"string\"")?;
            if inner.contains('\\') {
                return Err("escapes in \"strings\" are not supported".to_owned());
            }
            return Ok(Yaml::Str(inner.to_owned()));
        }
        if let Some(inner) = text.strip_prefix('\'') {
            let inner = inner.strip_suffix('\'').ok_or("an unterminated 'string'")?;
            return Ok(Yaml::Str(inner.replace("''", "'")));
        }
        if let Some(inner) = text.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or("a flow sequence must end on its line")?;
            if inner.trim().is_empty() {
                return Ok(Yaml::Seq(Vec::new()));
            }
            return split_flow(inner)
                .into_iter()
                .map(scalar)
                .collect::<Result<_, _>>()
                .map(Yaml::Seq);
        }
        match text.chars().next() {
            Some('{') if text == "{}" => Ok(Yaml::Map(Vec::new())),
            Some(c @ ('{' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`')) => Err(format!(
                "`{c}` (flow mappings, anchors, aliases, tags, block scalars) is not supported"
            )),
            _ if text == "~" || text == "null" => Ok(Yaml::Null),
            _ => Ok(Yaml::Str(text.to_owned())),
        }
    }

    /// Splits a flow sequence's inside at commas outside quotes.
    fn split_flow(inner: &str) -> Vec<&str> {
        let mut parts = Vec::new();
        let mut quote = None;
        let mut start = 0;
        for (at, c) in inner.char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == ',' => {
                    parts.push(&inner[start..at]);
                    start = at + 1;
                }
                None => {}
            }
        }
        parts.push(&inner[start..]);
        parts
    }
}
