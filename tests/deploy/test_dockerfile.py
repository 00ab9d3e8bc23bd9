"""The image: deploy/Dockerfile through hadolint, its structure, .dockerignore, the entrypoint and health check."""

from __future__ import annotations

import fnmatch
import http.server
import re
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.settings import SERVICE_PORTS
from tests.deploy.support import DEPLOY, DOCKERFILE, REPO, load_module, run, tool

healthcheck = load_module(DEPLOY / "healthcheck.py", "creditflow_deploy_healthcheck")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            result.append((keyword.upper(), arguments.strip()))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, in order."""
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions(text):
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


DOCKERFILE_TEXT = DOCKERFILE.read_text(encoding="utf-8")


# ---- hadolint ---------------------------------------------------------------------------------------------


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    """hadolint at its strictest default threshold (any finding fails)."""
    return run(tool("hadolint"), "--no-color", str(path))


def test_hadolint_passes_the_dockerfile() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


BREAKAGES = [
    # (id, old text, new text, rule hadolint must report)
    (
        "unpinned-base",
        "ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm",
        "ARG PYTHON_IMAGE=python\nFROM python:latest",
        "DL3007",
    ),
    ("apt-without-pins", "WORKDIR /src", "WORKDIR /src\nRUN apt-get update && apt-get install -y gcc", "DL3008"),
    ("pip-cache-kept", "pip install --no-cache-dir --no-deps .", "pip install --no-deps .", "DL3042"),
    ("cd-instead-of-workdir", "COPY README.md ./", "RUN cd /src && ls\nCOPY README.md ./", "DL3003"),
]


@pytest.mark.parametrize(("old", "new", "rule"), [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_hadolint_fails_a_broken_dockerfile(tmp_path: Path, old: str, new: str, rule: str) -> None:
    assert old in DOCKERFILE_TEXT
    broken = tmp_path / "Dockerfile"
    broken.write_text(DOCKERFILE_TEXT.replace(old, new, 1), encoding="utf-8")
    result = hadolint(broken)
    assert result.returncode != 0
    assert rule in result.stdout


# ---- structure ---------------------------------------------------------------------------------------------


def test_base_image_is_a_pinned_slim_python_311_shared_by_both_stages() -> None:
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE_TEXT, re.MULTILINE)
    assert default, "the base image is given once, as ARG PYTHON_IMAGE"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", default.group(1))
    froms = [arguments for keyword, arguments in instructions(DOCKERFILE_TEXT) if keyword == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]


def test_runtime_stage_runs_as_a_numeric_non_root_user_without_build_tools() -> None:
    runtime = stages(DOCKERFILE_TEXT)[-1]
    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    assert users, "the runtime stage sets USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, "a numeric uid lets Kubernetes verify runAsNonRoot"
    runs = " ".join(arguments for keyword, arguments in runtime if keyword == "RUN")
    for build_tool in ("apt-get", "gcc", "build-essential", "pip install", "make "):
        assert build_tool not in runs
    copies = [arguments for keyword, arguments in runtime if keyword == "COPY"]
    assert any("--from=build /opt/venv /opt/venv" in arguments for arguments in copies)
    assert not any(arguments.split()[-2:] == [".", "."] for arguments in copies), "no source tree in the runtime"


def test_runtime_stage_has_healthcheck_on_livez_and_creditflow_entrypoint() -> None:
    runtime = dict(stages(DOCKERFILE_TEXT)[-1])
    assert "healthcheck.py" in runtime["HEALTHCHECK"] and "CMD" in runtime["HEALTHCHECK"]
    assert "/livez" in (DEPLOY / "healthcheck.py").read_text(encoding="utf-8")
    assert runtime["ENTRYPOINT"] == '["creditflow-entrypoint"]'
    assert "exec creditflow" in (DEPLOY / "docker-entrypoint.sh").read_text(encoding="utf-8")


def test_dependencies_come_from_exact_pins() -> None:
    """The build installs pyproject's dependency list as is, so every entry must be pinned with ==."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    unpinned = [requirement for requirement in project["dependencies"] if "==" not in requirement]
    assert unpinned == []
    assert "tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']" in DOCKERFILE_TEXT


