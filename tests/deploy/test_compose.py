"""deploy/compose.yaml: the compose-spec schema, start order, Kafka in KRaft mode, topics and the database init."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import (
    COMPOSE_FILE,
    DEAD_LETTER_PARTITIONS,
    DEAD_LETTER_TOPICS,
    DEPLOY,
    INTAKE_TOPICS,
    INTERPOLATION,
    PRODUCED_TOPICS,
    SECRET_STAND_IN,
    SERVICES,
    TOPIC_PARTITIONS,
    interpolate,
    load_compose,
    run,
    tool,
)


def validate_compose(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with the compose-spec schema it vendors (offline)."""
    return run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path))


def test_compose_file_matches_the_compose_spec_schema() -> None:
    result = validate_compose(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def set_condition(compose: dict[str, Any]) -> None:
    compose["services"]["credit"]["depends_on"]["kafka"]["condition"] = "service_ready"


def add_unknown_key(compose: dict[str, Any]) -> None:
    compose["services"]["kafka"]["healthcheck"]["every"] = "10s"


def numeric_interval(compose: dict[str, Any]) -> None:
    compose["services"]["postgres"]["healthcheck"]["interval"] = 5


def list_command_as_mapping(compose: dict[str, Any]) -> None:
    compose["services"]["migrate-credit"]["command"] = {"migrate": "credit"}


BREAKAGES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("unknown-depends-on-condition", set_condition),
    ("unknown-healthcheck-key", add_unknown_key),
    ("interval-not-a-duration", numeric_interval),
    ("command-not-a-list", list_command_as_mapping),
]


