"""What every collections router shares: the scopes, paging parameters and the service settings."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Query, Security

from services.collections.registry import Registry
from services.collections.settings import CollectionsSettings
from shared.app import Runtime, RuntimeDep
from shared.auth import Principal, current_principal

Reader = Annotated[Principal, Security(current_principal, scopes=["collections:read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["collections:write"])]
Admin = Annotated[Principal, Security(current_principal, scopes=["admin"])]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]
ETAG_HEADER: dict[int | str, dict[str, Any]] = {200: {"headers": {"ETag": {"schema": {"type": "string"}}}}}


def settings_of(runtime: RuntimeDep) -> CollectionsSettings:
    """The collections settings of the running app."""
    settings = runtime.settings
    assert isinstance(settings, CollectionsSettings)
    return settings


def registry_of(runtime: Runtime) -> Registry:
    """The read-through client of the customer registry (one per app; tests may put their own in extras)."""
    registry = runtime.extras.get("registry")
    if registry is None:
        registry = runtime.extras["registry"] = Registry(settings_of(runtime))
    return cast(Registry, registry)
