"""What stage actions read besides their case and invoice, loaded once per run of ``stage_entered`` events.

A ``StageRun`` answers the actions' reads (policy, letters already sent, the customer's name, the contact
rule's inputs, the agency register and its open cases, a case's active agency assignment) and is told of
their writes, so a run of events reads in a handful of grouped queries and writes in one flush, exactly as
one event after the other. With ``preload`` the run's cases and invoices are read as plain rows (``Loaded``:
one Core SELECT each, no ORM identity or change tracking) and the columns the actions changed are written back
set-based, one UPDATE per table and set of changed columns. Without ``preload`` (a deferred contact carried out
by the sweep) each read is the query it always was, made when first needed, on ORM objects. The rows the
actions record that nothing changes later (letters, visits, deferrals, filings, contacts, history) are kept as
values and inserted per kind in one statement by ``write``, instead of one ORM object each.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Select, Table, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.agencies import Agency as DomainAgency
from services.collections.domain.contact import INTRUSIVE, WINDOW, Channel, ContactDecision
from services.collections.domain.policy import Policy
from services.collections.models import (
    Agency,
    Case,
    CaseAction,
    CaseHistory,
    ContactLog,
    ContactPreference,
    Invoice,
    KnownCustomer,
)
from services.collections.service import contacts
from services.collections.service.policy import current_policy
from services.collections.settings import CollectionsSettings
from shared.db import insert_rows, update_rows, write_changes
from shared.events.collections import StageEntered
from shared.stage import Stage


def contact_instant(event: StageEntered, now: datetime) -> datetime:
    """When a stage's contact happens: the sweep's instant, not the moment a handler gets to it."""
    return event.as_of_at or now


class Loaded:
    """A case or invoice row read as plain attributes, the ORM object's names and values (the actions read and
    set them alike); ``changes`` is what the run set since it was read (or last written)."""

    def __init__(self, row: RowMapping) -> None:
        self.__dict__.update(row)
        self._read = dict(row)

    def changes(self) -> dict[str, Any]:
        read = self._read
        return {key: value for key, value in self.__dict__.items() if key in read and read[key] != value}

    def written(self) -> None:
        self._read = {key: self.__dict__[key] for key in self._read}


async def _load(session: AsyncSession, model: type[Case] | type[Invoice], ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """The rows of ``ids`` in one Core SELECT (after a flush of what the session holds, as the ORM query would)."""
    if not ids:
        return {}
    table = cast(Table, model.__table__)
    result = await session.execute(select(table).where(table.c.id.in_(ids)))
    return {row["id"]: Loaded(row) for row in result.mappings()}


async def _write_loaded(session: AsyncSession, model: type[Case] | type[Invoice], rows: list[Loaded]) -> None:
    """The changed columns of loaded rows: one ``update_rows`` per set of changed columns. An ORM object of the
    same row the session holds (read earlier in the transaction) is expired: its next read loads what was written.
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if changes := row.changes():
            groups.setdefault(tuple(sorted(changes)), []).append({"id": row.id, **changes})
            row.written()
    if not groups:
        return
    table = cast(Table, model.__table__)
    with session.no_autoflush:
        for changed in groups.values():
            await update_rows(session, table, changed, match={"id": "id"})
    for changed in groups.values():
        for values in changed:
            held = session.identity_map.get(session.identity_key(model, values["id"]))  # type: ignore[arg-type]
            if held is not None:
                session.expire(held)


