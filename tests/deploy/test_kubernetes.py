"""deploy/k8s: the rendered base and overlays against the Kubernetes schemas (kubernetes-validate --strict),
the Strimzi resources against their required fields, and what each workload must have."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from shared.registry import service_spec
from tests.deploy.support import (
    CRD_SCHEMAS,
    CUSTOM_KINDS,
    DEAD_LETTER_PARTITIONS,
    DEAD_LETTER_TOPICS,
    DEPLOY,
    INTAKE_TOPICS,
    OVERLAYS,
    PRODUCED_TOPICS,
    SERVICES,
    SETTINGS,
    STRIMZI_API,
    STRIMZI_KINDS,
    TOPIC_PARTITIONS,
    allowed_ports,
    by_name,
    crd_errors,
    creditflow_workloads,
    deep_copy,
    dump_all,
    is_console,
    kubernetes_containers,
    kustomize_command,
    load_compose,
    of_kind,
    pod_spec,
    reaches,
    rendered,
    run,
    selects,
    tool,
)

# The oldest Kubernetes we promise to run on, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
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
    # Every core resource was checked against a schema; only custom kinds (checked below against their CRD
    # schemas) have none here.
    passed = re.findall(r"^INFO .* passed for resource (\S+) ", result.stdout, re.MULTILINE)
    core = [d for d in documents if d["kind"] not in CUSTOM_KINDS]
    assert len(passed) == len(core)
    warned_kinds = set(re.findall(r"^WARN .*Couldn't find schema for kind (\w+) ", result.stdout, re.MULTILINE))
    assert warned_kinds <= CUSTOM_KINDS


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_every_custom_resource_matches_its_crd_schema(overlay: str) -> None:
    groups = {api_version.split("/")[0] for api_version, _ in CRD_SCHEMAS}
    custom = [d for d in rendered(overlay) if d["apiVersion"].split("/")[0] in groups]
    expected = STRIMZI_KINDS | {"HTTPRoute"} | ({"ServiceMonitor", "PrometheusRule"} if overlay != "base" else set())
    assert {d["kind"] for d in custom} >= expected
    for document in custom:
        assert crd_errors(document) == [], f"{document['kind']}/{document['metadata']['name']}"


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

# Listener ports Strimzi keeps for itself (Prometheus, JMX, the control plane and replication listeners).
STRIMZI_RESERVED_PORTS = {9090, 9091, 9404, 9999}
KAFKA_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
KUBERNETES_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def creditflow_rules(document: dict[str, Any]) -> list[str]:
    """What the CRD schemas leave to the operator or to CEL rules, and creditflow relies on."""
    problems = []
    kind, metadata = document["kind"], document.get("metadata") or {}
    if not KUBERNETES_NAME.match(str(metadata.get("name", ""))):
        problems.append(f"metadata.name {metadata.get('name')!r} is not a Kubernetes resource name")
    if kind != "Kafka" and not (metadata.get("labels") or {}).get("strimzi.io/cluster"):
        problems.append(f"{kind} without the strimzi.io/cluster label is ignored by the operators")
    if kind == "Kafka":
        for listener in document["spec"]["kafka"].get("listeners", []):
            if listener.get("port") in STRIMZI_RESERVED_PORTS:
                problems.append(f"listener {listener.get('name')} uses the reserved port {listener['port']}")
    if kind == "KafkaTopic":
        name = document["spec"].get("topicName", metadata.get("name", ""))
        if not KAFKA_TOPIC_NAME.match(str(name)):
            problems.append(f"{name!r} is not a legal Kafka topic name")
    if kind == "KafkaNodePool" and document["spec"].get("storage", {}).get("type") == "jbod":
        if not document["spec"]["storage"].get("volumes"):
            problems.append("JBOD storage needs at least one volume")
    return problems


def strimzi_errors(document: dict[str, Any]) -> list[str]:
    """Errors of one Strimzi resource: its current CRD schema (strict), then creditflow's own rules."""
    return crd_errors(document) + creditflow_rules(document)


