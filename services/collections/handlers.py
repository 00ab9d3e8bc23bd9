"""Events the collections service applies, as an explicit map type -> handlers.

From the registry: the customer directory, contracts (credit terms and dispute clause) and complaints
about invoices (disputes). From credit: grade and holds (the high-risk segment). From itself:
``stage_entered``, whose handlers carry out each stage's action (service/stage_actions.py).
"""

from __future__ import annotations

from decimal import Decimal

from services.collections import repository
from services.collections.domain.segments import hold_is_independent
from services.collections.models import KnownCustomer
from services.collections.service import billing, cases, customers
from services.collections.service.stage_actions import on_stage_entered
from services.collections.settings import CollectionsSettings
from shared.consumer import EventContext, HandlerMap, batch_handler
from shared.events.base import Envelope
from shared.events.collections import StageEntered
from shared.events.credit import CreditAssessed, CreditHoldPlaced, CreditHoldReleased
from shared.events.customers import (
    ComplaintClosed,
    ComplaintOpened,
    ContractSigned,
    CustomerRegistered,
    CustomerUpdated,
)
from shared.readmodels import customer_directory_handlers

_directory = customer_directory_handlers(KnownCustomer)


async def on_contract_signed(ctx: EventContext, event: ContractSigned) -> None:
    """The customer's contract: its credit terms become the invoices' default, its clause the legal route."""
    now = ctx.clock.now()
    profile = await customers.profile_for(ctx.session, event.customer_id, now)
    profile.contract_id = event.contract_id
    if event.credit_terms:
        profile.credit_terms = event.credit_terms
    kind = event.dispute_resolution.get("kind", "unknown")
    profile.clause_kind = kind if kind in ("arbitration", "court") else "unknown"
    profile.commission = event.dispute_resolution.get("commission")
    profile.penalty_interest_annual_rate = event.penalty_interest_annual_rate
    profile.updated_at = now
    await ctx.session.flush()
    await customers.refresh_open_cases(ctx.session, event.customer_id, now)


async def on_credit_assessed(ctx: EventContext, event: CreditAssessed) -> None:
    now = ctx.clock.now()
    profile = await customers.profile_for(ctx.session, event.customer_id, now)
    profile.credit_grade, profile.updated_at = event.grade, now
    await ctx.session.flush()
    await customers.refresh_open_cases(ctx.session, event.customer_id, now)


async def on_hold_placed(ctx: EventContext, event: CreditHoldPlaced) -> None:
    # A hold our own stage caused must not make the debtor high risk (domain/segments.py): keep its cause.
    await _set_hold(ctx, event.customer_id, True, independent=hold_is_independent(True, event.reasons))


async def on_hold_released(ctx: EventContext, event: CreditHoldReleased) -> None:
    await _set_hold(ctx, event.customer_id, False, independent=False)


async def _set_hold(ctx: EventContext, customer_id: object, on_hold: bool, *, independent: bool) -> None:
    now = ctx.clock.now()
    profile = await customers.profile_for(ctx.session, customer_id, now)  # type: ignore[arg-type]
    profile.on_credit_hold, profile.credit_hold_independent, profile.updated_at = on_hold, independent, now
    await ctx.session.flush()
    await customers.refresh_open_cases(ctx.session, customer_id, now)  # type: ignore[arg-type]


async def on_customer_updated(ctx: EventContext, event: CustomerUpdated) -> None:
    if "segment" in event.changes:
        await customers.refresh_open_cases(ctx.session, event.customer_id, ctx.clock.now())


async def on_complaint_opened(ctx: EventContext, event: ComplaintOpened) -> None:
    """A complaint about an invoice disputes it (the whole outstanding amount unless an amount is given)."""
    if event.invoice_id is None:
        return
    case = await repository.case_for_invoice(ctx.session, event.invoice_id)
    if case is None or case.status not in ("open", "on_hold") or case.outstanding <= 0:
        return
    amount = min(event.disputed_amount or Decimal(case.outstanding), Decimal(case.outstanding))
    if amount <= 0:
        return
    await cases.record_dispute(
        ctx.session, case, amount, f"complaint {event.complaint_id} ({event.category})", ctx.clock.now(), "customers"
    )


async def on_complaint_closed(ctx: EventContext, event: ComplaintClosed) -> None:
    if event.invoice_id is None:
        return
    case = await repository.case_for_invoice(ctx.session, event.invoice_id)
    if case is None or case.status not in ("open", "on_hold"):
        return
    await cases.lift_dispute(
        ctx.session, case, f"complaint {event.complaint_id} {event.outcome}", ctx.clock.now(), "customers"
    )


@batch_handler
async def on_customers_registered(ctx: EventContext, envelopes: list[Envelope]) -> None:
    """Record the published invoices that waited for these customers' registration (after the directory's)."""
    settings = ctx.settings
    assert isinstance(settings, CollectionsSettings)
    registered = {envelope.data.customer_id for envelope in envelopes if isinstance(envelope.data, CustomerRegistered)}
    await billing.release_waiting(ctx.session, registered, settings, ctx.clock.now())


EVENT_HANDLERS: HandlerMap = {
    CustomerRegistered: [*_directory[CustomerRegistered], on_customers_registered],
    CustomerUpdated: [*_directory[CustomerUpdated], on_customer_updated],
    ContractSigned: [on_contract_signed],
    ComplaintOpened: [on_complaint_opened],
    ComplaintClosed: [on_complaint_closed],
    CreditAssessed: [on_credit_assessed],
    CreditHoldPlaced: [on_hold_placed],
    CreditHoldReleased: [on_hold_released],
    StageEntered: [on_stage_entered],
}
