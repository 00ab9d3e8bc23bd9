"""Receiving an upload: the stream spooled (memory up to 8 MiB, then a temporary file), then read line by
line into the import's lines in the request's transaction.

Spooling first keeps the database out of the upload's network time: the transaction (on SQLite, the
write lock) lasts as long as staging from local bytes, not as long as a slow client. The request answers
once every line is staged (202, the job queued); the worker records them. Nothing is written when the
upload is refused (empty, too many lines, a bad CSV header, not text, stalled): the transaction rolls back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import IO, Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.imports import ImportStatus, LineOutcome
from services.collections.imports import reader, repository
from services.collections.models import InvoiceImport
from services.collections.schemas.invoices import InvoiceCreate
from services.collections.settings import CollectionsSettings
from shared.errors import ContentTooLarge, DomainRuleViolation, UnsupportedMediaType

ImportFormat = Literal["ndjson", "csv"]
MEDIA_TYPES: dict[str, ImportFormat] = {"application/x-ndjson": "ndjson", "text/csv": "csv"}
_STAGE_BATCH = 2_000
SPOOL_IN_MEMORY = 8 * 1024 * 1024
_READ_BYTES = 256 * 1024
# The CSV columns are the fields of one bulk item; the required ones are its required fields.
CSV_COLUMNS = tuple(InvoiceCreate.model_fields)
CSV_REQUIRED = tuple(name for name, spec in InvoiceCreate.model_fields.items() if spec.is_required())


def import_format(content_type: str | None) -> ImportFormat:
    """The upload's format from its Content-Type (UTF-8 only); 415 for anything else."""
    media_type, *parameters = [part.strip().lower() for part in (content_type or "").split(";")]
    charset = next((p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")), "utf-8")
    if media_type not in MEDIA_TYPES or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            f"send application/x-ndjson or text/csv in UTF-8, not {content_type or 'no Content-Type'}",
            errors=[{"field": "header.Content-Type", "message": "unsupported media type"}],
        )
    return MEDIA_TYPES[media_type]


def _too_many_lines(settings: CollectionsSettings) -> ContentTooLarge:
    return ContentTooLarge(
        f"at most {settings.import_max_lines} lines per import; nothing was imported",
        errors=[{"field": "body", "message": "too many lines"}],
    )


async def spool(chunks: AsyncIterator[bytes], into: IO[bytes], settings: CollectionsSettings) -> None:
    """The whole body into ``into`` (rewound), refused with 413 as soon as it has too many lines or bytes."""
    lines = size = 0
    async for chunk in chunks:
        lines += chunk.count(b"\n")
        size += len(chunk)
        if lines > settings.import_max_lines:
            raise _too_many_lines(settings)
        if size > settings.import_max_bytes:
            raise ContentTooLarge(
                f"an import upload is limited to {settings.import_max_bytes} bytes; nothing was imported",
                errors=[{"field": "body", "message": "too large"}],
            )
        into.write(chunk)
    into.seek(0)


async def spooled(source: IO[bytes]) -> AsyncIterator[bytes]:
    """The spooled body again, in pieces."""
    while chunk := source.read(_READ_BYTES):
        yield chunk


async def stage_upload(
    session: AsyncSession,
    chunks: AsyncIterator[bytes],
    fmt: ImportFormat,
    settings: CollectionsSettings,
    now: datetime,
    created_by: str,
) -> InvoiceImport:
    """A queued import with every record of the upload staged (unreadable ones already rejected)."""
    job = InvoiceImport(
        id=uuid.uuid4(),
        status=ImportStatus.QUEUED.value,
        format=fmt,
        lines_read=0,
        lines_processed=0,
        accepted=0,
        rejected=0,
        processed_through=0,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    await session.flush()
    batch: list[dict[str, Any]] = []
    read = rejected = 0
    async for record in _records(chunks, fmt, settings.import_max_line_bytes):
        read += 1
        if read > settings.import_max_lines:
            raise _too_many_lines(settings)
        rejected += bool(record.problems)
        batch.append(
            {
                "import_id": job.id,
                "line": record.line,
                "content": record.content,
                "outcome": (LineOutcome.REJECTED if record.problems else LineOutcome.PENDING).value,
                "invoice_id": None,
                "number": record.number,
                "problems": record.problems or None,
            }
        )
        if len(batch) >= _STAGE_BATCH:
            await repository.stage_lines(session, batch)
            batch = []
    await repository.stage_lines(session, batch)
    if read == 0:
        raise DomainRuleViolation(
            "the upload holds no invoice lines; nothing was imported",
            errors=[{"field": "body", "message": "empty"}],
        )
    job.lines_read, job.rejected = read, rejected
    return job


async def _records(
    chunks: AsyncIterator[bytes], fmt: ImportFormat, max_line_bytes: int
) -> AsyncIterator[reader.Record]:
    header: list[str] | None = None
    async for line in reader.physical_lines(chunks, max_line_bytes):
        if fmt == "ndjson":
            record = reader.ndjson_record(line, max_line_bytes)
        elif header is None:
            if not line.too_long and not line.raw.strip():
                continue
            header = reader.csv_header(line, max_line_bytes, CSV_COLUMNS, CSV_REQUIRED)
            continue
        else:
            record = reader.csv_record(line, max_line_bytes, header)
        if record is not None:
            yield record
