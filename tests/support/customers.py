"""Registry test data used across test modules."""

from __future__ import annotations

import uuid

from tests.support.harness import ServiceHarness


def acme(n: int) -> dict[str, str]:
    """A valid customer registration body, unique per call (its tax id)."""
    return {
        "name": f"Customer {n}",
        "kind": "commercial",
        "lifecycle": "active",
        "tax_id": f"T-{uuid.uuid4().hex[:10]}-{n}",
    }


async def known_to_credit(credit: ServiceHarness, customer_id: str) -> bool:
    """Whether credit has learned of the customer (its profile exists)."""
    response = await credit.client.get(f"/v1/profiles/{customer_id}", headers=credit.auth("credit:read"))
    return response.status_code == 200


async def register(customers: ServiceHarness, n: int = 1) -> str:
    """Register a customer over the registry's API; its id."""
    response = await customers.client.post("/v1/customers", json=acme(n), headers=customers.auth("customers:write"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
