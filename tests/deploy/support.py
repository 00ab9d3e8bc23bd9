"""Helpers of the deployment tests: run the validators, render Kustomize, read what each container is given.

The validators are the project's own dev tools, found beside the running interpreter (``.venv/bin``):
check-jsonschema, kubernetes-validate, hadolint. Kustomize overlays are rendered with ``kubectl kustomize``
(kubectl is on every machine of this project's kind).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import yaml
from pydantic import SecretStr

from services.collections.settings import CollectionsSettings
from services.credit.settings import CreditSettings
from services.customers.settings import CustomersSettings
from services.survey.settings import SurveySettings
from shared.registry import service_intakes
from shared.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
CONSOLE_DOCKERFILE = DEPLOY / "console.Dockerfile"
CONSOLE_TEMPLATE = DEPLOY / "console.nginx.conf.template"
# The console's Kubernetes name and the component label that sets its pods apart from the services'.
CONSOLE = "creditflow-console"
CONSOLE_COMPONENT = "console"
K8S = DEPLOY / "k8s"
OVERLAYS = {"base": K8S / "base", "dev": K8S / "overlays" / "dev", "prod": K8S / "overlays" / "prod"}
SCHEMAS = DEPLOY / "schemas"
TOOLS_DIR = Path(sys.executable).parent

SETTINGS: dict[str, type[ServiceSettings]] = {
    "customers": CustomersSettings,
    "credit": CreditSettings,
    "collections": CollectionsSettings,
    "survey": SurveySettings,
}
SERVICES = tuple(SETTINGS)
PRODUCED_TOPICS = {f"creditflow.{service}" for service in SERVICES}
DEAD_LETTER_TOPICS = {f"creditflow.{service}.dlq" for service in SERVICES}
# Topics other systems publish and a service takes in (shared/intake.py): the billing invoices.
INTAKE_TOPICS = {intake.topic for intake in service_intakes()}
TOPIC_PARTITIONS = 6
DEAD_LETTER_PARTITIONS = 1
STRIMZI_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"}
STRIMZI_API = "kafka.strimzi.io/v1"
GATEWAY_API = "gateway.networking.k8s.io/v1"
MONITORING_API = "monitoring.coreos.com/v1"

# The openAPIV3Schema of each custom resource the manifests use, extracted from the projects' own CRDs by
# deploy/schemas/extract_crd_schemas.py (deploy/schemas/README.md says from which release).
CRD_SCHEMAS: dict[tuple[str, str], Path] = {
    (STRIMZI_API, "Kafka"): SCHEMAS / "strimzi" / "kafka.json",
    (STRIMZI_API, "KafkaNodePool"): SCHEMAS / "strimzi" / "kafkanodepool.json",
    (STRIMZI_API, "KafkaTopic"): SCHEMAS / "strimzi" / "kafkatopic.json",
    (STRIMZI_API, "KafkaUser"): SCHEMAS / "strimzi" / "kafkauser.json",
    (GATEWAY_API, "Gateway"): SCHEMAS / "gateway-api" / "gateway.json",
    (GATEWAY_API, "HTTPRoute"): SCHEMAS / "gateway-api" / "httproute.json",
    (MONITORING_API, "ServiceMonitor"): SCHEMAS / "prometheus-operator" / "servicemonitor.json",
    (MONITORING_API, "PrometheusRule"): SCHEMAS / "prometheus-operator" / "prometheusrule.json",
}
CUSTOM_KINDS = {kind for _, kind in CRD_SCHEMAS}

# Stand-ins for values the files take from Secrets or from the operator's shell: realistic enough for the
# settings classes to parse, so the env test checks everything but the secret itself.
SECRET_STAND_IN = "stand-in-secret-value-0123456789abcdef"
DATABASE_URL_STAND_IN = "postgresql+asyncpg://creditflow_stand_in:secret@postgres.example:5432/creditflow_stand_in"


def tool(name: str) -> str:
    """Path of a validator installed in the project's virtualenv (or, failing that, on PATH)."""
    beside_python = TOOLS_DIR / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    assert found, f"{name} is neither in {TOOLS_DIR} nor on PATH: install the project's dev dependencies"
    return found


