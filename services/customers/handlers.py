"""Events from other services the registry reacts to: the sales history and the customer overview."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from services.customers import repository, service
from services.customers.models import CustomerOverview
from shared.consumer import EventContext, Handler, HandlerMap, batch_handler
from shared.events.base import Envelope
from shared.events.collections import (
    CaseResolved,
    CaseWrittenOff,
    InvoiceIssued,
    PaymentReceived,
    ReceivablesChanged,
    StageEntered,
)
from shared.events.credit import CreditAssessed, CreditHoldPlaced, CreditHoldReleased, CreditLimitChanged
from shared.events.survey import QualityAlert, ResponseSubmitted
from shared.snapshots import newer_snapshot

MAX_ALERTS = 20


_LOCKED_OVERVIEWS = "customers_locked_overviews"


async def _overview(ctx: EventContext, customer_id: Any) -> CustomerOverview:
    locked: dict[Any, CustomerOverview] = ctx.session.info.get(_LOCKED_OVERVIEWS, {})
    row = locked.get(customer_id) or await repository.overview_for_update(ctx.session, customer_id, ctx.clock.now())
    row.updated_at = ctx.envelope.time or ctx.clock.now()
    return row


def _overview_run(handler: Callable[[EventContext, Any], Awaitable[None]]) -> Handler:
    """Apply a run of overview events with the run's rows locked and loaded in one query, not one per event, and
    the rows it changed written in one statement (the ORM's flush wrote them one UPDATE at a time)."""

    @batch_handler
    async def run(ctx: EventContext, envelopes: list[Envelope]) -> None:
        customer_ids = {envelope.data.customer_id for envelope in envelopes}
        rows = await repository.overviews_for_update(ctx.session, customer_ids, ctx.clock.now())
        read = {customer_id: _loaded(row) for customer_id, row in rows.items()}
        ctx.session.info[_LOCKED_OVERVIEWS] = rows
        try:
            for envelope in envelopes:
                await handler(dataclasses.replace(ctx, envelope=envelope), envelope.data)
        finally:
            ctx.session.info.pop(_LOCKED_OVERVIEWS, None)
        # Written around the ORM: the session forgets the rows (a later read loads what was written).
        for row in rows.values():
            ctx.session.expunge(row)
        for changed in _changes(rows, read):
            await repository.update_overviews(ctx.session, changed)

    run.__name__ = run.__qualname__ = handler.__name__
    return run


_MISSING = object()


def _loaded(row: CustomerOverview) -> dict[str, Any]:
    """The row's loaded column values; JSON ones copied, so a change in place cannot hide from the comparison."""
    state = row.__dict__
    return {
        key: value.copy() if isinstance(value, dict | list) else value
        for key in _COLUMNS
        if (value := state.get(key, _MISSING)) is not _MISSING
    }


_COLUMNS = [column.key for column in CustomerOverview.__table__.columns]


def _changes(rows: dict[Any, CustomerOverview], read: dict[Any, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The changed rows, grouped by the columns they changed (a run's events change the same few): one bulk
    UPDATE per group, each row setting exactly the columns it changed."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for customer_id, row in rows.items():
        now, before = _loaded(row), read[customer_id]
        keys = tuple(key for key, value in now.items() if before.get(key, _MISSING) != value)
        if keys:
            groups.setdefault(keys, []).append({"customer_id": customer_id, **{key: now[key] for key in keys}})
    return list(groups.values())


async def _overview_if_newer(ctx: EventContext, customer_id: Any, stream: str) -> CustomerOverview | None:
    """The overview row when this snapshot event is newer on ``stream`` than the one applied, else None."""
    row = await _overview(ctx, customer_id)
    sequences = newer_snapshot(row.applied_sequences, stream, ctx.envelope)
    if sequences is None:
        return None  # republished after a broker loss or a replay: a newer one is already shown
    row.applied_sequences = sequences
    return row


# --- sales history -----------------------------------------------------------------------------


async def on_invoice_issued(ctx: EventContext, event: InvoiceIssued) -> None:
    await service.record_invoice_sale(
        ctx.session,
        customer_id=event.customer_id,
        invoice_id=event.invoice_id,
        number=event.number,
        issue_date=event.issue_date,
        currency=event.currency,
        amount=event.amount,
        now=ctx.clock.now(),
    )


async def on_payment_received(ctx: EventContext, event: PaymentReceived) -> None:
    await service.record_payment(
        ctx.session,
        invoice_id=event.invoice_id,
        amount=event.amount + event.discount_granted,
        paid_on=event.paid_on,
        now=ctx.clock.now(),
    )


# --- overview: credit --------------------------------------------------------------------------


async def on_credit_assessed(ctx: EventContext, event: CreditAssessed) -> None:
    if (row := await _overview_if_newer(ctx, event.customer_id, "assessment")) is None:
        return
    row.credit_grade, row.credit_score = event.grade, event.score
    row.credit_assessed_at = ctx.envelope.time or ctx.clock.now()


async def on_credit_limit_changed(ctx: EventContext, event: CreditLimitChanged) -> None:
    if (row := await _overview_if_newer(ctx, event.customer_id, "credit_limit")) is None:
        return
    row.credit_limit, row.credit_limit_currency = event.credit_limit, event.currency


async def on_credit_hold_placed(ctx: EventContext, event: CreditHoldPlaced) -> None:
    if (row := await _overview_if_newer(ctx, event.customer_id, "hold")) is None:
        return
    row.credit_hold, row.credit_hold_reasons = True, list(event.reasons)


async def on_credit_hold_released(ctx: EventContext, event: CreditHoldReleased) -> None:
    if (row := await _overview_if_newer(ctx, event.customer_id, "hold")) is None:
        return
    row.credit_hold, row.credit_hold_reasons = False, []


# --- overview: collections ---------------------------------------------------------------------


async def on_receivables_changed(ctx: EventContext, event: ReceivablesChanged) -> None:
    if (row := await _overview_if_newer(ctx, event.customer_id, "receivables")) is None:
        return
    row.receivables_currency = event.currency
    row.open_receivables, row.overdue_amount = event.open_receivables, event.overdue_amount
    row.oldest_overdue_days, row.receivables_as_of = event.oldest_overdue_days, event.as_of


async def on_stage_entered(ctx: EventContext, event: StageEntered) -> None:
    if (row := await _overview_if_newer(ctx, event.customer_id, f"case:{event.case_id}")) is None:
        return  # the case moved on (or closed) since
    row.open_case_stages = {**row.open_case_stages, str(event.case_id): event.stage}


@batch_handler
async def on_stages_entered(ctx: EventContext, envelopes: list[Envelope]) -> None:
    """A run of ``stage_entered`` events folded per customer: each customer's events applied in order to its
    row's applied sequences and open case stages as plain values (the same guard as ``on_stage_entered``, one
    event at a time), then every row written at once: one UPDATE of the rows there, one INSERT of the new ones.
    A sweep sends several events per customer (each invoice moves several stages); none of them touches an ORM
    object."""
    now = ctx.clock.now()
    by_customer: dict[Any, list[Envelope]] = {}
    for envelope in envelopes:
        by_customer.setdefault(envelope.data.customer_id, []).append(envelope)
    found = await repository.overview_case_stages(ctx.session, set(by_customer))
    updates, inserts = [], []
    for customer_id, events in by_customer.items():
        applied, stages = found.get(customer_id, (None, {}))
        for envelope in events:
            event = envelope.data
            if (sequences := newer_snapshot(applied, f"case:{event.case_id}", envelope)) is None:
                continue  # the case moved on (or closed) since
            applied, stages = sequences, {**stages, str(event.case_id): event.stage}
        row = {
            "customer_id": customer_id,
            "applied_sequences": applied,
            "open_case_stages": stages,
            "updated_at": events[-1].time or now,
        }
        (updates if customer_id in found else inserts).append(row)
    await repository.update_overviews(ctx.session, updates)
    await repository.create_overviews(ctx.session, inserts)
    repository.expire_overviews(ctx.session, found)


async def _case_closed(ctx: EventContext, event: CaseResolved | CaseWrittenOff) -> None:
    if (row := await _overview_if_newer(ctx, event.customer_id, f"case:{event.case_id}")) is None:
        return
    row.open_case_stages = {case: stage for case, stage in row.open_case_stages.items() if case != str(event.case_id)}


async def on_case_resolved(ctx: EventContext, event: CaseResolved) -> None:
    await _case_closed(ctx, event)


async def on_case_written_off(ctx: EventContext, event: CaseWrittenOff) -> None:
    await _case_closed(ctx, event)


# --- overview: survey --------------------------------------------------------------------------


async def on_response_submitted(ctx: EventContext, event: ResponseSubmitted) -> None:
    if (row := await _overview_if_newer(ctx, event.customer_id, "servqual")) is None:
        return
    row.servqual_weighted_gap, row.servqual_unweighted_gap = event.weighted_gap, event.unweighted_gap
    row.servqual_measured_at = ctx.envelope.time or ctx.clock.now()


async def on_quality_alert(ctx: EventContext, event: QualityAlert) -> None:
    """A SERVQUAL gap below the campaign's threshold: flag it on the overview for a follow-up."""
    row = await _overview(ctx, event.customer_id)
    alert = {
        "kind": "servqual_below_threshold",
        "at": (ctx.envelope.time or ctx.clock.now()).isoformat(),
        "details": {
            "campaign_id": str(event.campaign_id),
            "response_id": str(event.response_id),
            "weighted_gap": str(event.weighted_gap),
            "threshold": str(Decimal(event.threshold)),
        },
    }
    row.alerts = [*row.alerts, alert][-MAX_ALERTS:]


EVENT_HANDLERS: HandlerMap = {
    InvoiceIssued: [on_invoice_issued],
    PaymentReceived: [on_payment_received],
    CreditAssessed: [_overview_run(on_credit_assessed)],
    CreditLimitChanged: [_overview_run(on_credit_limit_changed)],
    CreditHoldPlaced: [_overview_run(on_credit_hold_placed)],
    CreditHoldReleased: [_overview_run(on_credit_hold_released)],
    ReceivablesChanged: [_overview_run(on_receivables_changed)],
    StageEntered: [on_stages_entered],
    CaseResolved: [_overview_run(on_case_resolved)],
    CaseWrittenOff: [_overview_run(on_case_written_off)],
    ResponseSubmitted: [_overview_run(on_response_submitted)],
    QualityAlert: [_overview_run(on_quality_alert)],
}
