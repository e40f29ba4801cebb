//! `deploy/kubernetes/`: the manifests `kustomization.yaml` lists (every one on disk), the
//! connector's environment from its ConfigMap and Deployment, probes, limits, a graceful stop,
//! and a Service, autoscaler and disruption budget that select the Deployment's pods.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::Yaml;

use super::{
    Node, assert_health_path, assert_service_reads, assert_values_parse, bind_port, deploy_dir,
    shutdown_grace_secs, yaml_document, yaml_documents,
};

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
        .map(Node::items)
        .unwrap_or_default()
    {
        let name = source.str_at(&["configMapRef", "name"]);
        let config_map = kubernetes_object(objects, "ConfigMap", name);
        for (key, value) in config_map.get("data").unwrap().entries() {
            env.insert(key.to_owned(), value.str().to_owned());
        }
    }
    for variable in container.get("env").map(Node::items).unwrap_or_default() {
        let value = variable.get("value").map_or("", Node::str);
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
        u16::try_from(ports[0].int_at(&["containerPort"])).unwrap(),
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
        let probe_port = get.text_at(&["port"]);
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
    let termination = u64::try_from(pod.int_at(&["terminationGracePeriodSeconds"])).unwrap();
    assert!(
        termination > grace,
        "{K8S}: terminationGracePeriodSeconds {termination} must exceed SHUTDOWN_GRACE_SECS {grace}"
    );

    assert!(
        pod.bool_at(&["securityContext", "runAsNonRoot"]),
        "{K8S}: non-root"
    );
    assert!(
        container.bool_at(&["securityContext", "readOnlyRootFilesystem"]),
        "{K8S}: read-only root file system"
    );
    assert!(
        !container.bool_at(&["securityContext", "allowPrivilegeEscalation"]),
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
                pod_labels.get(key).map(Node::str),
                Some(value.str()),
                "{K8S}: the {what} selects the connector's pods ({key})"
            );
        }
    };

    let service = kubernetes_object(&objects, "Service", "openrouter-connector");
    selects_pods(service.at(&["spec", "selector"]).unwrap(), "Service");
    let target = service.at(&["spec", "ports"]).unwrap().items()[0].text_at(&["targetPort"]);
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
    let min = hpa.int_at(&["spec", "minReplicas"]);
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