def test_everything_the_package_needs_is_installed_into_the_image() -> None:
    """pip install . takes .py files and the package-data globs; anything else under shared/ or services/
    (an .sql, .toml, .txt file a service reads at run time) would be missing from the image."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = project["tool"]["setuptools"]["package-data"]["*"]
    missing = [
        str(path.relative_to(REPO))
        for top in ("shared", "services")
        for path in (REPO / top).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".py", ".pyc")
        and not any(fnmatch.fnmatch(path.name, pattern) for pattern in globs)
    ]
    assert missing == []


# ---- .dockerignore -----------------------------------------------------------------------------------------


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: ``**`` any number of folders, ``*`` and ``?`` within one, ``[...]``."""
    regex, position = "", 0
    while position < len(pattern):
        if pattern.startswith("**/", position):
            regex, position = regex + "(.*/)?", position + 3
        elif pattern.startswith("**", position):
            regex, position = regex + ".*", position + 2
        elif pattern[position] == "*":
            regex, position = regex + "[^/]*", position + 1
        elif pattern[position] == "?":
            regex, position = regex + "[^/]", position + 1
        elif pattern[position] == "[" and "]" in pattern[position:]:
            end = pattern.index("]", position)
            regex, position = regex + pattern[position : end + 1], end + 1
        else:
            regex, position = regex + re.escape(pattern[position]), position + 1
    return re.compile(regex)


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, regex) per .dockerignore line; the last matching rule decides, as in Docker."""
    rules = []
    for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((not line.startswith("!"), pattern_regex(line.lstrip("!").strip("/"))))
    return rules


def excluded(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out of the build context."""
    parts = path.split("/")
    candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    decision = False
    for excludes, regex in dockerignore_rules():
        if any(regex.fullmatch(candidate) for candidate in candidates):
            decision = excludes
    return decision


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "shared/settings.py",
        "services/credit/settings.py",
        "deploy/docker-entrypoint.sh",
        "deploy/healthcheck.py",
    ],
)
def test_dockerignore_keeps_what_the_build_copies(path: str) -> None:
    assert not excluded(path)


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".venv/bin/python",
        "var/credit.db",
        "tests/unit/__init__.py",
        "deploy/compose.yaml",
        "deploy/k8s/base/kustomization.yaml",
        "shared/__pycache__/settings.cpython-311.pyc",
        ".env",
        "services/credit/local.db",
        "services/credit/stray.pyc",
    ],
)
def test_dockerignore_leaves_out_everything_else(path: str) -> None:
    assert excluded(path)


def test_every_copy_source_is_in_the_build_context() -> None:
    sources: list[str] = []
    for keyword, arguments in instructions(DOCKERFILE_TEXT):
        if keyword == "COPY" and "--from=" not in arguments:
            sources.extend(part for part in arguments.split()[:-1] if not part.startswith("--"))
    assert sources
    for source in sources:
        assert not excluded(source.rstrip("/")), source
        assert (REPO / source).exists(), f"{source} is copied by the Dockerfile but missing from the repository"


# ---- entrypoint ----------------------------------------------------------------------------------------------


