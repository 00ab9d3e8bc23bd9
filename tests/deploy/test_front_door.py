"""deploy/k8s front door: one Gateway API HTTPRoute per service (and the prod Gateway), validated against the
standard-channel CRD schemas of Gateway API, and consistent with the Services and the services' settings."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from shared.registry import app_factory
from tests.deploy.support import (
    GATEWAY_API,
    OVERLAYS,
    SERVICES,
    SETTINGS,
    by_name,
    crd_errors,
    deep_copy,
    kubernetes_containers,
    of_kind,
    rendered,
)

ALL_OVERLAYS = tuple(OVERLAYS)
# Served by every service but only for the cluster: probes and Prometheus, never through the front door.
INTERNAL_PATHS = ("/livez", "/readyz", "/metrics")


def routes(overlay: str) -> dict[str, dict[str, Any]]:
    return by_name(rendered(overlay), "HTTPRoute")


def route_matches(route: dict[str, Any], path: str) -> bool:
    """Whether an HTTPRoute's path matches (PathPrefix on segment boundaries, Exact) send ``path`` through."""
    for rule in route["spec"]["rules"]:
        for match in rule["matches"]:
            kind, value = match["path"]["type"], match["path"]["value"]
            if kind == "Exact" and path == value:
                return True
            if kind == "PathPrefix" and (path == value or path.startswith(value.rstrip("/") + "/")):
                return True
    return False


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
def test_routes_and_gateway_match_the_gateway_api_schemas(overlay: str) -> None:
    documents = [d for d in rendered(overlay) if d["kind"] in ("HTTPRoute", "Gateway")]
    assert documents
    for document in documents:
        assert document["apiVersion"] == GATEWAY_API
        assert crd_errors(document) == [], document["metadata"]["name"]


@pytest.mark.parametrize("overlay", ALL_OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_route_to_its_service_port(overlay: str, service: str) -> None:
    documents = rendered(overlay)
    route = routes(overlay)[f"creditflow-{service}"]
    kubernetes_service = by_name(documents, "Service")[f"creditflow-{service}"]
    (rule,) = route["spec"]["rules"]
    (backend,) = rule["backendRefs"]
    assert backend["name"] == kubernetes_service["metadata"]["name"]
    assert backend["port"] in [port["port"] for port in kubernetes_service["spec"]["ports"]]
    assert backend.get("kind", "Service") == "Service"


@pytest.mark.parametrize("service", SERVICES)
def test_a_route_carries_the_whole_api_and_nothing_internal(service: str) -> None:
    route = routes("prod")[f"creditflow-{service}"]
    settings = SETTINGS[service]()
    paths = list(app_factory(service)(settings, configure_logs=False).openapi()["paths"])
    api = [path for path in paths if path not in INTERNAL_PATHS]
    assert api and all(route_matches(route, path) for path in api)
    assert route_matches(route, "/openapi.json")
    assert not any(route_matches(route, path) for path in INTERNAL_PATHS)


def test_route_hosts_are_unique_and_match_each_services_public_base_url() -> None:
    documents = rendered("prod")
    hosts = {name: route["spec"]["hostnames"] for name, route in routes("prod").items()}
    flat = [host for names in hosts.values() for host in names]
    assert len(flat) == len(set(flat)) == len(SERVICES) + 1, "paths collide across services: one host each (+ console)"
    for container in kubernetes_containers(documents, "prod"):
        if not container.serves:
            continue
        base_url = container.environment[f"CREDITFLOW_{str(container.service).upper()}_PUBLIC_BASE_URL"]
        assert urlsplit(base_url).scheme == "https"
        assert [urlsplit(base_url).hostname] == hosts[f"creditflow-{container.service}"], container.origin


def test_prod_gateway_takes_every_route_over_https() -> None:
    documents = rendered("prod")
    (gateway,) = of_kind(documents, "Gateway")
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    for route in routes("prod").values():
        (parent,) = route["spec"]["parentRefs"]
        assert parent["name"] == gateway["metadata"]["name"]
        assert parent.get("namespace", route["metadata"]["namespace"]) == gateway["metadata"]["namespace"]
        listener = listeners[parent["sectionName"]]
        assert listener["protocol"] == "HTTPS" and listener["tls"]["mode"] == "Terminate"
        assert all(fnmatch.fnmatch(host, listener["hostname"]) for host in route["spec"]["hostnames"])
        assert listener["allowedRoutes"]["namespaces"]["from"] == "Same"


def test_dev_leaves_the_gateway_to_the_cluster() -> None:
    assert of_kind(rendered("dev"), "Gateway") == []
    assert set(routes("dev")) == {f"creditflow-{service}" for service in SERVICES} | {"creditflow-console"}


def first_route(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return of_kind(documents, "HTTPRoute")[0]


def gateway(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return of_kind(documents, "Gateway")[0]


BREAKAGES: list[tuple[str, Callable[[list[dict[str, Any]]], object]]] = [
    ("route-unknown-path-type", lambda d: first_route(d)["spec"]["rules"][0]["matches"][0]["path"].update(type="Glob")),
    ("route-port-as-text", lambda d: first_route(d)["spec"]["rules"][0]["backendRefs"][0].update(port="http")),
    ("route-hostname-with-port", lambda d: first_route(d)["spec"].update(hostnames=["credit.example:443"])),
    ("route-unknown-field", lambda d: first_route(d)["spec"].update(host="credit.example")),
    ("route-old-api-version", lambda d: first_route(d).update(apiVersion="gateway.networking.k8s.io/v1alpha2")),
    ("gateway-listener-without-port", lambda d: gateway(d)["spec"]["listeners"][0].pop("port")),
    ("gateway-protocol-not-a-name", lambda d: gateway(d)["spec"]["listeners"][0].update(protocol="HTTP S")),
    ("gateway-without-class", lambda d: gateway(d)["spec"].pop("gatewayClassName")),
    ("gateway-port-out-of-range", lambda d: gateway(d)["spec"]["listeners"][0].update(port=70000)),
]


@pytest.mark.parametrize("breakage", [b[1] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_gateway_api_check_fails_a_broken_resource(breakage: Callable[[list[dict[str, Any]]], object]) -> None:
    documents = deep_copy(rendered("prod"))
    breakage(documents)
    broken = [d for d in documents if d["kind"] in ("HTTPRoute", "Gateway")]
    assert any(crd_errors(document) for document in broken)