@pytest.mark.parametrize("kind", sorted(STRIMZI_KINDS))
def test_the_strimzi_schemas_are_the_v1_crd_schemas(kind: str) -> None:
    path = CRD_SCHEMAS[(STRIMZI_API, kind)]
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["required"] == ["spec"] or kind == "KafkaTopic" or kind == "KafkaUser"
    assert {"apiVersion", "kind", "metadata", "spec", "status"} <= set(schema["properties"])


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_strimzi_resources_match_the_current_crds(overlay: str) -> None:
    documents = [d for d in rendered(overlay) if d["kind"] in STRIMZI_KINDS]
    assert {d["kind"] for d in documents} == STRIMZI_KINDS
    for document in documents:
        assert document["apiVersion"] == STRIMZI_API, document["metadata"]["name"]
        assert strimzi_errors(document) == [], document["metadata"]["name"]


def strimzi_of(kind: str) -> dict[str, Any]:
    return of_kind(rendered("prod"), kind)[0]


def tls_listener(kafka: dict[str, Any]) -> dict[str, Any]:
    (listener,) = [item for item in kafka["spec"]["kafka"]["listeners"] if item["tls"] is True]
    return listener


def first_acl(user: dict[str, Any]) -> dict[str, Any]:
    acl: dict[str, Any] = user["spec"]["authorization"]["acls"][0]
    return acl


STRIMZI_BREAKAGES: list[tuple[str, str, Callable[[dict[str, Any]], object]]] = [
    ("kafka-old-api-version", "Kafka", lambda d: d.update(apiVersion="kafka.strimzi.io/v1beta2")),
    ("topic-old-api-version", "KafkaTopic", lambda d: d.update(apiVersion="kafka.strimzi.io/v1beta2")),
    ("node-pool-without-roles", "KafkaNodePool", lambda d: d["spec"].pop("roles")),
    ("node-pool-unknown-role", "KafkaNodePool", lambda d: d["spec"].update(roles=["broker", "zookeeper"])),
    ("node-pool-jbod-without-volumes", "KafkaNodePool", lambda d: d["spec"]["storage"].pop("volumes")),
    ("node-pool-without-cluster-label", "KafkaNodePool", lambda d: d["metadata"].pop("labels")),
    ("node-pool-replicas-as-text", "KafkaNodePool", lambda d: d["spec"].update(replicas="three")),
    ("kafka-with-zookeeper", "Kafka", lambda d: d["spec"].update(zookeeper={"replicas": 3})),
    ("kafka-replicas-removed-in-v1", "Kafka", lambda d: d["spec"]["kafka"].update(replicas=3)),
    ("kafka-listener-bad-name", "Kafka", lambda d: d["spec"]["kafka"]["listeners"][0].update(name="plain_text")),
    ("kafka-listener-without-tls", "Kafka", lambda d: d["spec"]["kafka"]["listeners"][0].pop("tls")),
    ("kafka-listener-reserved-port", "Kafka", lambda d: d["spec"]["kafka"]["listeners"][0].update(port=9404)),
    ("kafka-listener-port-too-low", "Kafka", lambda d: d["spec"]["kafka"]["listeners"][0].update(port=8080)),
    (
        "kafka-listener-unknown-auth",
        "Kafka",
        lambda d: d["spec"]["kafka"]["listeners"][0].update(authentication={"type": "scram-sha-256"}),
    ),
    ("kafka-without-listeners", "Kafka", lambda d: d["spec"]["kafka"].pop("listeners")),
    ("kafka-unknown-authorization", "Kafka", lambda d: d["spec"]["kafka"].update(authorization={"type": "acl"})),
    ("topic-zero-partitions", "KafkaTopic", lambda d: d["spec"].update(partitions=0)),
    ("topic-without-cluster-label", "KafkaTopic", lambda d: d["metadata"]["labels"].pop("strimzi.io/cluster")),
    ("topic-name-with-space", "KafkaTopic", lambda d: d["spec"].update(topicName="creditflow credit")),
    ("topic-misspelt-field", "KafkaTopic", lambda d: d["spec"].update(partition=6)),
    ("user-unknown-auth", "KafkaUser", lambda d: d["spec"]["authentication"].update(type="scram-sha-256")),
    (
        "user-v1beta2-singular-operation",
        "KafkaUser",
        lambda d: d["spec"]["authorization"]["acls"][0].update(
            operation=d["spec"]["authorization"]["acls"][0].pop("operations")[0]
        ),
    ),
    (
        "user-unknown-operation",
        "KafkaUser",
        lambda d: d["spec"]["authorization"]["acls"][0].update(operations=["Produce"]),
    ),
    (
        "user-unknown-resource-type",
        "KafkaUser",
        lambda d: d["spec"]["authorization"]["acls"][0]["resource"].update(type="queue"),
    ),
]


