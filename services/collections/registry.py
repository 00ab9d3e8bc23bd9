"""Read-through to the customer registry: a customer collections has not heard of yet is asked for over HTTP.

Right after a customer is created, its ``customer_registered`` event may not have reached collections; an
invoice for it must not be refused then. Unknown ids are looked up at the registry (short timeout) and, when
found, recorded in the directory as the event would; only a customer the registry does not have is refused
(422); a registry that cannot be asked gives 503 with ``Retry-After`` (the client retries, nothing is written).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.models import KnownCustomer
from services.collections.settings import CollectionsSettings
from shared.auth import mint_token
from shared.errors import ServiceUnavailable

RETRY_AFTER_SECONDS = 2
_CONCURRENT_LOOKUPS = 16


class Registry:
    """Asks the customers service about customer ids (``registry_url``), with a token of its own."""

    def __init__(self, settings: CollectionsSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.transport = transport

    @property
    def enabled(self) -> bool:
        return bool(self.settings.registry_url)

    def _token(self) -> str:
        if self.settings.registry_token is not None:
            return self.settings.registry_token.get_secret_value()
        return mint_token(
            self.settings,
            ["customers:read"],
            subject="collections",
            now=datetime.now(UTC),
            ttl=timedelta(minutes=5),
        )

    async def lookup(self, customer_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        """The registry's record of each id it has; ids it does not have are left out.

        Raises ``ServiceUnavailable`` (503, Retry-After) when the registry cannot be asked.
        """
        if not customer_ids:
            return {}
        headers = {"Authorization": f"Bearer {self._token()}"}
        limit = asyncio.Semaphore(_CONCURRENT_LOOKUPS)
        async with httpx.AsyncClient(
            base_url=str(self.settings.registry_url),
            transport=self.transport,
            timeout=self.settings.registry_timeout_seconds,
            headers=headers,
        ) as client:

            async def one(customer_id: uuid.UUID) -> tuple[uuid.UUID, dict[str, Any] | None]:
                async with limit:
                    response = await client.get(f"/v1/customers/{customer_id}")
                if response.status_code == 404:
                    return customer_id, None
                response.raise_for_status()
                return customer_id, dict(response.json())

            try:
                found = await asyncio.gather(*(one(customer_id) for customer_id in customer_ids))
            except (httpx.HTTPError, ValueError) as exc:
                raise ServiceUnavailable(
                    f"the customer registry could not be asked about unknown customers ({type(exc).__name__}); "
                    "retry shortly",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                ) from exc
        return {customer_id: record for customer_id, record in found if record is not None}


async def remember(session: AsyncSession, records: dict[uuid.UUID, dict[str, Any]], now: datetime) -> None:
    """Record the registry's customers in the directory, as their ``customer_registered`` event will."""
    if not records:
        return
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table: Any = KnownCustomer.__table__
    rows = [
        {
            "id": customer_id,
            "name": record["name"],
            "kind": record["kind"],
            "lifecycle": record["lifecycle"],
            "segment": record.get("segment") or "general",
            "region": record.get("region"),
            "registered_at": now,
            "updated_at": now,
        }
        for customer_id, record in records.items()
    ]
    await session.execute(module.insert(table).on_conflict_do_nothing(index_elements=["id"]), rows)