class StageRun:
    def __init__(self, session: AsyncSession, policy: Policy) -> None:
        self.session, self.policy = session, policy
        self.cases: dict[uuid.UUID, Any] = {}  # Case, or Loaded rows when preloaded
        self.invoices: dict[uuid.UUID, Any] = {}
        self._letters: dict[uuid.UUID, int] = {}
        self._customers: dict[uuid.UUID, KnownCustomer | None] = {}
        self._preferences: dict[uuid.UUID, ContactPreference | None] = {}
        self._recent: dict[uuid.UUID, list[datetime]] = {}
        self._agencies: list[Agency] | None = None
        self._open: dict[str, int] = {}
        self._assignments: dict[uuid.UUID, list[CaseAction]] = {}
        self._preloaded = False
        self._rows: dict[Table, list[dict[str, Any]]] = {
            cast(Table, table.__table__): [] for table in (CaseAction, ContactLog, CaseHistory)
        }

    @classmethod
    async def single(cls, session: AsyncSession) -> StageRun:
        return cls(session, await current_policy(session))

    @classmethod
    async def preload(cls, session: AsyncSession, events: list[StageEntered], now: datetime) -> StageRun:
        """One query per kind of read for the whole run (those a stage of the run needs)."""
        run = await cls.single(session)
        run._preloaded = True
        run.cases = await _load(session, Case, list({event.case_id for event in events}))
        run.invoices = await _load(session, Invoice, list({event.invoice_id for event in events}))
        by_stage: dict[Stage, list[StageEntered]] = {}
        for event in events:
            if event.case_id in run.cases:
                by_stage.setdefault(Stage(event.stage), []).append(event)
        letters = [run.cases[event.case_id] for event in by_stage.get(Stage.LETTER, [])]
        visits = [run.cases[event.case_id] for event in by_stage.get(Stage.VISIT, [])]
        if letters:
            ids = list({case.id for case in letters})
            run._letters = dict.fromkeys(ids, 0)
            counts = await session.execute(
                select(CaseAction.case_id, func.count())
                .where(CaseAction.case_id.in_(ids), CaseAction.kind == "letter")
                .group_by(CaseAction.case_id)
            )
            run._letters.update((case_id, int(count)) for case_id, count in counts.all())
            customer_ids = list({case.customer_id for case in letters})
            run._customers = dict.fromkeys(customer_ids)
            found = await session.scalars(select(KnownCustomer).where(KnownCustomer.id.in_(customer_ids)))
            run._customers.update((row.id, row) for row in found.all())
        contacted = list({case.customer_id for case in letters + visits})
        if contacted:
            run._preferences = dict.fromkeys(contacted)
            found_preferences = await session.scalars(
                select(ContactPreference).where(ContactPreference.customer_id.in_(contacted))
            )
            run._preferences.update((row.customer_id, row) for row in found_preferences.all())
        if visits:
            instants = [contact_instant(event, now) for event in by_stage[Stage.VISIT]]
            visited = list({case.customer_id for case in visits})
            run._recent = {customer_id: [] for customer_id in visited}
            recent = await contacts.recent_contacts(session, visited, min(instants) - WINDOW, max(instants))
            run._recent.update(recent)
        if Stage.AGENCY in by_stage:
            await run.agencies()  # read now: a read in the middle of the run would autoflush its changes row by row
        legal = [e.case_id for stage in (Stage.ARBITRATION, Stage.LITIGATION) for e in by_stage.get(stage, [])]
        if legal:
            run._assignments = {case_id: [] for case_id in legal}
            for assignment in (await session.scalars(_active_assignments().where(CaseAction.case_id.in_(legal)))).all():
                run._assignments[assignment.case_id].append(assignment)
        return run

    def add_action(self, values: dict[str, Any]) -> None:
        self._rows[cast(Table, CaseAction.__table__)].append(values)

    def add_contact(self, values: dict[str, Any]) -> None:
        self._rows[cast(Table, ContactLog.__table__)].append(values)

    def add_history(self, values: dict[str, Any]) -> None:
        self._rows[cast(Table, CaseHistory.__table__)].append(values)

    async def write(self) -> None:
        """Write the run's changes to its cases and invoices set-based (charges, limitation restarts: one UPDATE
        per kind of change; loaded rows by ``_write_loaded``, ORM objects by ``write_changes``), flush the
        session's other changes, then insert the rows recorded as values, one statement per kind."""
        if self._preloaded:
            await _write_loaded(self.session, Case, list(self.cases.values()))
            await _write_loaded(self.session, Invoice, list(self.invoices.values()))
        else:
            await write_changes(self.session, [*self.cases.values(), *self.invoices.values()])
        await self.session.flush()
        for table, rows in self._rows.items():
            await insert_rows(self.session, table, rows)
            rows.clear()

    async def case(self, case_id: uuid.UUID) -> Case | Loaded | None:
        return self.cases.get(case_id) if self._preloaded else await self.session.get(Case, case_id)

    async def invoice(self, invoice_id: uuid.UUID) -> Invoice | Loaded | None:
        return self.invoices.get(invoice_id) if self._preloaded else await self.session.get(Invoice, invoice_id)

    async def letters_sent(self, case_id: uuid.UUID) -> int:
        if case_id not in self._letters:
            self._letters[case_id] = int(
                await self.session.scalar(
                    select(func.count())
                    .select_from(CaseAction)
                    .where(CaseAction.case_id == case_id, CaseAction.kind == "letter")
                )
                or 0
            )
        return self._letters[case_id]

    def letter_recorded(self, case_id: uuid.UUID) -> None:
        if case_id in self._letters:
            self._letters[case_id] += 1

    async def customer(self, customer_id: uuid.UUID) -> KnownCustomer | None:
        if customer_id in self._customers:
            return self._customers[customer_id]
        return await self.session.get(KnownCustomer, customer_id)

    async def contact_decision(
        self, customer_id: uuid.UUID, channel: Channel, at: datetime, settings: CollectionsSettings
    ) -> ContactDecision:
        if customer_id in self._preferences and (channel not in INTRUSIVE or customer_id in self._recent):
            recent = self._recent.get(customer_id, [])
            return contacts.decide(self._preferences[customer_id], channel, at, recent, settings)
        return await contacts.contact_decision(self.session, customer_id, channel, at, settings)

    def contact_logged(self, customer_id: uuid.UUID, channel: Channel, at: datetime) -> None:
        if channel in INTRUSIVE and customer_id in self._recent:
            self._recent[customer_id].append(at)

    async def agencies(self) -> list[DomainAgency]:
        """The register (by name) with each agency's open cases now."""
        if self._agencies is None:
            for details in (
                await self.session.scalars(
                    select(CaseAction.details).where(
                        CaseAction.kind == "agency_assignment", CaseAction.status == "active"
                    )
                )
            ).all():
                self._open[details["agency_id"]] = self._open.get(details["agency_id"], 0) + 1
            self._agencies = list((await self.session.scalars(select(Agency).order_by(Agency.name))).all())
        return [
            DomainAgency(
                agency_id=str(agency.id),
                name=agency.name,
                recovery_rate=Decimal(agency.recovery_rate),
                commission_rate=Decimal(agency.commission_rate),
                min_debt=Decimal(agency.min_debt),
                max_debt=Decimal(agency.max_debt) if agency.max_debt is not None else None,
                max_open_cases=agency.max_open_cases,
                open_cases=self._open.get(str(agency.id), 0),
                report_deadline_days=agency.report_deadline_days,
                active=agency.active,
            )
            for agency in self._agencies
        ]

    def assigned(self, assignment: CaseAction) -> None:
        if self._agencies is not None:  # else the register, once read, counts it
            agency_id = assignment.details["agency_id"]
            self._open[agency_id] = self._open.get(agency_id, 0) + 1
        if assignment.case_id in self._assignments:
            self._assignments[assignment.case_id].append(assignment)

    async def active_assignments(self, case_id: uuid.UUID) -> list[CaseAction]:
        """The case's active agency assignments, which the caller withdraws (``withdrawn``)."""
        if case_id in self._assignments:
            return list(self._assignments[case_id])
        query = _active_assignments().where(CaseAction.case_id == case_id)
        return list((await self.session.scalars(query)).all())

    def withdrawn(self, assignment: CaseAction) -> None:
        if assignment.case_id in self._assignments:
            self._assignments[assignment.case_id].remove(assignment)
        agency_id = assignment.details.get("agency_id")
        if self._agencies is not None and agency_id in self._open:
            self._open[agency_id] -= 1


def _active_assignments() -> Select[CaseAction]:
    return select(CaseAction).where(CaseAction.kind == "agency_assignment", CaseAction.status == "active")