@pytest.mark.parametrize(
    ("kind", "breakage"), [b[1:] for b in STRIMZI_BREAKAGES], ids=[b[0] for b in STRIMZI_BREAKAGES]
)
def test_strimzi_check_fails_a_broken_resource(kind: str, breakage: Callable[[dict[str, Any]], object]) -> None:
    document = deep_copy(strimzi_of(kind))
    assert strimzi_errors(document) == []
    breakage(document)
    assert strimzi_errors(document) != []


def test_strict_schemas_keep_the_fields_strimzi_leaves_open() -> None:
    """``config`` preserves unknown fields in the CRD: any broker setting passes, as Strimzi accepts it."""
    kafka = deep_copy(strimzi_of("Kafka"))
    kafka["spec"]["kafka"]["config"]["log.retention.hours"] = 168
    assert strimzi_errors(kafka) == []


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_strimzi_cluster_pools_and_topics_fit_together(overlay: str) -> None:
    documents = rendered(overlay)
    (kafka,) = of_kind(documents, "Kafka")
    cluster = kafka["metadata"]["name"]
    pools = of_kind(documents, "KafkaNodePool")
    topics = of_kind(documents, "KafkaTopic")
    for resource in pools + topics + of_kind(documents, "KafkaUser"):
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
    assert "userOperator" in kafka["spec"]["entityOperator"], "KafkaUser resources need the User Operator"
    names = {topic["spec"]["topicName"]: topic for topic in topics}
    assert set(names) == PRODUCED_TOPICS | DEAD_LETTER_TOPICS | INTAKE_TOPICS
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


# Kafka versions Strimzi 1.2 supports (kafka-versions.yaml of the release the schemas come from).
STRIMZI_KAFKA_VERSIONS = {"4.2.0": "4.2-IV1", "4.2.1": "4.2-IV1", "4.3.0": "4.3-IV0", "4.3.1": "4.3-IV0"}


def test_kafka_version_is_supported_by_strimzi_and_matches_the_compose_image() -> None:
    compose_image = load_compose()["services"]["kafka"]["image"]
    (kafka,) = of_kind(rendered("prod"), "Kafka")
    version = kafka["spec"]["kafka"]["version"]
    assert compose_image == f"apache/kafka:{version}"
    assert kafka["spec"]["kafka"]["metadataVersion"] == STRIMZI_KAFKA_VERSIONS[version]


