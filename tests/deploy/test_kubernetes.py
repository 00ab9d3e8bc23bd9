"""deploy/k8s: the rendered base and overlays against the Kubernetes schemas (kubernetes-validate --strict),
the Strimzi resources against their required fields, and what each workload must have."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.deploy.support import (
    DEAD_LETTER_PARTITIONS,
    DEAD_LETTER_TOPICS,
    DEPLOY,
    OVERLAYS,
    PRODUCED_TOPICS,
    SERVICES,
    SETTINGS,
    STRIMZI_KINDS,
    STRIMZI_SCHEMA,
    TOPIC_PARTITIONS,
    allowed_ports,
    by_name,
    deep_copy,
    dump_all,
    kubernetes_containers,
    kustomize_command,
    load_compose,
    of_kind,
    pod_spec,
    rendered,
    run,
    selects,
    tool,
)

# The oldest Kubernetes we promise to run on, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
ALL_OVERLAYS = tuple(OVERLAYS)
PORTS = {service: SETTINGS[service]().http_port for service in SERVICES}


def kubernetes_validate(path: Path, version: str) -> subprocess.CompletedProcess[str]:
    """kubernetes-validate --strict: unknown fields are errors, not ignored."""
    return run(tool("kubernetes-validate"), "--strict", "-k", version, str(path))


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_rendered_manifests_pass_kubernetes_validate_strict(tmp_path: Path, overlay: str, version: str) -> None:
    documents = rendered(overlay)
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(dump_all(documents), encoding="utf-8")
    result = kubernetes_validate(manifest, version)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every core resource was checked against a schema; only Strimzi's custom kinds have none here.
    passed = re.findall(r"^INFO .* passed for resource (\S+) ", result.stdout, re.MULTILINE)
    core = [d for d in documents if d["kind"] not in STRIMZI_KINDS]
    assert len(passed) == len(core)
    warned_kinds = set(re.findall(r"^WARN .*Couldn't find schema for kind (\w+) ", result.stdout, re.MULTILINE))
    assert warned_kinds <= STRIMZI_KINDS


def unknown_probe_field(documents: list[dict[str, Any]]) -> None:
    pod_spec(of_kind(documents, "Deployment")[0])["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/livez"


def port_as_text(documents: list[dict[str, Any]]) -> None:
    pod_spec(of_kind(documents, "Deployment")[0])["containers"][0]["ports"][0]["containerPort"] = "http"


def hpa_without_target(documents: list[dict[str, Any]]) -> None:
    del of_kind(documents, "HorizontalPodAutoscaler")[0]["spec"]["scaleTargetRef"]


def network_policy_port_list(documents: list[dict[str, Any]]) -> None:
    of_kind(documents, "NetworkPolicy")[-1]["spec"]["ingress"][0]["ports"] = 8001


def job_restart_policy_object(documents: list[dict[str, Any]]) -> None:
    pod_spec(of_kind(documents, "Job")[0])["restartPolicy"] = {"policy": "Never"}


BREAKAGES: list[tuple[str, Callable[[list[dict[str, Any]]], None]]] = [
    ("unknown-field-rejected-by-strict", unknown_probe_field),
    ("container-port-not-an-integer", port_as_text),
    ("hpa-missing-required-target", hpa_without_target),
    ("network-policy-ports-not-a-list", network_policy_port_list),
    ("job-restart-policy-wrong-type", job_restart_policy_object),
]


@pytest.mark.parametrize("breakage", [b[1] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_kubernetes_validate_fails_a_broken_manifest(
    tmp_path: Path, breakage: Callable[[list[dict[str, Any]]], None]
) -> None:
    documents = rendered("prod")
    breakage(documents)
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(dump_all(documents), encoding="utf-8")
    result = kubernetes_validate(manifest, KUBERNETES_VERSIONS[0])
    assert result.returncode != 0
    assert "ERROR" in result.stdout


def test_kustomize_fails_a_broken_overlay(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        f"resources:\n  - {OVERLAYS['base']}\npatches:\n  - target: {{kind: Deployment}}\n    patch: |-\n"
        "      - op: replace\n        path: /spec/template/spec/containers/5/resources\n        value: {}\n",
        encoding="utf-8",
    )
    assert run(*kustomize_command(), str(overlay)).returncode != 0


# ---- Strimzi -------------------------------------------------------------------------------------------------

STRIMZI_VALIDATOR = jsonschema.Draft202012Validator(json.loads(STRIMZI_SCHEMA.read_text(encoding="utf-8")))


def strimzi_errors(document: dict[str, Any]) -> list[str]:
    """Schema errors of one Strimzi resource."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in STRIMZI_VALIDATOR.iter_errors(document)
    ]