def run(*command: str, cwd: Path = REPO, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output as text; never raises on a non-zero exit."""
    return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120, check=False)


def load_module(path: Path, name: str) -> ModuleType:
    """Import a standalone script of deploy/ (which is not a package) as a module."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def dump_all(documents: Iterable[Mapping[str, Any]]) -> str:
    """Documents as one multi-document YAML text."""
    return yaml.safe_dump_all(list(documents), sort_keys=False)


# ---- Kustomize ----------------------------------------------------------------------------------------------


def kustomize_command() -> list[str]:
    """``kubectl kustomize`` where kubectl exists, else a standalone ``kustomize build``."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    kustomize = shutil.which("kustomize")
    assert kustomize, "neither kubectl nor kustomize is installed: the Kubernetes overlays cannot be rendered"
    return [kustomize, "build"]


@functools.cache
def rendered_text(overlay: str) -> str:
    """The YAML that Kustomize renders for ``base``, ``dev`` or ``prod``."""
    result = run(*kustomize_command(), str(OVERLAYS[overlay]))
    assert result.returncode == 0, f"kustomize failed for {overlay}:\n{result.stderr}"
    return result.stdout


def rendered(overlay: str) -> list[dict[str, Any]]:
    """The rendered resources of an overlay, a fresh copy each call (tests may mutate it)."""
    return [document for document in yaml.safe_load_all(rendered_text(overlay)) if document]


def of_kind(documents: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The documents of one kind."""
    return [document for document in documents if document["kind"] == kind]


def by_name(documents: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """The documents of one kind, by metadata.name."""
    return {document["metadata"]["name"]: document for document in of_kind(documents, kind)}


def pod_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment or Job."""
    return workload["spec"]["template"]["spec"]


# ---- custom resources against their CRD schemas ------------------------------------------------------------


def strict(schema: Any) -> Any:
    """A CRD schema that rejects unknown fields, as the API server does with ``kubectl apply`` (field validation
    Strict): every object schema that lists its properties, and does not preserve unknown fields, gets
    ``additionalProperties: false``."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: strict(value) if key != "enum" else value for key, value in schema.items()}
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and pattern.startswith("^(?i)"):
        # Go's RE2 takes a flag group anywhere; Python only at the start (prometheus-operator's schemas use it).
        result["pattern"] = "(?i)^" + pattern[len("^(?i)") :]
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


@functools.cache
def crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    """A validator of one custom resource kind: its CRD's openAPIV3Schema, made strict."""
    path = CRD_SCHEMAS.get((api_version, kind))
    assert path is not None, f"no schema for {kind} of {api_version}: the cluster's CRDs do not serve it"
    schema = strict(json.loads(path.read_text(encoding="utf-8")))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def crd_errors(document: Mapping[str, Any]) -> list[str]:
    """Schema errors of one custom resource (an unknown apiVersion/kind is one)."""
    if (document.get("apiVersion"), document.get("kind")) not in CRD_SCHEMAS:
        return [f"no CRD serves {document.get('kind')} of {document.get('apiVersion')}"]
    validator = crd_validator(document["apiVersion"], document["kind"])
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


# ---- Compose ------------------------------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The Compose file with its YAML anchors and merge keys resolved."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, environment: Mapping[str, str] | None = None) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` with an empty shell environment.

    A ``:?`` (required) variable that the shell does not set becomes a stand-in secret, as an operator must
    supply it; ``$$`` is a literal ``$``.
    """
    environment = environment or {}

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group("name"), match.group("op"), match.group("arg")
        if name in environment:
            return environment[name]
        if operator in (":-", "-"):
            return argument
        if operator in (":?", "?"):
            return SECRET_STAND_IN
        return ""

    return INTERPOLATION.sub(replace, value)


# ---- what a creditflow container is given ------------------------------------------------------------------


@dataclass
class Container:
    """One creditflow container of a deployment form: which service it runs and the environment it gets."""

    origin: str
    command: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    secret_backed: set[str] = field(default_factory=set)
    container_port: int | None = None

    @property
    def service(self) -> str | None:
        """The service named by ``serve <service>`` or ``migrate --service <service>``."""
        command = self.command
        for position, argument in enumerate(command[:-1]):
            if argument in ("serve", "--service"):
                return command[position + 1]
        return None

    @property
    def serves(self) -> bool:
        """True for a long-running service, False for a one-shot migration."""
        return bool(self.command) and self.command[0] == "serve"


def compose_containers(compose: Mapping[str, Any], shell: Mapping[str, str] | None = None) -> list[Container]:
    """The containers of the Compose file that run the creditflow image (services and migration jobs).

    ``shell`` is the operator's environment that Compose interpolates ``${...}`` from.
    """
    containers = []
    for name, service in compose["services"].items():
        if not str(service.get("image", "")).startswith("${CREDITFLOW_IMAGE"):
            continue
        environment = {key: interpolate(str(value), shell) for key, value in (service.get("environment") or {}).items()}
        secret_backed = {
            key
            for key, value in (service.get("environment") or {}).items()
            if re.search(r"\$\{[A-Z_]*(SECRET|PASSWORD)[A-Z_]*", str(value))
        }
        published = [int(str(port).rsplit(":", 1)[-1]) for port in service.get("ports", [])]
        containers.append(
            Container(
                origin=f"compose:{name}",
                command=list(service.get("command", [])),
                environment=environment,
                secret_backed=secret_backed,
                container_port=published[0] if published else None,
            )
        )
    return containers


def kubernetes_containers(documents: list[dict[str, Any]], overlay: str) -> list[Container]:
    """The creditflow containers of the rendered Deployments and Jobs, with env from their ConfigMaps and Secrets.

    The console (nginx, another image) is left out: tests/deploy/test_console.py checks it.
    """
    config_maps = by_name(documents, "ConfigMap")
    containers = []
    for workload in creditflow_workloads(documents):
        for spec in pod_spec(workload)["containers"]:
            environment: dict[str, str] = {}
            secret_backed: set[str] = set()
            for source in spec.get("envFrom", []):
                config_map_name = source["configMapRef"]["name"]
                assert config_map_name in config_maps, f"{workload['metadata']['name']}: no ConfigMap {config_map_name}"
                environment.update({key: str(value) for key, value in config_maps[config_map_name]["data"].items()})
            for variable in spec.get("env", []):
                if "value" in variable:
                    environment[variable["name"]] = str(variable["value"])
                elif "secretKeyRef" in variable.get("valueFrom", {}):
                    name = variable["name"]
                    environment[name] = DATABASE_URL_STAND_IN if name.endswith("_DATABASE_URL") else SECRET_STAND_IN
                    secret_backed.add(name)
                else:
                    raise AssertionError(f"unexpected env source in {workload['metadata']['name']}: {variable}")
            ports = [port["containerPort"] for port in spec.get("ports", [])]
            containers.append(
                Container(
                    origin=f"{overlay}:{workload['kind']}/{workload['metadata']['name']}",
                    command=list(spec.get("command", [])) + list(spec.get("args", [])),
                    environment=environment,
                    secret_backed=secret_backed,
                    container_port=ports[0] if ports else None,
                )
            )
    return containers


def is_console(workload: Mapping[str, Any]) -> bool:
    """Whether a rendered workload is the web console (by its component label)."""
    return workload["metadata"].get("labels", {}).get("app.kubernetes.io/component") == CONSOLE_COMPONENT


def creditflow_workloads(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Deployments and Jobs that run the creditflow image: the services and their migrations."""
    workloads = of_kind(documents, "Deployment") + of_kind(documents, "Job")
    return [workload for workload in workloads if not is_console(workload)]


def secret_fields(settings_class: type[ServiceSettings]) -> set[str]:
    """Fields holding a secret that has a built-in default, which production must never run with."""
    return {
        name
        for name, info in settings_class.model_fields.items()
        if info.annotation is SecretStr and not info.is_required()
    }


def env_problems(container: Container) -> list[str]:
    """What is wrong with the environment a creditflow container is given (empty when nothing is)."""
    service = container.service
    if service not in SETTINGS:
        return [f"{container.origin}: runs no known service (command {container.command})"]
    settings_class = SETTINGS[service]
    prefix = f"CREDITFLOW_{service.upper()}_"
    fields = settings_class.model_fields
    problems = []
    given: dict[str, str] = {}
    for variable, value in container.environment.items():
        if not variable.startswith("CREDITFLOW_"):
            continue
        if not variable.startswith(prefix):
            problems.append(f"{container.origin}: {variable} is not a setting of {service} (prefix {prefix})")
            continue
        name = variable[len(prefix) :].lower()
        if name not in fields:
            problems.append(f"{container.origin}: {variable} is no field of {settings_class.__name__}")
            continue
        given[name] = value
    for name, info in fields.items():
        if info.is_required() and name not in given:
            problems.append(f"{container.origin}: required {prefix}{name.upper()} is not set")
    if not given.get("database_url", "").startswith("postgresql+asyncpg://"):
        problems.append(f"{container.origin}: {prefix}DATABASE_URL must be a postgresql+asyncpg:// URL")
    if not given.get("kafka_bootstrap_servers"):
        problems.append(f"{container.origin}: {prefix}KAFKA_BOOTSTRAP_SERVERS is not set")
    if container.serves:
        if given.get("host") != "0.0.0.0":
            problems.append(f"{container.origin}: {prefix}HOST must be 0.0.0.0 in a container")
        if container.container_port is not None and given.get("port") != str(container.container_port):
            problems.append(
                f"{container.origin}: {prefix}PORT {given.get('port')} is not the published/container "
                f"port {container.container_port}"
            )
    if given.get("profile") == "production":
        for name in sorted(secret_fields(settings_class)):
            if name == "jwt_secret" and given.get("jwt_jwks_url"):
                continue
            if name not in given:
                problems.append(
                    f"{container.origin}: production needs {prefix}{name.upper()} (its default is a "
                    f"built-in development secret)"
                )
            elif f"{prefix}{name.upper()}" not in container.secret_backed:
                problems.append(f"{container.origin}: {prefix}{name.upper()} must come from a Secret, not a literal")
    if not problems:
        problems.extend(construction_problems(container, settings_class, given))
    return problems


def construction_problems(
    container: Container, settings_class: type[ServiceSettings], given: Mapping[str, str]
) -> list[str]:
    """The settings class's own verdict on the values (types, bounds, the production secret rule)."""
    environment = {
        f"CREDITFLOW_{settings_class.service_name.upper()}_{name.upper()}": value for name, value in given.items()
    }
    try:
        with patched_environment(environment):
            settings_class()
    except Exception as error:  # any refusal is the finding
        return [f"{container.origin}: {settings_class.__name__} refuses its environment: {error}"]
    return []


@contextlib.contextmanager
def patched_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Run with exactly the given CREDITFLOW_* variables in os.environ, restoring it afterwards."""
    saved = {key: value for key, value in os.environ.items() if key.startswith("CREDITFLOW_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(variables)
    try:
        yield
    finally:
        for key in [key for key in os.environ if key.startswith("CREDITFLOW_")]:
            del os.environ[key]
        os.environ.update(saved)


# ---- NetworkPolicy evaluation --------------------------------------------------------------------------------


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a label selector (matchLabels / matchExpressions) selects a set of labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def policy_types(policy: Mapping[str, Any]) -> set[str]:
    """A NetworkPolicy's policyTypes, with Kubernetes's default when omitted."""
    spec = policy["spec"]
    if "policyTypes" in spec:
        return set(spec["policyTypes"])
    return {"Ingress", "Egress"} if "egress" in spec else {"Ingress"}


def allowed_ports(
    policies: list[dict[str, Any]], pod_labels: Mapping[str, str], direction: str
) -> set[tuple[int, str, str]] | None:
    """(port, protocol, peer) allowed for a pod in one direction; None when no policy isolates it (all open).

    ``peer`` is a readable summary of the rule's peers (``any`` when the rule names none).
    """
    rules_key = "ingress" if direction == "Ingress" else "egress"
    peers_key = "from" if direction == "Ingress" else "to"
    isolating = [
        policy
        for policy in policies
        if selects(policy["spec"]["podSelector"], pod_labels) and direction in policy_types(policy)
    ]
    if not isolating:
        return None
    allowed: set[tuple[int, str, str]] = set()
    for policy in isolating:
        for rule in policy["spec"].get(rules_key, []):
            peers = rule.get(peers_key)
            peer = "any" if not peers else yaml.safe_dump(peers, sort_keys=True, default_flow_style=True).strip()
            for port in rule.get("ports") or [{"port": 0, "protocol": "ALL"}]:
                allowed.add((int(port.get("port", 0)), port.get("protocol", "TCP"), peer))
    return allowed


def deep_copy(value: Any) -> Any:
    """A deep copy (tests mutate rendered documents to break them)."""
    return copy.deepcopy(value)


def _peer_selects(peer: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether one NetworkPolicy peer (same namespace: podSelector only) selects a pod with these labels."""
    if "ipBlock" in peer or "namespaceSelector" in peer:
        return False
    return selects(peer.get("podSelector") or {}, labels)


def _direction_allows(
    policies: list[dict[str, Any]], pod: Mapping[str, str], peer: Mapping[str, str], port: int, direction: str
) -> bool:
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    isolating = [p for p in policies if selects(p["spec"]["podSelector"], pod) and direction in policy_types(p)]
    if not isolating:
        return True
    for policy in isolating:
        for rule in policy["spec"].get(rules_key, []):
            peers = rule.get(peers_key)
            if peers and not any(_peer_selects(item, peer) for item in peers):
                continue
            ports = rule.get("ports")
            if not ports or any(
                int(item.get("port", 0)) == port and item.get("protocol", "TCP") == "TCP" for item in ports
            ):
                return True
    return False


def reaches(policies: list[dict[str, Any]], source: Mapping[str, str], target: Mapping[str, str], port: int) -> bool:
    """Whether a pod with labels ``source`` may open TCP ``port`` on a pod with labels ``target`` in the same
    namespace: the source's egress and the target's ingress must both allow it."""
    return _direction_allows(policies, source, target, port, "Egress") and _direction_allows(
        policies, target, source, port, "Ingress"
    )