# ---- Kafka security: TLS, SCRAM users, ACLs -----------------------------------------------------------------


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_kafka_has_only_a_tls_listener_with_scram_and_an_authorizer(overlay: str) -> None:
    (kafka,) = of_kind(rendered(overlay), "Kafka")
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert [listener["tls"] for listener in listeners] == [True], "no plaintext listener"
    assert tls_listener(kafka)["authentication"] == {"type": "scram-sha-512"}
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert "superUsers" not in kafka["spec"]["kafka"]["authorization"]


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_services_connect_to_the_tls_listener_as_their_kafka_user(overlay: str) -> None:
    documents = rendered(overlay)
    (kafka,) = of_kind(documents, "Kafka")
    cluster = kafka["metadata"]["name"]
    bootstrap = f"{cluster}-kafka-bootstrap:{tls_listener(kafka)['port']}"
    users = by_name(documents, "KafkaUser")
    served = [container for container in kubernetes_containers(documents, overlay) if container.serves]
    assert len(served) == len(SERVICES)
    for container in served:
        prefix = f"CREDITFLOW_{str(container.service).upper()}_KAFKA_"
        environment = container.environment
        assert environment[f"{prefix}BOOTSTRAP_SERVERS"] == bootstrap, container.origin
        assert environment[f"{prefix}SECURITY_PROTOCOL"] == "SASL_SSL"
        assert environment[f"{prefix}SASL_MECHANISM"] == "SCRAM-SHA-512"
        user = environment[f"{prefix}SASL_USERNAME"]
        assert user == f"creditflow-{container.service}" and users[user]["spec"]["authentication"]["type"] == (
            "scram-sha-512"
        )
        assert f"{prefix}SASL_PASSWORD" in container.secret_backed
        deployment = by_name(documents, "Deployment")[f"creditflow-{container.service}"]
        (spec,) = pod_spec(deployment)["containers"]
        (password,) = [v for v in spec["env"] if v["name"] == f"{prefix}SASL_PASSWORD"]
        # The User Operator writes the password into a Secret named after the KafkaUser.
        assert password["valueFrom"]["secretKeyRef"] == {"name": user, "key": "password"}
        cafile = environment[f"{prefix}SSL_CAFILE"]
        mounts = {mount["mountPath"]: mount for mount in spec["volumeMounts"]}
        mount = mounts[str(Path(cafile).parent)]
        assert mount["readOnly"] is True
        volumes = {volume["name"]: volume for volume in pod_spec(deployment)["volumes"]}
        secret = volumes[mount["name"]]["secret"]
        assert secret["secretName"] == f"{cluster}-cluster-ca-cert"
        assert {"key": "ca.crt", "path": Path(cafile).name} in secret["items"]


def consumed_topics(service: str) -> set[str]:
    """The topics a service's handlers consume, from the code."""
    handlers = importlib.import_module(f"services.{service}.handlers").EVENT_HANDLERS
    intakes = service_spec(service).intakes(SETTINGS[service]())
    return {event_type.topic() for event_type in handlers} | {intake.topic for intake in intakes}