@pytest.fixture
def fake_creditflow(tmp_path: Path) -> Path:
    """A `creditflow` on PATH that prints its arguments, standing in for the real command."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "creditflow"
    fake.write_text('#!/bin/sh\necho "creditflow $*"\n', encoding="utf-8")
    fake.chmod(0o755)
    return bin_dir


ENTRYPOINT_CASES = [
    ("no-args-serves-env-service", [], {"CREDITFLOW_SERVICE": "credit"}, 0, "creditflow serve credit"),
    ("args-pass-through", ["migrate", "--service", "survey"], {}, 0, "creditflow migrate --service survey"),
    ("args-win-over-env", ["serve", "customers"], {"CREDITFLOW_SERVICE": "credit"}, 0, "creditflow serve customers"),
    ("no-args-no-env-refused", [], {}, 64, ""),
]


@pytest.mark.parametrize(
    ("arguments", "environment", "status", "output"),
    [c[1:] for c in ENTRYPOINT_CASES],
    ids=[c[0] for c in ENTRYPOINT_CASES],
)
def test_entrypoint(
    fake_creditflow: Path, arguments: list[str], environment: dict[str, str], status: int, output: str
) -> None:
    result = subprocess.run(
        ["sh", str(DEPLOY / "docker-entrypoint.sh"), *arguments],
        capture_output=True,
        text=True,
        env={"PATH": f"{fake_creditflow}:/usr/bin:/bin", **environment},
        timeout=10,
        check=False,
    )
    assert result.returncode == status, result.stderr
    assert result.stdout.strip() == output


# ---- health check --------------------------------------------------------------------------------------------


def test_healthcheck_knows_the_same_ports_as_the_settings() -> None:
    assert healthcheck.SERVICE_PORTS == SERVICE_PORTS


SERVED_CASES = [
    ("serve-after-interpreter", ["/opt/venv/bin/python", "/opt/venv/bin/creditflow", "serve", "credit"], {}, "credit"),
    ("env-when-no-command", ["/usr/local/bin/creditflow-entrypoint"], {"CREDITFLOW_SERVICE": "survey"}, "survey"),
    (
        "migrate-serves-nothing",
        ["creditflow", "migrate", "--service", "credit"],
        {"CREDITFLOW_SERVICE": "credit"},
        None,
    ),
    ("unknown-process", [], {}, None),
]


@pytest.mark.parametrize(
    ("argv", "environment", "service"), [c[1:] for c in SERVED_CASES], ids=[c[0] for c in SERVED_CASES]
)
def test_healthcheck_finds_the_served_service(
    argv: list[str], environment: dict[str, str], service: str | None
) -> None:
    assert healthcheck.served_service(argv, environment) == service


URL_CASES = [
    ("default-port", "credit", {}, "http://127.0.0.1:8002/livez"),
    ("wildcard-host-is-loopback", "survey", {"CREDITFLOW_SURVEY_HOST": "0.0.0.0"}, "http://127.0.0.1:8004/livez"),
    ("port-setting", "customers", {"CREDITFLOW_CUSTOMERS_PORT": "9001"}, "http://127.0.0.1:9001/livez"),
    ("port-zero-means-default", "collections", {"CREDITFLOW_COLLECTIONS_PORT": "0"}, "http://127.0.0.1:8003/livez"),
    ("ipv6-host", "credit", {"CREDITFLOW_CREDIT_HOST": "::1"}, "http://[::1]:8002/livez"),
]


@pytest.mark.parametrize(("service", "environment", "url"), [c[1:] for c in URL_CASES], ids=[c[0] for c in URL_CASES])
def test_healthcheck_url(service: str, environment: dict[str, str], url: str) -> None:
    assert healthcheck.livez_url(service, environment) == url


@pytest.fixture(scope="module")
def livez_server() -> Iterator[dict[str, int]]:
    """Two local HTTP servers: one whose /livez answers 200, one whose /livez answers 503."""
    servers = {}
    for name, status in (("up", 200), ("down", 503)):

        class Handler(http.server.BaseHTTPRequestHandler):
            answer = status

            def do_GET(self) -> None:
                self.send_response(self.answer if self.path == "/livez" else 404)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers[name] = server
    yield {name: server.server_address[1] for name, server in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("which", "status"), [("up", 0), ("down", 1)], ids=["livez-200-healthy", "livez-503-unhealthy"]
)
def test_healthcheck_reports_livez(livez_server: dict[str, int], which: str, status: int) -> None:
    environment = {"CREDITFLOW_CREDIT_PORT": str(livez_server[which])}
    assert healthcheck.check(["creditflow", "serve", "credit"], environment) == status


def test_healthcheck_reports_a_closed_port_unhealthy(livez_server: dict[str, int]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    assert healthcheck.check(["creditflow", "serve", "credit"], {"CREDITFLOW_CREDIT_PORT": str(closed_port)}) == 1


def test_healthcheck_passes_one_shot_commands() -> None:
    assert healthcheck.check(["creditflow", "migrate", "--service", "credit"], {}) == 0
