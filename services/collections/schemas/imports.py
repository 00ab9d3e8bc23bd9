"""Invoice imports: the job resource and its per-line results."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.collections.domain.imports import ImportStatus, LineOutcome


class LineProblem(BaseModel):
    """Why a line was rejected: the field of the invoice (or ``line`` for the line as a whole) and the detail."""

    field: str = Field(examples=["amount"])
    message: str = Field(examples=["Input should be greater than 0"])


class InvoiceImportRead(BaseModel):
    """An invoice import and its progress; ``status`` is final once ``finished_at`` is set."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0f9a3c1e-5b2d-4e6f-8a7b-9c0d1e2f3a4b",
                    "status": "partially_succeeded",
                    "format": "ndjson",
                    "lines_read": 25000,
                    "lines_processed": 25000,
                    "accepted": 24998,
                    "rejected": 2,
                    "attempts": 0,
                    "last_error": None,
                    "last_error_at": None,
                    "next_attempt_at": None,
                    "created_at": "2026-03-01T09:00:00Z",
                    "started_at": "2026-03-01T09:00:01Z",
                    "finished_at": "2026-03-01T09:00:09Z",
                }
            ]
        },
    )

    id: uuid.UUID
    status: ImportStatus = Field(
        description="queued: staged, waiting for a worker; running: being recorded chunk by chunk; succeeded: every "
        "line accepted; partially_succeeded: some lines accepted, some rejected; failed: no line accepted, or "
        "stopped after `import_max_attempts` failed attempts at one chunk (`last_error` says why; the lines not "
        "recorded, `lines_read - lines_processed`, stay `pending`; `POST …/retry` resumes at the first of them)"
    )
    format: Literal["ndjson", "csv"]
    lines_read: int = Field(description="records read from the upload (blank lines and the CSV header aside)")
    lines_processed: int = Field(description="records whose chunk is recorded; equals lines_read once finished")
    accepted: int = Field(description="lines recorded as invoices")
    rejected: int = Field(
        description="lines refused, each with its problems (GET …/lines?outcome=rejected); unreadable lines "
        "count from the upload on, the others as their chunk is recorded"
    )
    attempts: int = Field(
        description="failed attempts at the current chunk (the database or the registry away, a bug — not its "
        "lines, which are rejected one by one); back to 0 once a chunk is recorded"
    )
    last_error: str | None = Field(None, description="why the most recent failed attempt failed (kept afterwards)")
    last_error_at: datetime | None = None
    next_attempt_at: datetime | None = Field(
        None, description="while backing off after a failed attempt: the next attempt is not before this"
    )
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class InvoiceImportLineRead(BaseModel):
    """One line of an import: pending, accepted (with its invoice) or rejected (with its problems)."""

    model_config = ConfigDict(from_attributes=True)

    line: int = Field(description="1-based line number in the upload (a CSV's header is line 1)")
    outcome: LineOutcome
    number: str | None = Field(None, description="the invoice number the line gives, when readable")
    invoice_id: uuid.UUID | None = None
    problems: list[LineProblem] = Field(default_factory=list)
