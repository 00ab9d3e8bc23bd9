"""/metrics says what an on-call engineer needs: how old the oldest unpublished event is, and every request
labelled with its route template, errors included."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import FixedClock
from shared.observability import route_template
from tests.support.customers import acme
from tests.support.databases import DatabaseFactory
from tests.support.harness import running_service
from tests.support.metrics import scrape


def requests_total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], **labels: str) -> float:
    wanted = set(labels.items())
    return sum(
        value
        for (name, sample_labels), value in samples.items()
        if name == "creditflow_http_requests_total" and wanted <= set(sample_labels)
    )


async def test_the_oldest_unpublished_event_has_an_age(databases: DatabaseFactory) -> None:
    async with running_service("customers", await databases.create("customers")) as customers:  # relay off
        age = ("creditflow_outbox_oldest_unpublished_age_seconds", (("service", "customers"),))
        assert (await scrape(customers))[age] == 0  # nothing waiting
        response = await customers.client.post("/v1/customers", json=acme(1), headers=customers.auth("admin"))
        assert response.status_code == 201
        assert isinstance(customers.clock, FixedClock)
        customers.clock.set(customers.clock.now() + timedelta(minutes=5))
        assert (await scrape(customers))[age] == 300


async def test_errors_are_labelled_with_their_route_template(databases: DatabaseFactory) -> None:
    async with running_service("customers", await databases.create("customers")) as customers:
        before = await scrape(customers)
        # Refused before routing ran (a NUL character), and a method the path does not have (405).
        nul = await customers.client.post(
            "/v1/customers",
            content=b'{"name": "a\\u0000"}',
            headers={"Content-Type": "application/json", **customers.auth("customers:write")},
        )
        assert nul.status_code == 422
        assert (await customers.client.delete("/v1/customers")).status_code == 405
        unknown = await customers.client.get("/v1/no-such-thing")
        assert unknown.status_code == 404
        after = await scrape(customers)
    route = "/v1/customers"
    grew = {
        status: requests_total(after, route=route, status=status) - requests_total(before, route=route, status=status)
        for status in ("422", "405")
    }
    assert grew == {"422": 1, "405": 1}
    assert requests_total(after, route="unmatched", status="404") >= 1


def test_route_template_is_found_for_a_request_routing_never_finished() -> None:
    from shared.registry import app_factory

    app = app_factory("collections")(configure_logs=False)
    scope = {"type": "http", "method": "GET", "path": "/v1/cases/7b0c2a4e-3f51-4c1e-9d3b-0d6a3c1f2e10", "app": app}
    assert route_template(scope) == "/v1/cases/{case_id}"
    assert route_template({**scope, "path": "/v2/nothing"}) == "unmatched"


async def test_every_request_is_counted_and_timed_under_its_labels(databases: DatabaseFactory) -> None:
    """Each request adds one to its (method, route, status) count and one latency sample, found and not found
    alike, however often the same labels come again."""
    async with running_service("customers", await databases.create("customers")) as customers:
        created = await customers.client.post("/v1/customers", json=acme(1), headers=customers.auth("admin"))
        assert created.status_code == 201
        path = f"/v1/customers/{created.json()['id']}"
        before = await scrape(customers)
        for _ in range(3):
            assert (await customers.client.get(path, headers=customers.auth("admin"))).status_code == 200
        missing = "/v1/customers/00000000-0000-4000-8000-000000000000"
        for _ in range(2):
            assert (await customers.client.get(missing, headers=customers.auth("admin"))).status_code == 404
        after = await scrape(customers)
    route = "/v1/customers/{customer_id}"
    labels = {"service": "customers", "method": "GET", "route": route}
    grew = {
        status: requests_total(after, **labels, status=status) - requests_total(before, **labels, status=status)
        for status in ("200", "404")
    }
    assert grew == {"200": 3, "404": 2}
    timed = ("creditflow_http_request_duration_seconds_count", tuple(sorted(labels.items())))
    assert after[timed] - before.get(timed, 0) == 5
