"""The web console as a static site: deploy/console.Dockerfile through hadolint, its nginx config through Debian's
nginx (``nginx -t``, then served for real in front of stub services), and the console in Compose and Kubernetes
(upstream URLs that name the real services and ports, locked-down pods, the route, the network policies, the
OIDC issuer the services verify tokens of)."""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from shared.auth import ADMIN_SCOPE, ALL_SCOPES
from shared.console import ConsoleSettings
from tests.deploy.support import (
    CONSOLE,
    CONSOLE_DOCKERFILE,
    CONSOLE_TEMPLATE,
    OVERLAYS,
    SECRET_STAND_IN,
    SERVICES,
    SETTINGS,
    by_name,
    deep_copy,
    interpolate,
    kubernetes_containers,
    load_compose,
    of_kind,
    pod_spec,
    reaches,
    rendered,
    run,
    tool,
)

ALL_OVERLAYS = tuple(OVERLAYS)
PORTS = {service: SETTINGS[service]().http_port for service in SERVICES}
TEMPLATE_TEXT = CONSOLE_TEMPLATE.read_text(encoding="utf-8")
DOCKERFILE_TEXT = CONSOLE_DOCKERFILE.read_text(encoding="utf-8")
UPSTREAM_VARIABLES = {service: f"CREDITFLOW_{service.upper()}_URL" for service in SERVICES}
OIDC_VARIABLES = {"CONSOLE_OIDC_ISSUER", "CONSOLE_OIDC_CLIENT_ID"}
NGINX_PORT = 8080
# envsubst's forms, as the nginx image's entrypoint runs it: only the variables defined in the environment.
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def template_variables() -> set[str]:
    """The ``${VAR}`` the template expects from the environment (nginx's own ``$var`` are written without braces)."""
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", TEMPLATE_TEXT))


