"""Reading an import upload as a stream: physical lines within a length limit, then NDJSON or CSV records.

Nothing here holds more than one line (at most ``max_line_bytes``) and one network chunk in memory. A
problem with one line (too long, not UTF-8, not JSON, a CSV row with the wrong number of cells) makes
that line a rejected record; a problem with the upload as a whole (binary content, a bad CSV header)
raises and the upload is refused.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.errors import BadRequest, DomainRuleViolation, RequestTimeout

# Git's rule for "binary": a NUL byte in the first 8,000 bytes. UTF-16 and compressed uploads trip it.
_SNIFF_BYTES = 8_000
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class Record:
    """One line of the upload: its content as a JSON object text, or the problems that make it unreadable."""

    line: int
    content: str | None
    number: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class PhysicalLine:
    line: int
    raw: bytes
    too_long: bool = False


class HashingStream:
    """The body's chunks, hashed as they pass (the Idempotency-Key compares bodies by their sha256).

    A client that sends nothing for ``idle_seconds`` is refused (408): a streamed upload is not under the
    edge's whole-body time limit, and it holds its transaction open while it lasts.
    """

    def __init__(self, chunks: AsyncIterator[bytes], idle_seconds: float) -> None:
        self.chunks = chunks
        self.idle_seconds = idle_seconds
        self.sha256 = hashlib.sha256()
        self.size = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                chunk = await asyncio.wait_for(anext(self.chunks), self.idle_seconds)
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                raise RequestTimeout(
                    f"the upload stalled: nothing arrived for {self.idle_seconds:g} s; nothing was imported",
                    headers={"Connection": "close"},
                ) from exc
            if self.size < _SNIFF_BYTES and b"\x00" in chunk[: _SNIFF_BYTES - self.size]:
                raise BadRequest(
                    "the body is not text (a NUL byte near its start); send UTF-8 NDJSON or CSV, uncompressed",
                    errors=[{"field": "body", "message": "not text"}],
                )
            self.sha256.update(chunk)
            self.size += len(chunk)
            yield chunk


async def physical_lines(chunks: AsyncIterator[bytes], max_line_bytes: int) -> AsyncIterator[PhysicalLine]:
    """Lines split on LF (a trailing CR dropped); a line over ``max_line_bytes`` comes back empty, too_long."""
    pending = bytearray()
    number = 1
    too_long = False
    first = True
    async for chunk in chunks:
        if first and chunk:
            chunk = chunk.removeprefix(_BOM)
            first = False
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if not too_long:
                pending += chunk[start:end]
            yield _line(number, pending, too_long, max_line_bytes)
            pending.clear()
            too_long = False
            number += 1
            start = end + 1
        if not too_long:
            pending += chunk[start:]
            if len(pending) > max_line_bytes + 1:
                too_long = True
                pending.clear()  # the rest of this line is skipped, not held
    if pending or too_long:
        yield _line(number, pending, too_long, max_line_bytes)


def _line(number: int, pending: bytearray, too_long: bool, max_line_bytes: int) -> PhysicalLine:
    if too_long:
        return PhysicalLine(number, b"", too_long=True)
    raw = bytes(pending)
    raw = raw[:-1] if raw.endswith(b"\r") else raw
    if len(raw) > max_line_bytes:
        return PhysicalLine(number, b"", too_long=True)
    return PhysicalLine(number, raw)


def _text(line: PhysicalLine, max_line_bytes: int) -> tuple[str | None, list[dict[str, str]]]:
    """The line as text, or why it is unreadable."""
    if line.too_long:
        return None, [{"field": "line", "message": f"longer than {max_line_bytes} bytes"}]
    try:
        text = line.raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [{"field": "line", "message": f"not UTF-8 text (byte {exc.start + 1})"}]
    if "\x00" in text:
        return None, [{"field": "line", "message": "contains a NUL character"}]
    return text, []


def ndjson_record(line: PhysicalLine, max_line_bytes: int) -> Record | None:
    """One NDJSON line as a record (None for a blank line)."""
    text, problems = _text(line, max_line_bytes)
    if text is None:
        return Record(line.line, None, problems=problems)
    if not text.strip():
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return Record(line.line, None, problems=[{"field": "line", "message": f"not valid JSON: {exc}"[:300]}])
    if not isinstance(document, dict):
        return Record(line.line, None, problems=[{"field": "line", "message": "not a JSON object"}])
    if _has_nul(document):
        return Record(line.line, None, problems=[{"field": "line", "message": "contains a NUL character"}])
    number = document.get("number")
    return Record(line.line, text, number=number[:100] if isinstance(number, str) else None)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def csv_header(line: PhysicalLine, max_line_bytes: int, columns: Iterable[str], required: Iterable[str]) -> list[str]:
    """The header row's column names, checked against the invoice fields; a bad header refuses the upload."""
    text, problems = _text(line, max_line_bytes)
    if text is None:
        raise DomainRuleViolation(
            "the CSV header row is unreadable; nothing was imported",
            errors=[{"field": "body.header", "message": problems[0]["message"]}],
        )
    try:
        names = [name.strip() for name in next(csv.reader([text], strict=True))]
    except (csv.Error, StopIteration) as exc:
        raise DomainRuleViolation(
            "the CSV header row is malformed; nothing was imported",
            errors=[{"field": "body.header", "message": str(exc) or "empty"}],
        ) from exc
    known = set(columns)
    errors = [{"field": "body.header", "message": f"unknown column {name!r}"} for name in names if name not in known]
    errors += [
        {"field": "body.header", "message": f"missing column {name!r}"} for name in required if name not in names
    ]
    errors += [
        {"field": "body.header", "message": f"column {name!r} twice"} for name in set(names) if names.count(name) > 1
    ]
    if errors:
        raise DomainRuleViolation(
            "the CSV header row does not name the invoice fields; nothing was imported", errors=errors
        )
    return names


def csv_record(line: PhysicalLine, max_line_bytes: int, header: list[str]) -> Record | None:
    """One CSV row as a record (a JSON object of its non-empty cells; None for a blank line)."""
    text, problems = _text(line, max_line_bytes)
    if text is None:
        return Record(line.line, None, problems=problems)
    if not text.strip():
        return None
    try:
        cells = next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as exc:
        return Record(line.line, None, problems=[{"field": "line", "message": f"malformed CSV: {exc}"[:300]}])
    if len(cells) != len(header):
        return Record(
            line.line,
            None,
            problems=[{"field": "line", "message": f"{len(cells)} cells where the header names {len(header)}"}],
        )
    # An empty cell is an absent value: an optional field takes its default, a required one is reported.
    document = {name: cell.strip() for name, cell in zip(header, cells, strict=True) if cell.strip()}
    number = document.get("number")
    return Record(line.line, json.dumps(document), number=number[:100] if number else None)