def test_the_strimzi_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(STRIMZI_VALIDATOR.schema)


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_strimzi_resources_have_their_required_fields(overlay: str) -> None:
    documents = [d for d in rendered(overlay) if d["kind"] in STRIMZI_KINDS]
    assert {d["kind"] for d in documents} == STRIMZI_KINDS
    for document in documents:
        assert strimzi_errors(document) == [], document["metadata"]["name"]


def strimzi_of(kind: str) -> dict[str, Any]:
    return of_kind(rendered("prod"), kind)[0]


STRIMZI_BREAKAGES: list[tuple[str, str, Callable[[dict[str, Any]], object]]] = [
    ("node-pool-without-roles", "KafkaNodePool", lambda d: d["spec"].pop("roles")),
    ("node-pool-unknown-role", "KafkaNodePool", lambda d: d["spec"].update(roles=["broker", "zookeeper"])),
    ("node-pool-jbod-without-volumes", "KafkaNodePool", lambda d: d["spec"]["storage"].pop("volumes")),
    ("node-pool-without-cluster-label", "KafkaNodePool", lambda d: d["metadata"].pop("labels")),
    ("kafka-without-kraft-annotation", "Kafka", lambda d: d["metadata"]["annotations"].pop("strimzi.io/kraft")),
    ("kafka-with-zookeeper", "Kafka", lambda d: d["spec"].update(zookeeper={"replicas": 3})),
    ("kafka-listener-bad-name", "Kafka", lambda d: d["spec"]["kafka"]["listeners"][0].update(name="plain_text")),
    ("kafka-listener-without-tls", "Kafka", lambda d: d["spec"]["kafka"]["listeners"][0].pop("tls")),
    ("kafka-listener-reserved-port", "Kafka", lambda d: d["spec"]["kafka"]["listeners"][0].update(port=9404)),
    ("kafka-without-listeners", "Kafka", lambda d: d["spec"]["kafka"].pop("listeners")),
    ("topic-zero-partitions", "KafkaTopic", lambda d: d["spec"].update(partitions=0)),
    ("topic-without-cluster-label", "KafkaTopic", lambda d: d["metadata"]["labels"].pop("strimzi.io/cluster")),
    ("topic-name-with-space", "KafkaTopic", lambda d: d["spec"].update(topicName="creditflow credit")),
]


@pytest.mark.parametrize(
    ("kind", "breakage"), [b[1:] for b in STRIMZI_BREAKAGES], ids=[b[0] for b in STRIMZI_BREAKAGES]
)
def test_strimzi_check_fails_a_broken_resource(kind: str, breakage: Callable[[dict[str, Any]], object]) -> None:
    document = deep_copy(strimzi_of(kind))
    breakage(document)
    assert strimzi_errors(document) != []


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_strimzi_cluster_pools_and_topics_fit_together(overlay: str) -> None:
    documents = rendered(overlay)
    (kafka,) = of_kind(documents, "Kafka")
    cluster = kafka["metadata"]["name"]
    pools = of_kind(documents, "KafkaNodePool")
    topics = of_kind(documents, "KafkaTopic")
    for resource in pools + topics:
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == cluster
    assert any(set(pool["spec"]["roles"]) >= {"controller"} for pool in pools), "KRaft needs controllers"
    brokers = sum(pool["spec"]["replicas"] for pool in pools if "broker" in pool["spec"]["roles"])
    config = kafka["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
    ):
        assert config[key] <= brokers, key
    assert config["min.insync.replicas"] <= config["default.replication.factor"]
    assert "topicOperator" in kafka["spec"]["entityOperator"], "KafkaTopic resources need the Topic Operator"
    names = {topic["spec"]["topicName"]: topic for topic in topics}
    assert set(names) == PRODUCED_TOPICS | DEAD_LETTER_TOPICS
    for name, topic in names.items():
        spec = topic["spec"]
        assert spec["partitions"] == (DEAD_LETTER_PARTITIONS if name in DEAD_LETTER_TOPICS else TOPIC_PARTITIONS)
        assert spec["replicas"] <= brokers
        min_insync = spec["config"]["min.insync.replicas"]
        # With replicas > 1, one broker may be down and producers (acks=all) still write.
        assert min_insync <= spec["replicas"] and (spec["replicas"] == 1 or min_insync < spec["replicas"])


def test_topics_match_the_compose_topics_job() -> None:
    job = load_compose()["services"]["kafka-topics"]["environment"]
    compose_topics = {topic: int(job["TOPIC_PARTITIONS"]) for topic in job["TOPICS"].split()}
    compose_topics |= {topic: int(job["DLQ_PARTITIONS"]) for topic in job["DLQ_TOPICS"].split()}
    kubernetes_topics = {
        topic["spec"]["topicName"]: topic["spec"]["partitions"] for topic in of_kind(rendered("prod"), "KafkaTopic")
    }
    assert kubernetes_topics == compose_topics