def granted(user: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(resource type, name) -> operations the user's ACLs allow (literal names only)."""
    result: dict[tuple[str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        assert acl.get("type", "allow") == "allow" and acl.get("host", "*") == "*"
        resource = acl["resource"]
        assert resource.get("patternType", "literal") == "literal", "no prefix grants"
        result.setdefault((resource["type"], resource["name"]), set()).update(acl["operations"])
    return result


def needed_acls(service: str) -> dict[tuple[str, str], set[str]]:
    """What the service does on Kafka: write (and read back) its topic, write its DLQ, read what it consumes."""
    settings = SETTINGS[service]()
    needed: dict[tuple[str, str], set[str]] = {
        ("topic", settings.topic): {"Describe", "Write", "Read"},
        ("topic", settings.dead_letter_topic): {"Describe", "Write"},
        ("group", settings.consumer_group): {"Read"},
    }
    for topic in consumed_topics(service):
        needed.setdefault(("topic", topic), set()).update({"Describe", "Read"})
    return needed


@pytest.mark.parametrize("service", SERVICES)
def test_each_kafka_user_may_do_exactly_what_its_service_does(service: str) -> None:
    user = by_name(rendered("prod"), "KafkaUser")[f"creditflow-{service}"]
    assert granted(user) == needed_acls(service)


def test_no_service_may_write_another_services_topic() -> None:
    users = by_name(rendered("prod"), "KafkaUser")
    assert set(users) == {f"creditflow-{service}" for service in SERVICES} | {BILLING_PRODUCER}
    for service in SERVICES:
        for (_, name), operations in granted(users[f"creditflow-{service}"]).items():
            if "Write" in operations:
                assert name in (f"creditflow.{service}", f"creditflow.{service}.dlq"), (service, name)


BILLING_PRODUCER = "creditflow-billing"


def test_the_billing_producer_may_only_publish_invoices() -> None:
    """Billing systems connect as one user that can write the billing topic and nothing else (no group, no read)."""
    user = by_name(rendered("prod"), "KafkaUser")[BILLING_PRODUCER]
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    assert granted(user) == {("topic", topic): {"Describe", "Write"} for topic in INTAKE_TOPICS}


def test_the_acl_check_notices_a_wider_grant() -> None:
    user = deep_copy(by_name(rendered("prod"), "KafkaUser")["creditflow-survey"])
    user["spec"]["authorization"]["acls"].append(
        {"resource": {"type": "topic", "name": "creditflow.credit", "patternType": "literal"}, "operations": ["Write"]}
    )
    assert granted(user) != needed_acls("survey")
    assert strimzi_errors(user) == [], "still valid for Strimzi: only the ACL check can catch it"


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
    workloads = creditflow_workloads(documents)
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
        if is_console(deployment):
            continue  # nginx has no /readyz: test_console.py checks its probes
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
KAFKA_TLS = (9093, "TCP")
OIDC_ISSUER_HTTPS = (443, "TCP")


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
    # prod verifies the console's OIDC tokens with the issuer's key set, fetched over HTTPS.
    oidc = {OIDC_ISSUER_HTTPS} if overlay == "prod" else set()
    # collections asks customers about customers it has not heard of yet (registry read-through).
    registry = {(PORTS["customers"], "TCP")} if service == "collections" else set()
    assert ports_only(egress) == DNS | {POSTGRESQL, KAFKA_TLS} | oidc | registry
    registry_peers = {peer for port, protocol, peer in egress or set() if (port, protocol) in registry}
    assert all("creditflow-customers" in peer for peer in registry_peers), "registry egress goes to customers only"
    kafka_peers = {peer for port, protocol, peer in egress or set() if (port, protocol) == KAFKA_TLS}
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


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_among_the_services_only_collections_reaches_customers(overlay: str) -> None:
    documents = rendered(overlay)
    policies = of_kind(documents, "NetworkPolicy")
    deployments, jobs = by_name(documents, "Deployment"), by_name(documents, "Job")
    pods = {s: deployments[f"creditflow-{s}"]["spec"]["template"]["metadata"]["labels"] for s in SERVICES}
    migrations = {s: jobs[f"creditflow-{s}-migrate"]["spec"]["template"]["metadata"]["labels"] for s in SERVICES}
    reached = {
        (source, target)
        for source in SERVICES
        for target in SERVICES
        if source != target and reaches(policies, pods[source], pods[target], PORTS[target])
    }
    assert reached == {("collections", "customers")}
    other_ports = {PORTS[s] for s in SERVICES} - {PORTS["customers"]}
    assert not any(reaches(policies, pods["collections"], pods["customers"], port) for port in other_ports)
    assert not reaches(policies, pods["collections"], migrations["customers"], PORTS["customers"])
    assert not reaches(policies, migrations["collections"], pods["customers"], PORTS["customers"])


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
    assert rule["ports"] == [{"port": tls_listener(kafka)["port"], "protocol": "TCP"}]
    # ...and Strimzi's listener policy lets the services in.
    service_labels = by_name(documents, "Deployment")["creditflow-credit"]["spec"]["template"]["metadata"]["labels"]
    assert any(selects(p["podSelector"], service_labels) for p in tls_listener(kafka)["networkPolicyPeers"])


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