@pytest.mark.parametrize("breakage", [b[1] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_schema_check_fails_a_broken_compose_file(tmp_path: Path, breakage: Callable[[dict[str, Any]], None]) -> None:
    compose = load_compose()
    breakage(compose)
    broken = tmp_path / "compose.yaml"
    broken.write_text(yaml.safe_dump(compose, sort_keys=False), encoding="utf-8")
    result = validate_compose(broken)
    assert result.returncode != 0, result.stdout


def test_schema_check_fails_on_malformed_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(
        COMPOSE_FILE.read_text(encoding="utf-8").replace("services:\n", "services:\n  - oops\n", 1), encoding="utf-8"
    )
    assert validate_compose(broken).returncode != 0


COMPOSE = load_compose()
SERVICES_BLOCK = COMPOSE["services"]


def test_images_are_pinned_by_version() -> None:
    for name, service in SERVICES_BLOCK.items():
        image = str(service["image"])
        if image.startswith(("${CREDITFLOW_IMAGE", "${CREDITFLOW_CONSOLE_IMAGE")):
            assert "build" in service, f"{name} builds the creditflow (or the console) image"
            continue
        _, _, tag = image.partition(":")
        assert re.match(r"\d+\.\d+(\.\d+)?", tag), f"{name}: {image} is not pinned by version"
    assert SERVICES_BLOCK["kafka"]["image"].startswith("apache/kafka:")
    assert SERVICES_BLOCK["postgres"]["image"].startswith("postgres:")


def test_kafka_runs_single_node_kraft_without_zookeeper() -> None:
    environment = SERVICES_BLOCK["kafka"]["environment"]
    assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{environment['KAFKA_NODE_ID']}@kafka:9093"
    assert not any("ZOOKEEPER" in key for key in environment)
    assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "PLAINTEXT://kafka:9092" in environment["KAFKA_ADVERTISED_LISTENERS"]
    cluster_id = interpolate(environment["CLUSTER_ID"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{21}[AQgw]", cluster_id), "a base64url UUID, as kafka-storage.sh wants"


def test_topics_job_creates_every_topic_with_its_partitions() -> None:
    job = SERVICES_BLOCK["kafka-topics"]
    environment = job["environment"]
    assert set(environment["TOPICS"].split()) == PRODUCED_TOPICS | INTAKE_TOPICS
    assert set(environment["DLQ_TOPICS"].split()) == DEAD_LETTER_TOPICS
    assert int(environment["TOPIC_PARTITIONS"]) == TOPIC_PARTITIONS
    assert int(environment["DLQ_PARTITIONS"]) == DEAD_LETTER_PARTITIONS
    script = job["command"][0]
    assert "kafka-topics.sh" in script and "--if-not-exists" in script and "--partitions" in script
    assert "$$" in script and "${" not in script.replace("$${", ""), "shell variables are escaped from Compose"
    assert job["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert job["restart"] == "no"


@pytest.mark.parametrize("service", SERVICES)
def test_migration_job_per_service(service: str) -> None:
    job = SERVICES_BLOCK[f"migrate-{service}"]
    assert job["command"] == ["migrate", "--service", service]
    assert job["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert job["restart"] == "no"
    assert job["environment"] == SERVICES_BLOCK[service]["environment"], "the job migrates the service's database"


@pytest.mark.parametrize("service", SERVICES)
def test_service_starts_after_its_healthy_dependencies(service: str) -> None:
    definition = SERVICES_BLOCK[service]
    assert definition["command"] == ["serve", service]
    assert definition["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "kafka-topics": {"condition": "service_completed_successfully"},
        f"migrate-{service}": {"condition": "service_completed_successfully"},
    }
    assert definition["read_only"] is True and definition["cap_drop"] == ["ALL"]
    assert "/tmp" in definition["tmpfs"]


@pytest.mark.parametrize("name", ["postgres", "kafka", *SERVICES, "console"])
def test_long_running_containers_have_healthchecks(name: str) -> None:
    healthcheck = SERVICES_BLOCK[name]["healthcheck"]
    assert healthcheck["test"][0] in ("CMD", "CMD-SHELL")
    for key in ("interval", "timeout", "retries"):
        assert key in healthcheck


def test_postgres_makes_the_database_each_service_url_names() -> None:
    postgres = SERVICES_BLOCK["postgres"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in postgres["volumes"]}
    init_script = mounts["/docker-entrypoint-initdb.d/10-creditflow-databases.sh"]
    assert (DEPLOY / init_script).resolve() == (DEPLOY / "postgres" / "init-databases.sh").resolve()
    assert postgres["environment"]["CREDITFLOW_SERVICES"].split() == list(SERVICES)
    for service in SERVICES:
        url = interpolate(SERVICES_BLOCK[service]["environment"][f"CREDITFLOW_{service.upper()}_DATABASE_URL"])
        match = re.fullmatch(r"postgresql\+asyncpg://(\w+):(.+)@postgres:5432/(\w+)", url)
        assert match, url
        assert match.group(1) == match.group(3) == f"creditflow_{service}"
        assert match.group(2) == interpolate(postgres["environment"]["CREDITFLOW_DB_PASSWORD"])


# ---- the init script against a real, throwaway PostgreSQL ------------------------------------------------------


def postgres_binaries() -> Path:
    """The bin folder of the newest local PostgreSQL server installation."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    assert found, "no PostgreSQL server binaries (initdb) on this machine"
    return Path(found[-1]).parent


def as_postgres_user(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command as the postgres system user when we are root (initdb refuses root).

    From ``/``: the checkout may sit in a folder the postgres user cannot enter (a 0700 home).
    """
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [*prefix, *command], cwd="/", capture_output=True, text=True, env=environment, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def init_script() -> Iterator[Path]:
    """deploy/postgres/init-databases.sh copied where the postgres user can read it.

    A fresh clone may live in a folder private to its owner (``mktemp -d``, a 0700 home): the postgres user
    could not open the script in the checkout, as the image's entrypoint can in /docker-entrypoint-initdb.d.
    """
    folder = Path(tempfile.mkdtemp(prefix="creditflow-init-"))
    try:
        folder.chmod(0o755)
        script = folder / "init-databases.sh"
        shutil.copyfile(DEPLOY / "postgres" / "init-databases.sh", script)
        script.chmod(0o755)
        yield script
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def throwaway_postgres() -> Iterator[dict[str, str]]:
    """A PostgreSQL cluster of our own on a Unix socket in a temporary folder, removed afterwards."""
    binaries = postgres_binaries()
    # Not under pytest's tmp folder: that one is private to root and the postgres user could not enter it.
    folder = Path(tempfile.mkdtemp(prefix="creditflow-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    initdb = as_postgres_user(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
    assert initdb.returncode == 0, initdb.stderr
    port = "55437"
    start = as_postgres_user(
        str(binaries / "pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-l",
        str(folder / "log"),
        "-o",
        f"-p {port} -k {folder} -c listen_addresses=''",
        "start",
    )
    assert start.returncode == 0, start.stderr
    try:
        yield {
            "PGHOST": str(folder),
            "PGPORT": port,
            "POSTGRES_USER": "postgres",
            "POSTGRES_DB": "postgres",
            "PATH": f"{binaries}:{os.environ['PATH']}",
        }
    finally:
        as_postgres_user(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def psql(connection: dict[str, str], user: str, database: str, sql: str) -> subprocess.CompletedProcess[str]:
    """Run one SQL statement through psql, unaligned output."""
    return as_postgres_user("psql", "--no-psqlrc", "-At", "-U", user, "-d", database, "-c", sql, env=connection)


def test_init_script_creates_one_owned_database_per_service(
    throwaway_postgres: dict[str, str], init_script: Path
) -> None:
    result = as_postgres_user(
        "sh",
        str(init_script),
        env={**throwaway_postgres, "CREDITFLOW_DB_PASSWORD": "it's; a test", "CREDITFLOW_SERVICES": " ".join(SERVICES)},
    )
    assert result.returncode == 0, result.stderr
    owners = psql(
        throwaway_postgres,
        "postgres",
        "postgres",
        "select datname || '=' || pg_get_userbyid(datdba) from pg_database where datname like 'creditflow%' order by 1",
    )
    assert owners.stdout.split() == sorted(f"creditflow_{s}=creditflow_{s}" for s in SERVICES)
    # A service's role owns its database (it can create its tables) and cannot enter another's.
    assert psql(throwaway_postgres, "creditflow_credit", "creditflow_credit", "create table t (x int)").returncode == 0
    refused = psql(throwaway_postgres, "creditflow_credit", "creditflow_survey", "select 1")
    assert refused.returncode != 0 and "permission denied" in refused.stderr


def test_init_script_refuses_to_run_without_a_password(throwaway_postgres: dict[str, str], init_script: Path) -> None:
    result = as_postgres_user(
        "env",
        "-u",
        "CREDITFLOW_DB_PASSWORD",
        "sh",
        str(init_script),
        env={**throwaway_postgres, "CREDITFLOW_SERVICES": "nothing_created"},
    )
    assert result.returncode != 0
    assert "CREDITFLOW_DB_PASSWORD" in result.stderr


# ---- secrets: no built-in fallback ----------------------------------------------------------------------------

SECRET_VARIABLE = re.compile(r"SECRET|PASSWORD")


def compose_references(text: str) -> list[tuple[str, str | None, str]]:
    """Every ``${NAME...}`` the Compose file interpolates: (name, operator, argument)."""
    return [
        (match.group("name"), match.group("op"), match.group("arg") or "")
        for match in INTERPOLATION.finditer(text)
        if match.group(0) != "$$"
    ]


def secrets_with_a_fallback(text: str) -> list[str]:
    """Secret variables that Compose would replace by something when the operator does not set them."""
    return [
        f"${{{name}{operator or ''}{argument}}}"
        for name, operator, argument in compose_references(text)
        if SECRET_VARIABLE.search(name) and operator != ":?"
    ]


def test_no_secret_has_a_default() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    secrets = {name for name, _, _ in compose_references(text) if SECRET_VARIABLE.search(name)}
    assert secrets == {
        "CREDITFLOW_JWT_SECRET",
        "CREDITFLOW_SURVEY_INVITATION_SECRET",
        "CREDITFLOW_DB_PASSWORD",
        "CREDITFLOW_POSTGRES_PASSWORD",
    }
    assert secrets_with_a_fallback(text) == []
    for name, operator, message in compose_references(text):
        if name in secrets:
            assert operator == ":?" and name in message and "deploy/.env" in message, name


@pytest.mark.parametrize(
    "fallback",
    ["${CREDITFLOW_DB_PASSWORD:-creditflow}", "${CREDITFLOW_JWT_SECRET-x}", "${CREDITFLOW_JWT_SECRET}"],
)
def test_a_secret_with_a_fallback_is_noticed(fallback: str) -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8") + f"\nx-extra: {fallback}\n"
    assert secrets_with_a_fallback(text) == [fallback]


def test_every_secret_reaching_a_service_is_required() -> None:
    # The stand-in is what `interpolate` gives a required (:?) variable; a default would show instead.
    for service in SERVICES:
        environment = SERVICES_BLOCK[service]["environment"]
        for variable, value in environment.items():
            if SECRET_VARIABLE.search(variable) or variable.endswith("_DATABASE_URL"):
                assert SECRET_STAND_IN in interpolate(str(value)), f"{service}: {variable}"
    assert interpolate(SERVICES_BLOCK["postgres"]["environment"]["POSTGRES_PASSWORD"]) == SECRET_STAND_IN
