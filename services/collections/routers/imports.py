"""Invoice imports: a billing run uploaded as NDJSON or CSV, recorded in chunks, with per-line results."""

from __future__ import annotations

import json
import tempfile
import uuid
from typing import Annotated, Any

from fastapi import Header, Query, Request, Response

from services.collections.domain.imports import ImportStatus, LineOutcome
from services.collections.imports import repository
from services.collections.imports.reader import HashingStream
from services.collections.imports.upload import (
    CSV_COLUMNS,
    CSV_REQUIRED,
    SPOOL_IN_MEMORY,
    import_format,
    spool,
    spooled,
    stage_upload,
)
from services.collections.routers.common import Cursor, Limit, Reader, Writer, settings_of
from services.collections.schemas.imports import InvoiceImportLineRead, InvoiceImportRead
from services.collections.schemas.invoices import InvoiceCreate
from shared.app import ClockDep, RuntimeDep, Session
from shared.edge import STREAMED_BODY
from shared.errors import BadRequest
from shared.http import Page, decode_cursor, encode_cursor, keyset_position, next_keyset_cursor, streamed_idempotency
from shared.openapi import api_router

router = api_router(tags=["collections"])

_CSV_EXAMPLE = (
    ",".join(CSV_COLUMNS) + "\n7b0c2a4e-3f51-4c1e-9d3b-0d6a3c1f2e10,INV-2026-0001,2026-01-01,,CNY,60000.00,\n"
)
_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "description": "One invoice a line, each the same object as one item of `POST /v1/invoices/bulk`. "
    "NDJSON: one JSON object a line. CSV: a header row naming the columns "
    f"({', '.join(CSV_COLUMNS)}; required: {', '.join(CSV_REQUIRED)}), then one row an invoice; an empty "
    "cell is an absent value; quoted cells may hold commas and quotes but not line breaks. UTF-8, LF or "
    "CRLF line ends, blank lines skipped.",
    "content": {
        "application/x-ndjson": {
            "schema": {"type": "string"},
            "example": "".join(json.dumps(item) + "\n" for item in InvoiceCreate.model_json_schema()["examples"] * 2),
        },
        "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
    },
}
_UPLOAD_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not text (binary, compressed or UTF-16)"},
    408: {"description": "The upload stalled (nothing for `http_body_timeout_seconds`); nothing was imported"},
    413: {"description": "More lines than `import_max_lines` or bytes than `import_max_bytes`; nothing was imported"},
    415: {"description": "Content-Type is neither application/x-ndjson nor text/csv (UTF-8)"},
    422: {
        "description": "An empty upload, a CSV header that does not name the invoice fields, or an Idempotency-Key "
        "reused with another body; nothing was imported"
    },
}


@router.post(
    "/invoice-imports",
    status_code=202,
    response_model=InvoiceImportRead,
    summary="Import a billing run (NDJSON or CSV upload, recorded in the background)",
    responses={202: {"headers": {"Location": {"schema": {"type": "string"}}}}, **_UPLOAD_PROBLEMS},
    openapi_extra={"requestBody": _UPLOAD_BODY, STREAMED_BODY: True},
)
async def create_invoice_import(
    request: Request,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    principal: Writer,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Retry-safe upload: the same key and body return the first response (the same job)",
        ),
    ] = None,
) -> Response:
    """For billing runs larger than one bulk request. The body is read as a stream (spooled to a temporary
    file past 8 MiB, so the database waits for no client), then staged line by line; the answer is `202`
    with the job (`Location: /v1/invoice-imports/{id}`), `queued`. A worker of the service then records
    the lines in chunks (`import_chunk_lines`) through the same path as
    `POST /v1/invoices/bulk` — same validation, same events (`invoice_issued` per invoice,
    `receivables_changed` per customer and chunk) — each chunk one transaction with its lines' results.

    Per-line results: a bad line (unreadable, invalid, unknown customer, a number already recorded or
    repeated earlier in the upload) is rejected with its problems and never stops the others — the good
    lines of the same chunk are recorded. A re-upload of the same numbers therefore records nothing
    twice: its lines are rejected as duplicate numbers. With an `Idempotency-Key`, a retried upload of the
    same bytes answers the first job instead of creating a second one.

    Resumable: the job is claimed with a lease; if the replica processing it stops, another one resumes
    at the first chunk not yet committed (`import_lease_seconds` later)."""
    fmt = import_format(request.headers.get("content-type"))
    settings = settings_of(runtime)
    now = clock.now()
    idempotency = streamed_idempotency(request, idempotency_key)
    stream = HashingStream(request.stream(), settings.http_body_timeout_seconds)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as body:
        await spool(stream.__aiter__(), body, settings)
        idempotency.request_hash = stream.sha256.hexdigest()
        if (replayed := await idempotency.replay(session, now)) is not None:
            return replayed  # the same key and bytes: the first upload's job answers
        job = await stage_upload(session, spooled(body), fmt, settings, now, principal.subject)
    read = InvoiceImportRead.model_validate(job)
    return await idempotency.run(
        session, now, lambda: _ready(read), status_code=202, location=lambda _read: f"/v1/invoice-imports/{job.id}"
    )