def dockerfile_defaults() -> dict[str, str]:
    """The runtime stage's ENV defaults of the console image."""
    runtime = DOCKERFILE_TEXT.split("AS runtime", 1)[1]
    joined = re.sub(r"\\\n\s*", " ", runtime)
    (env_line,) = [line for line in joined.splitlines() if line.startswith("ENV ")]
    return {key: value.strip('"') for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', env_line[len("ENV ") :])}


def render(environment: Mapping[str, str], text: str = TEMPLATE_TEXT) -> str:
    """What ``envsubst "$defined_envs"`` makes of the template: defined variables replaced, the rest kept."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return environment.get(name, match.group(0))

    return ENV_REFERENCE.sub(replace, text)


# ---- the image -------------------------------------------------------------------------------------------------


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return run(tool("hadolint"), "--no-color", str(path))


def test_hadolint_passes_the_console_dockerfile() -> None:
    result = hadolint(CONSOLE_DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


CONSOLE_BREAKAGES = [
    ("unpinned-base", "ARG NODE_IMAGE=node:20.19-bookworm-slim", "ARG NODE_IMAGE=node\nFROM node:latest", "DL3007"),
    ("cd-instead-of-workdir", "RUN npm run build", "RUN cd /console && npm run build", "DL3003"),
    (
        "apt-without-pins",
        "WORKDIR /console",
        "WORKDIR /console\nRUN apt-get update && apt-get install -y git",
        "DL3008",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "rule"), [b[1:] for b in CONSOLE_BREAKAGES], ids=[b[0] for b in CONSOLE_BREAKAGES]
)
def test_hadolint_fails_a_broken_console_dockerfile(tmp_path: Path, old: str, new: str, rule: str) -> None:
    assert old in DOCKERFILE_TEXT
    broken = tmp_path / "console.Dockerfile"
    broken.write_text(DOCKERFILE_TEXT.replace(old, new, 1), encoding="utf-8")
    result = hadolint(broken)
    assert result.returncode != 0 and rule in result.stdout, result.stdout


def test_the_image_defines_every_variable_the_template_reads_and_listens_where_it_exposes() -> None:
    defaults = dockerfile_defaults()
    assert template_variables() == set(defaults), "envsubst leaves an undefined ${VAR} in the config as is"
    assert set(UPSTREAM_VARIABLES.values()) | OIDC_VARIABLES <= set(defaults)
    assert re.search(rf"^EXPOSE {NGINX_PORT}$", DOCKERFILE_TEXT, re.MULTILINE)
    assert re.findall(r"^\s*listen (\S+);", TEMPLATE_TEXT, re.MULTILINE) == [str(NGINX_PORT)]
    assert f"http://127.0.0.1:{NGINX_PORT}/livez" in DOCKERFILE_TEXT
    assert "/etc/nginx/templates/default.conf.template" in DOCKERFILE_TEXT, "rendered over the image's default.conf"


# ---- nginx: the rendered template is valid and serves what shared/console.py serves ------------------------------


def nginx() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    assert found, "nginx is not installed: apt-get install -y nginx (.ci/run installs it)"
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main_config(folder: Path, server: str) -> str:
    """nginx.conf around the rendered server block, as the image's own: pid and temp files in a folder of ours."""
    return f"""daemon off;
master_process off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {folder}/client_temp;
    proxy_temp_path {folder}/proxy_temp;
    fastcgi_temp_path {folder}/fastcgi_temp;
    uwsgi_temp_path {folder}/uwsgi_temp;
    scgi_temp_path {folder}/scgi_temp;
{server}
}}
"""


@contextlib.contextmanager
def nginx_folder() -> Iterator[Path]:
    """A folder nginx may read (pytest's tmp_path can be private to root, and nginx may drop to nobody)."""
    folder = Path(tempfile.mkdtemp(prefix="creditflow-console-nginx-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def nginx_test(folder: Path, server: str) -> subprocess.CompletedProcess[str]:
    config = folder / "nginx.conf"
    config.write_text(main_config(folder, server), encoding="utf-8")
    return run(nginx(), "-t", "-e", "stderr", "-p", str(folder), "-c", str(config))


LOOPBACK_UPSTREAMS = {
    variable: f"http://127.0.0.1:{8001 + i}" for i, variable in enumerate(UPSTREAM_VARIABLES.values())
}


def test_nginx_accepts_the_rendered_config() -> None:
    environment = {**dockerfile_defaults(), **LOOPBACK_UPSTREAMS}
    server = render(environment)
    assert "${" not in server
    with nginx_folder() as folder:
        result = nginx_test(folder, server)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


NGINX_BREAKAGES: list[tuple[str, Callable[[str], str]]] = [
    ("missing-semicolon", lambda text: text.replace("server_tokens off;", "server_tokens off", 1)),
    ("unrendered-upstream", lambda text: text.replace("http://127.0.0.1:8002", "${CREDITFLOW_CREDIT_URL}", 1)),
    ("unknown-directive", lambda text: text.replace("gzip on;", "gzip on;\n    gzipp on;", 1)),
    ("unbalanced-brace", lambda text: text.replace("location = /livez {", "location = /livez {{", 1)),
]


@pytest.mark.parametrize("breakage", [b[1] for b in NGINX_BREAKAGES], ids=[b[0] for b in NGINX_BREAKAGES])
def test_nginx_check_fails_a_broken_config(breakage: Callable[[str], str]) -> None:
    server = render({**dockerfile_defaults(), **LOOPBACK_UPSTREAMS})
    broken = breakage(server)
    assert broken != server
    with nginx_folder() as folder:
        result = nginx_test(folder, broken)
    assert result.returncode != 0


class StubService(http.server.BaseHTTPRequestHandler):
    """Answers every request with what it saw, as JSON: which service, method, path and forwarded headers."""

    service = "stub"

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps(
            {
                "service": self.service,
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "if_match": self.headers.get("If-Match"),
                "body": self.rfile.read(length).decode() if length else "",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def console_site() -> Iterator[dict[str, Any]]:
    """The rendered config served by nginx on a free port, with a built-app stand-in and a stub per service."""
    stubs = []
    upstreams = {}
    for service in SERVICES:
        handler = type(f"Stub{service.title()}", (StubService,), {"service": service})
        stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=stub.serve_forever, daemon=True).start()
        stubs.append(stub)
        upstreams[UPSTREAM_VARIABLES[service]] = f"http://127.0.0.1:{stub.server_address[1]}"
    issuer = "https://login.example.test/realms/creditflow"
    environment = {**dockerfile_defaults(), **upstreams, "CONSOLE_OIDC_ISSUER": issuer}
    port = free_port()
    with nginx_folder() as folder:
        html = folder / "html"
        (html / "assets").mkdir(parents=True)
        (html / "index.html").write_text("<!doctype html><title>Creditflow console</title>", encoding="utf-8")
        (html / "assets" / "app-1a2b3c.js").write_text("console.log('app')", encoding="utf-8")
        server = render(environment).replace(f"listen {NGINX_PORT};", f"listen 127.0.0.1:{port};", 1)
        server = server.replace("root /usr/share/nginx/html;", f"root {html};", 1)
        config = folder / "nginx.conf"
        config.write_text(main_config(folder, server), encoding="utf-8")
        process = subprocess.Popen(
            [nginx(), "-e", "stderr", "-p", str(folder), "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, process.communicate()[1]
                try:
                    if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "nginx did not answer /livez within 30 s"
                time.sleep(0.1)
            with httpx.Client(base_url=base, timeout=10) as client:
                yield {"client": client, "environment": environment}
        finally:
            process.terminate()
            process.communicate(timeout=30)
            for stub in stubs:
                stub.shutdown()
                stub.server_close()


def test_livez(console_site: dict[str, Any]) -> None:
    response = console_site["client"].get("/livez")
    assert response.status_code == 200 and response.text == "ok\n"


def test_config_json_is_what_the_python_console_says_in_oidc_mode(console_site: dict[str, Any]) -> None:
    """shared/console.py's /config.json with an issuer set: same mode, scopes and OIDC client, never cached."""
    response = console_site["client"].get("/config.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    environment = console_site["environment"]
    assert body["mode"] == "oidc"
    assert body["scopes"] == list(ALL_SCOPES)
    oidc = body["oidc"]
    assert (oidc["authority"], oidc["client_id"]) == (
        environment["CONSOLE_OIDC_ISSUER"],
        environment["CONSOLE_OIDC_CLIENT_ID"],
    )
    # The Python console asks for every scope; the image leaves the elevated ones (`admin`, backdating
    # payments) out of what it asks for by default.
    python_scope = ConsoleSettings().oidc_scope.split()
    elevated = {ADMIN_SCOPE, "collections:backdate"}
    assert oidc["scope"].split() == [scope for scope in python_scope if scope not in elevated]


def test_dev_sign_in_is_refused(console_site: dict[str, Any]) -> None:
    response = console_site["client"].post("/auth/dev-token", json={"scopes": ["admin"]})
    assert response.status_code == 403


@pytest.mark.parametrize("service", SERVICES)
def test_api_requests_reach_their_service_without_the_prefix(console_site: dict[str, Any], service: str) -> None:
    client = console_site["client"]
    headers = {"Authorization": "Bearer t0ken", "If-Match": '"3"'}
    response = client.get(f"/api/{service}/v1/things", params={"cursor": "abc", "limit": "50"}, headers=headers)
    assert response.status_code == 200
    seen = response.json()
    assert seen["service"] == service
    assert (seen["method"], seen["path"]) == ("GET", "/v1/things?cursor=abc&limit=50")
    assert (seen["authorization"], seen["if_match"]) == ("Bearer t0ken", '"3"')
    posted = client.post(f"/api/{service}/v1/things", json={"amount": "12.50"}).json()
    assert (posted["service"], posted["method"], posted["path"]) == (service, "POST", "/v1/things")
    assert json.loads(posted["body"]) == {"amount": "12.50"}


def test_an_unknown_service_is_not_proxied(console_site: dict[str, Any]) -> None:
    response = console_site["client"].get("/api/billing/v1/things")
    assert "service" not in response.text  # the app's index.html, not a stub's answer


@pytest.mark.parametrize("path", ["/", "/cases/8c1f", "/customers/42/360", "/auth/callback?code=x&state=y"])
def test_client_side_routes_load_the_app_uncached(console_site: dict[str, Any], path: str) -> None:
    response = console_site["client"].get(path)
    assert response.status_code == 200 and "<title>Creditflow console</title>" in response.text
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/", "/cases/8c1f", "/config.json", "/assets/app-1a2b3c.js", "/livez"])
def test_every_page_carries_the_security_headers(console_site: dict[str, Any], path: str) -> None:
    """nginx drops the server's add_header in a location that has one of its own: the app page must keep them."""
    headers = console_site["client"].get(path).headers
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "same-origin"
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and console_site["environment"]["CONSOLE_OIDC_ISSUER"] in csp


def test_api_answers_keep_the_services_own_caching(console_site: dict[str, Any]) -> None:
    response = console_site["client"].get("/api/credit/v1/things")
    assert "cache-control" not in response.headers, "the proxy adds no Cache-Control of its own to API answers"


def test_hashed_assets_are_immutable_and_missing_ones_404(console_site: dict[str, Any]) -> None:
    client = console_site["client"]
    asset = client.get("/assets/app-1a2b3c.js")
    assert asset.status_code == 200 and asset.text == "console.log('app')"
    assert "immutable" in asset.headers["cache-control"]
    assert client.get("/assets/app-missing.js").status_code == 404


# ---- Compose -------------------------------------------------------------------------------------------------------

COMPOSE = load_compose()
COMPOSE_CONSOLE = COMPOSE["services"]["console"]


def compose_console_problems(compose: Mapping[str, Any]) -> list[str]:
    """What is wrong with the console service of a Compose file (empty when nothing is)."""
    problems = []
    services = compose["services"]
    console = services.get("console")
    if console is None:
        return ["no console service"]
    if console.get("build", {}).get("dockerfile") != "deploy/console.Dockerfile":
        problems.append("console is not built from deploy/console.Dockerfile")
    published = [str(port).rsplit(":", 2)[-2:] for port in console.get("ports", [])]
    if published != [["8000", str(NGINX_PORT)]]:
        problems.append(f"console publishes {console.get('ports')}, not 8000 -> {NGINX_PORT}")
    environment = {key: str(value) for key, value in (console.get("environment") or {}).items()}
    for service, variable in UPSTREAM_VARIABLES.items():
        if service not in services:
            problems.append(f"no Compose service {service}")
            continue
        port = interpolate(str(services[service]["environment"][f"CREDITFLOW_{service.upper()}_PORT"]))
        expected = f"http://{service}:{port}"
        if interpolate(environment.get(variable, "")) != expected:
            problems.append(f"console {variable}={environment.get(variable)!r}, not {expected}")
    unknown = set(environment) - template_variables()
    if unknown:
        problems.append(f"console sets {sorted(unknown)}, which the nginx template never reads")
    if not re.fullmatch(
        r"\$\{CONSOLE_OIDC_ISSUER:\?[^}]*deploy/\.env[^}]*\}", environment.get("CONSOLE_OIDC_ISSUER", "")
    ):
        problems.append("CONSOLE_OIDC_ISSUER must be required (${CONSOLE_OIDC_ISSUER:?... deploy/.env ...})")
    if not environment.get("CONSOLE_OIDC_CLIENT_ID"):
        problems.append("CONSOLE_OIDC_CLIENT_ID is not set")
    wanted = {service: {"condition": "service_healthy"} for service in SERVICES}
    if console.get("depends_on") != wanted:
        problems.append(f"console depends_on {console.get('depends_on')}, not the four services healthy")
    return problems


def test_compose_runs_the_console_in_front_of_the_four_services() -> None:
    assert compose_console_problems(COMPOSE) == []


COMPOSE_BREAKAGES: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("no-console", lambda c: c["services"].pop("console"), "no console service"),
    (
        "upstream-wrong-port",
        lambda c: c["services"]["console"]["environment"].update(CREDITFLOW_CREDIT_URL="http://credit:8003"),
        "CREDITFLOW_CREDIT_URL",
    ),
    (
        "upstream-wrong-host",
        lambda c: c["services"]["console"]["environment"].update(CREDITFLOW_SURVEY_URL="http://creditflow-survey:8004"),
        "CREDITFLOW_SURVEY_URL",
    ),
    (
        "service-moved-port",
        lambda c: c["services"]["customers"]["environment"].update(CREDITFLOW_CUSTOMERS_PORT="9001"),
        "CREDITFLOW_CUSTOMERS_URL",
    ),
    (
        "issuer-with-a-default",
        lambda c: c["services"]["console"]["environment"].update(CONSOLE_OIDC_ISSUER="${CONSOLE_OIDC_ISSUER:-x}"),
        "must be required",
    ),
    (
        "unread-variable",
        lambda c: c["services"]["console"]["environment"].update(CREDITFLOW_CREDIT_UPSTREAM="http://credit:8002"),
        "never reads",
    ),
    ("published-elsewhere", lambda c: c["services"]["console"].update(ports=["8000:80"]), "not 8000 -> 8080"),
    ("not-waiting", lambda c: c["services"]["console"]["depends_on"].pop("survey"), "depends_on"),
]


@pytest.mark.parametrize(
    ("breakage", "finding"), [b[1:] for b in COMPOSE_BREAKAGES], ids=[b[0] for b in COMPOSE_BREAKAGES]
)
def test_compose_console_check_finds_a_broken_file(breakage: Callable[[dict[str, Any]], object], finding: str) -> None:
    compose = deep_copy(COMPOSE)
    breakage(compose)
    problems = compose_console_problems(compose)
    assert any(finding in problem for problem in problems), problems


def test_compose_console_is_locked_down_and_healthchecked() -> None:
    assert COMPOSE_CONSOLE["read_only"] is True and COMPOSE_CONSOLE["cap_drop"] == ["ALL"]
    assert {"/tmp", "/etc/nginx/conf.d"} <= set(COMPOSE_CONSOLE["tmpfs"]), "pid/temp files and the rendered config"
    assert COMPOSE_CONSOLE["healthcheck"]["test"][-1] == f"http://127.0.0.1:{NGINX_PORT}/livez"
    assert interpolate(COMPOSE_CONSOLE["environment"]["CONSOLE_OIDC_ISSUER"]) == SECRET_STAND_IN


# ---- Kubernetes ----------------------------------------------------------------------------------------------------


def console_parts(documents: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The console's Deployment, its container and the environment its ConfigMap gives it."""
    deployment = by_name(documents, "Deployment")[CONSOLE]
    (container,) = pod_spec(deployment)["containers"]
    config_maps = by_name(documents, "ConfigMap")
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        environment.update(config_maps[source["configMapRef"]["name"]]["data"])
    for variable in container.get("env", []):
        environment[variable["name"]] = variable.get("value", "")
    return deployment, container, environment


def kubernetes_console_problems(documents: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the console's upstreams: each must be a Service of the suite that selects the pods
    serving that service, on the Service port that leads to the service's container port."""
    problems = []
    _, _, environment = console_parts(documents)
    services = by_name(documents, "Service")
    deployments = by_name(documents, "Deployment")
    for service, variable in UPSTREAM_VARIABLES.items():
        url = urlsplit(environment.get(variable, ""))
        target = services.get(str(url.hostname))
        if url.scheme != "http" or target is None:
            problems.append(f"{variable}={environment.get(variable)!r} names no Service")
            continue
        served = [
            d
            for d in deployments.values()
            if target["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        runs = [pod_spec(d)["containers"][0].get("args") for d in served]
        if runs != [["serve", service]]:
            problems.append(f"{variable}: Service {url.hostname} does not lead to `serve {service}` ({runs})")
        ports = [port for port in target["spec"]["ports"] if port["port"] == url.port]
        if not ports:
            problems.append(f"{variable}: Service {url.hostname} has no port {url.port}")
        elif ports[0]["targetPort"] not in ("http", PORTS[service]):
            problems.append(f"{variable}: port {url.port} does not lead to the service's port")
    unknown = set(environment) - template_variables()
    if unknown:
        problems.append(f"the console is given {sorted(unknown)}, which the nginx template never reads")
    return problems


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_the_console_proxies_to_the_real_service_names_and_ports(overlay: str) -> None:
    documents = rendered(overlay)
    assert kubernetes_console_problems(documents) == []
    _, _, environment = console_parts(documents)
    assert OIDC_VARIABLES <= set(environment)
    assert urlsplit(environment["CONSOLE_OIDC_ISSUER"]).scheme == "https"


def upstream_of(documents: list[dict[str, Any]], variable: str, value: str) -> None:
    config_map = next(c for c in of_kind(documents, "ConfigMap") if c["metadata"]["name"].startswith(CONSOLE))
    config_map["data"][variable] = value


K8S_BREAKAGES: list[tuple[str, Callable[[list[dict[str, Any]]], object], str]] = [
    (
        "compose-host-name",
        lambda d: upstream_of(d, "CREDITFLOW_CREDIT_URL", "http://credit:8002"),
        "names no Service",
    ),
    (
        "wrong-port",
        lambda d: upstream_of(d, "CREDITFLOW_CREDIT_URL", "http://creditflow-credit:8003"),
        "has no port 8003",
    ),
    (
        "another-services-url",
        lambda d: upstream_of(d, "CREDITFLOW_SURVEY_URL", "http://creditflow-customers:8001"),
        "does not lead to `serve survey`",
    ),
    (
        "unread-variable",
        lambda d: upstream_of(d, "CREDITFLOW_CONSOLE_OIDC_ISSUER", "https://x.example"),
        "never reads",
    ),
]


@pytest.mark.parametrize(("breakage", "finding"), [b[1:] for b in K8S_BREAKAGES], ids=[b[0] for b in K8S_BREAKAGES])
def test_kubernetes_console_check_finds_a_broken_upstream(
    breakage: Callable[[list[dict[str, Any]]], object], finding: str
) -> None:
    documents = deep_copy(rendered("prod"))
    breakage(documents)
    problems = kubernetes_console_problems(documents)
    assert any(finding in problem for problem in problems), problems


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_console_pod_is_locked_down_probed_and_sized(overlay: str) -> None:
    documents = rendered(overlay)
    deployment, container, _ = console_parts(documents)
    spec = pod_spec(deployment)
    assert spec["automountServiceAccountToken"] is False
    context = spec["securityContext"]
    assert context["runAsNonRoot"] is True and context["runAsUser"] == 101, "the nginx-unprivileged user"
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    own = container["securityContext"]
    assert own["readOnlyRootFilesystem"] is True and own["allowPrivilegeEscalation"] is False
    assert own["capabilities"] == {"drop": ["ALL"]}
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    for path in ("/tmp", "/etc/nginx/conf.d"):
        assert "emptyDir" in volumes[mounts[path]], f"{path} is writable (pid and temp files; the rendered config)"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    assert container["ports"] == [{"name": "http", "containerPort": NGINX_PORT, "protocol": "TCP"}]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/livez", "port": "http"}, probe
    assert deployment["spec"]["replicas"] == (1 if overlay == "dev" else 2)
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert by_name(documents, "Service")[CONSOLE]["spec"]["selector"] == selector
    assert by_name(documents, "Service")[CONSOLE]["spec"]["ports"][0]["port"] == NGINX_PORT
    assert by_name(documents, "PodDisruptionBudget")[CONSOLE]["spec"]["selector"]["matchLabels"] == selector


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_console_image_is_set_by_kustomize_beside_the_services_image(overlay: str) -> None:
    documents = rendered(overlay)
    _, container, _ = console_parts(documents)
    name, _, tag = container["image"].rpartition(":")
    assert name == "creditflow-console" and tag and tag != "latest"
    service_image = pod_spec(by_name(documents, "Deployment")["creditflow-credit"])["containers"][0]["image"]
    assert service_image.rpartition(":")[2] == tag, "the console is released with the services"


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_console_route_sends_its_host_to_the_console_service(overlay: str) -> None:
    route = by_name(rendered(overlay), "HTTPRoute")[CONSOLE]
    assert route["spec"]["hostnames"] == ["console.creditflow.example"]
    (rule,) = route["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert rule["backendRefs"] == [{"name": CONSOLE, "port": NGINX_PORT}]


def labels_of(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, str]:
    labels: dict[str, str] = by_name(documents, kind)[name]["spec"]["template"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_network_policies_let_the_console_reach_the_services_and_nothing_else(overlay: str) -> None:
    documents = rendered(overlay)
    policies = of_kind(documents, "NetworkPolicy")
    console = labels_of(documents, "Deployment", CONSOLE)
    for service in SERVICES:
        pod = labels_of(documents, "Deployment", f"creditflow-{service}")
        assert reaches(policies, console, pod, PORTS[service]), service
        other = {port for name, port in PORTS.items() if name != service}
        assert not any(reaches(policies, console, pod, port) for port in other)
        migration = labels_of(documents, "Job", f"creditflow-{service}-migrate")
        assert not reaches(policies, console, migration, PORTS[service]), "migrations take no traffic"
    anywhere = {"app": "elsewhere"}
    assert reaches(policies, anywhere, console, NGINX_PORT), "the Gateway reaches the console"
    assert not reaches(policies, anywhere, console, 9000)
    for port in (5432, 9093, 443):
        assert not reaches(policies, console, anywhere, port), f"the console needs no egress on {port}"


def test_policy_reachability_notices_a_missing_egress_rule() -> None:
    documents = deep_copy(rendered("prod"))
    policy = by_name(documents, "NetworkPolicy")[CONSOLE]
    policy["spec"]["egress"] = [
        rule for rule in policy["spec"]["egress"] if rule["ports"][0]["port"] != PORTS["credit"]
    ]
    console = labels_of(documents, "Deployment", CONSOLE)
    credit = labels_of(documents, "Deployment", "creditflow-credit")
    assert not reaches(of_kind(documents, "NetworkPolicy"), console, credit, PORTS["credit"])


def test_prod_services_verify_the_consoles_oidc_tokens() -> None:
    """The issuer users sign in with is the one the services check ``iss`` against, and its key set is https."""
    documents = rendered("prod")
    _, _, console = console_parts(documents)
    issuer = console["CONSOLE_OIDC_ISSUER"]
    served = [container for container in kubernetes_containers(documents, "prod") if container.serves]
    assert len(served) == len(SERVICES)
    for container in served:
        prefix = f"CREDITFLOW_{str(container.service).upper()}_"
        assert container.environment[prefix + "JWT_ISSUER"] == issuer, container.origin
        jwks = urlsplit(container.environment[prefix + "JWT_JWKS_URL"])
        assert jwks.scheme == "https" and jwks.hostname == urlsplit(issuer).hostname, container.origin
    policies = of_kind(documents, "NetworkPolicy")
    credit = labels_of(documents, "Deployment", "creditflow-credit")
    assert reaches(policies, credit, {"app": "identity-provider"}, 443), "the services fetch the key set"
