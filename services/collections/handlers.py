"""Events from other services the collections service applies, as an explicit map type -> handlers."""

from __future__ import annotations

from services.collections.models import KnownCustomer
from shared.consumer import HandlerMap
from shared.readmodels import customer_directory_handlers

EVENT_HANDLERS: HandlerMap = {
    **customer_directory_handlers(KnownCustomer),
}