async def _ready(read: InvoiceImportRead) -> InvoiceImportRead:
    return read


@router.get("/invoice-imports", response_model=Page[InvoiceImportRead], summary="List invoice imports")
async def list_invoice_imports(
    session: Session,
    _principal: Reader,
    status: ImportStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[InvoiceImportRead]:
    """Imports newest first, optionally of one status."""
    rows = list(
        await repository.list_imports(
            session, limit=limit + 1, after=keyset_position(cursor), status=status.value if status else None
        )
    )
    return Page[InvoiceImportRead](
        items=[InvoiceImportRead.model_validate(row) for row in rows[:limit]],
        next_cursor=next_keyset_cursor(rows, limit),
    )


@router.get("/invoice-imports/{import_id}", response_model=InvoiceImportRead, summary="Get an invoice import")
async def get_invoice_import(import_id: uuid.UUID, session: Session, _principal: Reader) -> InvoiceImportRead:
    """The job and its progress: lines read, processed, accepted and rejected; final once `finished_at` is set."""
    return InvoiceImportRead.model_validate(await repository.get_import(session, import_id))


@router.post(
    "/invoice-imports/{import_id}/retry",
    status_code=202,
    response_model=InvoiceImportRead,
    summary="Retry a failed invoice import",
    responses={409: {"description": "The import is not failed, or every line of it is recorded"}},
)
async def retry_invoice_import(
    import_id: uuid.UUID, session: Session, clock: ClockDep, _principal: Writer
) -> InvoiceImportRead:
    """Queue again an import that ended `failed` because one of its chunks failed at every attempt (see
    `last_error`): a worker resumes at its first unrecorded chunk, with a fresh count of attempts. The lines
    already recorded stay as they are (each chunk is one transaction), so nothing is recorded twice."""
    return InvoiceImportRead.model_validate(await repository.retry_failed_import(session, import_id, clock.now()))


@router.get(
    "/invoice-imports/{import_id}/lines",
    response_model=Page[InvoiceImportLineRead],
    summary="Per-line results of an invoice import",
)
async def list_invoice_import_lines(
    import_id: uuid.UUID,
    session: Session,
    _principal: Reader,
    outcome: Annotated[LineOutcome | None, Query(description="only lines of this outcome")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> Page[InvoiceImportLineRead]:
    """Lines in upload order with their outcome: the invoice recorded, or the problems (field and detail)."""
    await repository.get_import(session, import_id)
    after = decode_cursor(cursor)
    after_line = after.get("line") if after is not None else 0
    if not isinstance(after_line, int):
        raise BadRequest(
            "the cursor is not one this API issued", errors=[{"field": "query.cursor", "message": "invalid cursor"}]
        )
    rows = list(
        await repository.list_lines(
            session, import_id, limit=limit + 1, after_line=after_line, outcome=outcome.value if outcome else None
        )
    )
    return Page[InvoiceImportLineRead](
        items=[
            InvoiceImportLineRead(
                line=row.line,
                outcome=row.outcome,
                number=row.number,
                invoice_id=row.invoice_id,
                problems=row.problems or [],
            )
            for row in rows[:limit]
        ],
        next_cursor=encode_cursor({"line": rows[limit - 1].line}) if len(rows) > limit else None,
    )
