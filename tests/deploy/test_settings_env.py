"""Every CREDITFLOW_* variable that Compose and Kubernetes give a container is a real setting of the service it
runs, and every setting without a safe default is set: read from the settings classes themselves."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import yaml

from shared.settings import EMBEDDED_JWT_SECRET
from tests.deploy.support import (
    COMPOSE_FILE,
    OVERLAYS,
    SERVICES,
    SETTINGS,
    Container,
    compose_containers,
    env_problems,
    kubernetes_containers,
    load_compose,
    patched_environment,
    rendered,
    secret_fields,
)


def forms() -> list[tuple[str, list[Container]]]:
    """Every deployment form and the creditflow containers it runs."""
    result = [("compose", compose_containers(load_compose()))]
    result += [(f"k8s-{overlay}", kubernetes_containers(rendered(overlay), overlay)) for overlay in OVERLAYS]
    return result


FORMS = forms()


@pytest.mark.parametrize("containers", [f[1] for f in FORMS], ids=[f[0] for f in FORMS])
def test_each_form_runs_every_service_and_its_migration(containers: list[Container]) -> None:
    served = sorted(c.service or "" for c in containers if c.serves)
    migrated = sorted(c.service or "" for c in containers if not c.serves)
    assert served == migrated == sorted(SERVICES)


@pytest.mark.parametrize("containers", [f[1] for f in FORMS], ids=[f[0] for f in FORMS])
def test_every_variable_is_a_real_setting_and_every_needed_setting_is_set(containers: list[Container]) -> None:
    problems = [problem for container in containers for problem in env_problems(container)]
    assert problems == []


def test_compose_in_production_gets_the_operators_secrets() -> None:
    """The secrets are required (``${VAR:?}``): production gets what the operator set, never a built-in value."""
    compose = load_compose()
    containers = compose_containers(compose, shell={"CREDITFLOW_PROFILE": "production"})
    assert [p for c in containers for p in env_problems(c)] == []


def test_compose_with_the_built_in_jwt_secret_as_fallback_is_refused_in_production() -> None:
    """What the file had before: a fallback to the built-in secret, which production must refuse."""
    text = re.sub(
        r"\$\{CREDITFLOW_JWT_SECRET:\?[^}]*\}",
        f"${{CREDITFLOW_JWT_SECRET:-{EMBEDDED_JWT_SECRET}}}",
        COMPOSE_FILE.read_text(encoding="utf-8"),
    )
    compose = yaml.safe_load(text)
    containers = compose_containers(compose, shell={"CREDITFLOW_PROFILE": "production"})
    assert containers and all(any("refuses its environment" in p for p in env_problems(c)) for c in containers)


def test_production_secrets_follow_the_settings_classes() -> None:
    """Secrets are found in the settings classes, so one added later is required by the env test at once."""
    for settings_class in SETTINGS.values():
        assert "jwt_secret" in secret_fields(settings_class)
    assert "invitation_secret" in secret_fields(SETTINGS["survey"])


# ---- the check itself fails on broken environments ----------------------------------------------------------


def service_container(form: str = "k8s-prod", service: str = "credit") -> Container:
    containers = dict(FORMS)[form]
    return next(c for c in containers if c.serves and c.service == service)


def misspelt(container: Container) -> None:
    container.environment["CREDITFLOW_CREDIT_DATABSE_URL"] = container.environment.pop("CREDITFLOW_CREDIT_DATABASE_URL")


def other_service_variable(container: Container) -> None:
    container.environment["CREDITFLOW_SURVEY_PORT"] = "8004"


def no_database(container: Container) -> None:
    del container.environment["CREDITFLOW_CREDIT_DATABASE_URL"]


def sqlite_database(container: Container) -> None:
    container.environment["CREDITFLOW_CREDIT_DATABASE_URL"] = "sqlite+aiosqlite:///var/credit.db"


def no_broker(container: Container) -> None:
    del container.environment["CREDITFLOW_CREDIT_KAFKA_BOOTSTRAP_SERVERS"]


def hs256_tokens(container: Container) -> None:
    """prod verifies RS256 tokens from the OIDC issuer, which needs no JWT secret: go back to HS256."""
    container.environment.pop("CREDITFLOW_CREDIT_JWT_JWKS_URL", None)


def no_jwt_secret_in_production(container: Container) -> None:
    hs256_tokens(container)
    del container.environment["CREDITFLOW_CREDIT_JWT_SECRET"]


def literal_jwt_secret_in_production(container: Container) -> None:
    hs256_tokens(container)
    container.secret_backed.discard("CREDITFLOW_CREDIT_JWT_SECRET")


def loopback_host(container: Container) -> None:
    container.environment["CREDITFLOW_CREDIT_HOST"] = "127.0.0.1"


def wrong_port(container: Container) -> None:
    container.environment["CREDITFLOW_CREDIT_PORT"] = "8080"


def bad_value(container: Container) -> None:
    container.environment["CREDITFLOW_CREDIT_DATABASE_POOL_SIZE"] = "0"


def unknown_profile(container: Container) -> None:
    container.environment["CREDITFLOW_CREDIT_PROFILE"] = "staging"


BREAKAGES = [
    ("misspelt-variable", misspelt, "is no field of CreditSettings"),
    ("another-services-variable", other_service_variable, "is not a setting of credit"),
    ("database-url-missing", no_database, "DATABASE_URL must be a postgresql+asyncpg:// URL"),
    ("database-url-sqlite", sqlite_database, "DATABASE_URL must be a postgresql+asyncpg:// URL"),
    ("bootstrap-servers-missing", no_broker, "KAFKA_BOOTSTRAP_SERVERS is not set"),
    ("production-without-jwt-secret", no_jwt_secret_in_production, "production needs CREDITFLOW_CREDIT_JWT_SECRET"),
    ("production-literal-jwt-secret", literal_jwt_secret_in_production, "must come from a Secret"),
    ("host-not-all-interfaces", loopback_host, "HOST must be 0.0.0.0"),
    ("port-not-the-container-port", wrong_port, "is not the published/container port 8002"),
    ("value-out-of-bounds", bad_value, "refuses its environment"),
    ("unknown-profile", unknown_profile, "refuses its environment"),
]


@pytest.mark.parametrize(("breakage", "finding"), [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_env_check_finds_a_broken_environment(breakage: Callable[[Container], None], finding: str) -> None:
    original = service_container()
    container = Container(
        origin=original.origin,
        command=list(original.command),
        environment=dict(original.environment),
        secret_backed=set(original.secret_backed),
        container_port=original.container_port,
    )
    assert env_problems(container) == []
    breakage(container)
    problems = env_problems(container)
    assert any(finding in problem for problem in problems), problems


def test_env_check_finds_a_container_running_no_known_service() -> None:
    container = Container(origin="test", command=["serve", "billing"])
    assert env_problems(container) == ["test: runs no known service (command ['serve', 'billing'])"]


def test_pre_created_topics_are_those_the_services_would_create_themselves() -> None:
    """The deploy files turn KAFKA_CREATE_TOPICS off and create the topics up front; they must create what
    shared.app.service_topics would, with the partition counts the deployed settings give."""
    from shared.app import service_topics
    from shared.registry import service_spec

    compose = load_compose()
    job = compose["services"]["kafka-topics"]["environment"]
    created = {topic: int(job["TOPIC_PARTITIONS"]) for topic in job["TOPICS"].split()}
    created |= {topic: int(job["DLQ_PARTITIONS"]) for topic in job["DLQ_TOPICS"].split()}
    strimzi = {
        topic["spec"]["topicName"]: topic["spec"]["partitions"]
        for topic in rendered("prod")
        if topic["kind"] == "KafkaTopic"
    }
    wanted: dict[str, int] = {}
    for container in compose_containers(compose):
        service = str(container.service)
        prefix = f"CREDITFLOW_{service.upper()}_"
        assert container.environment[prefix + "KAFKA_CREATE_TOPICS"] == "false"
        with patched_environment(container.environment):
            wanted |= service_topics(service_spec(service), SETTINGS[service]())
    assert created == strimzi == wanted
