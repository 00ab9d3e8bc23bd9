"""The customer directory as the survey service knows it from the registry."""

from __future__ import annotations

import uuid

from services.survey import repository
from services.survey.models import KnownCustomer
from services.survey.routers.common import Reader
from shared.app import Session
from shared.directory_api import KnownCustomerRead
from shared.errors import NotFound
from shared.openapi import api_router

# The directory route of the thin slice, declared here: shared.directory_api's factory defines its
# ``Reader`` inside a function, which ``from __future__ import annotations`` turns into an unresolvable
# forward reference (the principal became a required query parameter and /openapi.json failed).
directory = api_router(tags=["customers"])


@directory.get(
    "/customers/{customer_id}",
    response_model=KnownCustomerRead,
    summary="A customer as this service knows it from the registry",
)
async def get_known_customer(customer_id: uuid.UUID, session: Session, _principal: Reader) -> KnownCustomer:
    """404 until the registry's `customer_registered` event has been applied here."""
    customer = await repository.known_customer(session, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} is not known here (yet)")
    return customer
