"""Collections' registry read-through is wired up where it can work: in Compose and the base/dev Kubernetes
config it names the customers service on customers' port, and the token collections mints is one customers
accepts; in prod (customers accepts only the issuer's RS256 tokens) it is off rather than failing every lookup."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from services.collections.registry import Registry
from services.collections.settings import CollectionsSettings
from services.customers.settings import CustomersSettings
from shared.auth import TokenVerifier
from tests.deploy.support import (
    Container,
    by_name,
    compose_containers,
    kubernetes_containers,
    load_compose,
    patched_environment,
    rendered,
)

REGISTRY_URL = "CREDITFLOW_COLLECTIONS_REGISTRY_URL"


def served(containers: list[Container], service: str) -> Container:
    (container,) = [c for c in containers if c.serves and c.service == service]
    return container


def lookup_at_customers(collections: Container, customers: Container) -> list[httpx.Request]:
    """Let collections (as configured) look up one unknown id; customers (as configured) verifies the token."""
    with patched_environment(customers.environment):
        verifier = TokenVerifier(CustomersSettings())
    with patched_environment(collections.environment):
        registry = Registry(CollectionsSettings())
    seen: list[httpx.Request] = []

    def customers_app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        principal = verifier.verify(request.headers["Authorization"].removeprefix("Bearer "))
        assert principal.has("customers:read")
        return httpx.Response(404)

    registry.transport = httpx.MockTransport(customers_app)
    assert registry.enabled
    assert asyncio.run(registry.lookup({uuid.uuid4()})) == {}
    return seen


@pytest.mark.parametrize("profile", ["dev", "production"])
def test_compose_collections_asks_the_customers_service_with_a_token_it_accepts(profile: str) -> None:
    compose = load_compose()
    containers = compose_containers(compose, shell={"CREDITFLOW_PROFILE": profile})
    collections, customers = served(containers, "collections"), served(containers, "customers")
    url = urlsplit(collections.environment[REGISTRY_URL])
    assert url.hostname in compose["services"] and served(compose_containers(compose), url.hostname or "")
    assert url.port == int(customers.environment["CREDITFLOW_CUSTOMERS_PORT"]) == customers.container_port
    (request,) = lookup_at_customers(collections, customers)
    assert request.url.path.startswith("/v1/customers/")


@pytest.mark.parametrize("overlay", ["base", "dev"])
def test_kubernetes_collections_asks_the_customers_service_with_a_token_it_accepts(overlay: str) -> None:
    documents = rendered(overlay)
    containers = kubernetes_containers(documents, overlay)
    collections, customers = served(containers, "collections"), served(containers, "customers")
    url = urlsplit(collections.environment[REGISTRY_URL])
    service = by_name(documents, "Service")[url.hostname or ""]
    assert service["spec"]["selector"]["app.kubernetes.io/name"] == "creditflow-customers"
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == url.port]
    assert port["targetPort"] in ("http", customers.container_port)
    assert url.port == int(customers.environment["CREDITFLOW_CUSTOMERS_PORT"])
    lookup_at_customers(collections, customers)


def test_prod_turns_the_read_through_off_because_customers_refuses_minted_tokens() -> None:
    containers = kubernetes_containers(rendered("prod"), "prod")
    collections, customers = served(containers, "collections"), served(containers, "customers")
    # customers verifies RS256 tokens from the issuer's key set only; collections has no such token to send.
    assert customers.environment.get("CREDITFLOW_CUSTOMERS_JWT_JWKS_URL")
    assert "CREDITFLOW_COLLECTIONS_REGISTRY_TOKEN" not in collections.environment
    assert collections.environment[REGISTRY_URL] == ""
    with patched_environment(collections.environment):
        assert not Registry(CollectionsSettings()).enabled