def test_kafka_version_matches_the_compose_image() -> None:
    compose_image = load_compose()["services"]["kafka"]["image"]
    (kafka,) = of_kind(rendered("prod"), "Kafka")
    assert compose_image == f"apache/kafka:{kafka['spec']['kafka']['version']}"
    assert kafka["spec"]["kafka"]["metadataVersion"].startswith(kafka["spec"]["kafka"]["version"].rsplit(".", 1)[0])


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_services_use_the_plain_listener_of_the_bootstrap_service(overlay: str) -> None:
    documents = rendered(overlay)
    (kafka,) = of_kind(documents, "Kafka")
    plain = next(listener for listener in kafka["spec"]["kafka"]["listeners"] if listener["tls"] is False)
    expected = f"{kafka['metadata']['name']}-kafka-bootstrap:{plain['port']}"
    for container in kubernetes_containers(documents, overlay):
        variable = f"CREDITFLOW_{str(container.service).upper()}_KAFKA_BOOTSTRAP_SERVERS"
        assert container.environment[variable] == expected, container.origin


# ---- workloads -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_deployment_service_pdb_hpa_and_migration_job(overlay: str, service: str) -> None:
    documents = rendered(overlay)
    name = f"creditflow-{service}"
    deployment = by_name(documents, "Deployment")[name]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert "replicas" not in deployment["spec"], "the HorizontalPodAutoscaler owns the replica count"

    (container,) = pod_spec(deployment)["containers"]
    assert container["args"] == ["serve", service]
    assert container["ports"] == [{"name": "http", "containerPort": PORTS[service], "protocol": "TCP"}]

    kubernetes_service = by_name(documents, "Service")[name]
    assert kubernetes_service["spec"]["selector"] == selector
    assert kubernetes_service["spec"]["ports"][0]["port"] == PORTS[service]

    job = by_name(documents, "Job")[f"{name}-migrate"]
    job_labels = job["spec"]["template"]["metadata"]["labels"]
    assert not (kubernetes_service["spec"]["selector"].items() <= job_labels.items()), "no traffic to migrations"
    assert pod_spec(job)["containers"][0]["args"] == ["migrate", "--service", service]
    assert pod_spec(job)["restartPolicy"] == "Never"

    pdb = by_name(documents, "PodDisruptionBudget")[name]
    assert pdb["apiVersion"] == "policy/v1" and pdb["spec"]["selector"]["matchLabels"] == selector

    hpa = by_name(documents, "HorizontalPodAutoscaler")[name]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= TOPIC_PARTITIONS


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_pods_are_locked_down(overlay: str) -> None:
    documents = rendered(overlay)
    workloads = of_kind(documents, "Deployment") + of_kind(documents, "Job")
    assert len(workloads) == 2 * len(SERVICES)
    images = set()
    for workload in workloads:
        spec = pod_spec(workload)
        name = workload["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] >= 1000, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], f"{name}: writable /tmp"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name}: {kind}"
            image = container["image"]
            assert not image.endswith(":latest") and ":" in image, image
            images.add(image)
    assert len(images) == 1, "services and migrations run the same image"


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_deployments_probe_livez_and_readyz(overlay: str) -> None:
    for deployment in of_kind(rendered(overlay), "Deployment"):
        (container,) = pod_spec(deployment)["containers"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["startupProbe"]["httpGet"]["path"] == "/livez"


# ---- secrets -----------------------------------------------------------------------------------------------

SENSITIVE = re.compile(r"(SECRET|PASSWORD|DATABASE_URL|TOKEN)$")


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_no_secret_value_is_committed(overlay: str) -> None:
    documents = rendered(overlay)
    assert of_kind(documents, "Secret") == []
    for config_map in of_kind(documents, "ConfigMap"):
        assert [key for key in config_map["data"] if SENSITIVE.search(key)] == [], config_map["metadata"]["name"]
    for container in kubernetes_containers(documents, overlay):
        for variable in container.environment:
            if SENSITIVE.search(variable):
                assert variable in container.secret_backed, f"{container.origin}: {variable} must come from a Secret"


def test_every_secret_reference_is_documented_in_the_readme() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    references = set()
    for workload in of_kind(rendered("prod"), "Deployment") + of_kind(rendered("prod"), "Job"):
        for container in pod_spec(workload)["containers"]:
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference:
                    references.add((reference["name"], reference["key"]))
    assert references
    for name, key in sorted(references):
        assert re.search(rf"`{re.escape(name)}`\s*\|\s*`{re.escape(key)}`", readme), f"README lacks {name}/{key}"


# ---- network policies ----------------------------------------------------------------------------------------

DNS = {(53, "UDP"), (53, "TCP")}
POSTGRESQL = (5432, "TCP")
KAFKA_PLAIN = (9092, "TCP")


def ports_only(allowed: set[tuple[int, str, str]] | None) -> set[tuple[int, str]]:
    assert allowed is not None, "the pod is not isolated: some NetworkPolicy must select it"
    return {(port, protocol) for port, protocol, _ in allowed}


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_network_policies_allow_only_what_a_service_needs(overlay: str, service: str) -> None:
    documents = rendered(overlay)
    policies = of_kind(documents, "NetworkPolicy")
    deployment = by_name(documents, "Deployment")[f"creditflow-{service}"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert ports_only(allowed_ports(policies, labels, "Ingress")) == {(PORTS[service], "TCP")}
    egress = allowed_ports(policies, labels, "Egress")
    assert ports_only(egress) == DNS | {POSTGRESQL, KAFKA_PLAIN}
    kafka_peers = {peer for port, protocol, peer in egress or set() if (port, protocol) == KAFKA_PLAIN}
    assert kafka_peers and "any" not in kafka_peers, "Kafka egress goes to the brokers only"
    dns_peers = {peer for port, _, peer in egress or set() if port == 53}
    assert all("kube-dns" in peer for peer in dns_peers)


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_network_policies_let_migrations_reach_only_dns_and_postgresql(overlay: str, service: str) -> None:
    documents = rendered(overlay)
    policies = of_kind(documents, "NetworkPolicy")
    job = by_name(documents, "Job")[f"creditflow-{service}-migrate"]
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert ports_only(allowed_ports(policies, labels, "Ingress")) == set()
    assert ports_only(allowed_ports(policies, labels, "Egress")) == DNS | {POSTGRESQL}


def test_kafka_egress_selects_the_strimzi_broker_pods() -> None:
    documents = rendered("prod")
    (kafka,) = of_kind(documents, "Kafka")
    broker_pod_labels = {
        "strimzi.io/cluster": kafka["metadata"]["name"],
        "strimzi.io/kind": "Kafka",
        "strimzi.io/broker-role": "true",
        "strimzi.io/pool-name": "dual-role",
    }
    policy = by_name(documents, "NetworkPolicy")["creditflow-allow-kafka"]
    (rule,) = policy["spec"]["egress"]
    (peer,) = rule["to"]
    assert selects(peer["podSelector"], broker_pod_labels)
    # ...and Strimzi's listener policy lets the services in.
    plain = kafka["spec"]["kafka"]["listeners"][0]
    service_labels = by_name(documents, "Deployment")["creditflow-credit"]["spec"]["template"]["metadata"]["labels"]
    assert any(selects(p["podSelector"], service_labels) for p in plain["networkPolicyPeers"])


def test_policy_evaluation_notices_a_missing_default_deny() -> None:
    documents = rendered("prod")
    policies = [p for p in of_kind(documents, "NetworkPolicy") if p["metadata"]["name"] != "creditflow-default-deny"]
    labels = by_name(documents, "Job")["creditflow-credit-migrate"]["spec"]["template"]["metadata"]["labels"]
    assert allowed_ports(policies, labels, "Ingress") is None, "without default deny the migration pod is open"


# ---- overlays ------------------------------------------------------------------------------------------------


def overlay_values(overlay: str) -> dict[str, Any]:
    documents = rendered(overlay)
    hpa = of_kind(documents, "HorizontalPodAutoscaler")[0]["spec"]
    pool = of_kind(documents, "KafkaNodePool")[0]["spec"]
    config_map = by_name(documents, "ConfigMap")
    (customers_config,) = [v for k, v in config_map.items() if k.startswith("creditflow-customers-config")]
    namespaces = {d["metadata"].get("namespace") for d in documents if d["kind"] != "Namespace"}
    return {
        "min": hpa["minReplicas"],
        "brokers": pool["replicas"],
        "storage": pool["storage"]["type"],
        "profile": customers_config["data"]["CREDITFLOW_CUSTOMERS_PROFILE"],
        "namespaces": namespaces,
    }


OVERLAY_EXPECTATIONS = [
    ("dev", {"min": 1, "brokers": 1, "storage": "ephemeral", "profile": "dev", "namespaces": {"creditflow-dev"}}),
    ("prod", {"min": 3, "brokers": 3, "storage": "jbod", "profile": "production", "namespaces": {"creditflow"}}),
]


@pytest.mark.parametrize(("overlay", "expected"), OVERLAY_EXPECTATIONS, ids=[o[0] for o in OVERLAY_EXPECTATIONS])
def test_overlays_apply_their_patches(overlay: str, expected: dict[str, Any]) -> None:
    assert overlay_values(overlay) == expected
    namespace = next(iter(expected["namespaces"]))
    (declared,) = of_kind(rendered(overlay), "Namespace")
    assert declared["metadata"]["name"] == namespace
    assert declared["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
