"""The import reader, table-driven: lines split across network reads, over-long lines skipped without being
held, NDJSON and CSV records, a binary body refused; and the status a finished import ends in."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from services.collections.domain.imports import ImportStatus, finished_status
from services.collections.imports import reader
from shared.errors import BadRequest, DomainRuleViolation, RequestTimeout

MAX = 64


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _lines(*parts: bytes) -> list[tuple[int, bytes, bool]]:
    return [(line.line, line.raw, line.too_long) async for line in reader.physical_lines(_chunks(*parts), MAX)]


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((b"a\nb\n",), [(1, b"a", False), (2, b"b", False)]),
        ((b"a", b"b\r", b"\nc"), [(1, b"ab", False), (2, b"c", False)]),  # CRLF split across reads, no final LF
        ((b"\xef\xbb\xbfa\n",), [(1, b"a", False)]),  # a UTF-8 BOM is not content
        ((b"x" * 40, b"x" * 40, b"x" * 40, b"\nok\n"), [(1, b"", True), (2, b"ok", False)]),
        ((b"x" * 65 + b"\nok",), [(1, b"", True), (2, b"ok", False)]),
        ((b"x" * 64 + b"\r\n",), [(1, b"x" * 64, False)]),  # exactly the limit, CR aside
        ((b"\n\n",), [(1, b"", False), (2, b"", False)]),
    ],
)
async def test_physical_lines(parts: tuple[bytes, ...], expected: list[tuple[int, bytes, bool]]) -> None:
    assert await _lines(*parts) == expected


@pytest.mark.parametrize(
    ("raw", "content", "problem"),
    [
        (b'{"number": "A-1"}', '{"number": "A-1"}', None),
        (b"   ", None, "blank"),
        (b"[1]", None, "not a JSON object"),
        (b"{", None, "not valid JSON"),
        (b'{"number": "\\u0000"}', None, "contains a NUL character"),
        (b'{"n": "\xff"}', None, "not UTF-8 text"),
        (b"[" * 10_000 + b"]" * 10_000, None, "not valid JSON"),
    ],
)
def test_ndjson_records(raw: bytes, content: str | None, problem: str | None) -> None:
    record = reader.ndjson_record(reader.PhysicalLine(7, raw), 100_000)
    if problem == "blank":
        assert record is None
        return
    assert record is not None and record.line == 7 and record.content == content
    if problem is None:
        assert record.problems == [] and record.number == "A-1"
    else:
        assert record.problems[0]["field"] == "line" and record.problems[0]["message"].startswith(problem)


def test_csv_header_names_the_invoice_fields() -> None:
    line = reader.PhysicalLine(1, b" number ,amount,customer_id")
    assert reader.csv_header(line, MAX, ("customer_id", "number", "amount", "due_date"), ("number",)) == [
        "number",
        "amount",
        "customer_id",
    ]
    with pytest.raises(DomainRuleViolation) as refused:
        reader.csv_header(reader.PhysicalLine(1, b"amount,amount,colour"), MAX, ("amount", "number"), ("number",))
    assert sorted(error["message"] for error in refused.value.errors) == [
        "column 'amount' twice",
        "missing column 'number'",
        "unknown column 'colour'",
    ]


@pytest.mark.parametrize(
    ("raw", "document", "problem"),
    [
        (b'A-1,"1,000.00",', {"number": "A-1", "amount": "1,000.00"}, None),
        (b'"A ""quoted""",5,n/30', {"number": 'A "quoted"', "amount": "5", "credit_terms": "n/30"}, None),
        (b"A-1,5", None, "2 cells where the header names 3"),
        (b'"A-1,5,', None, "malformed CSV"),
    ],
)
def test_csv_records(raw: bytes, document: dict[str, str] | None, problem: str | None) -> None:
    record = reader.csv_record(reader.PhysicalLine(3, raw), MAX, ["number", "amount", "credit_terms"])
    assert record is not None
    if document is not None:
        assert record.content is not None and json.loads(record.content) == document and not record.problems
    else:
        assert record.content is None and record.problems[0]["message"].startswith(str(problem))


async def test_a_nul_byte_near_the_start_is_not_text() -> None:
    stream = reader.HashingStream(_chunks(b'{"a": 1}\n', b"\x00\x01"), 5)
    with pytest.raises(BadRequest):
        [chunk async for chunk in stream]
    late = reader.HashingStream(_chunks(b"x" * 8_000, b"\x00"), 5)
    assert len(b"".join([chunk async for chunk in late])) == 8_001  # past the sniffed start: a per-line matter


async def test_an_upload_that_stalls_is_refused() -> None:
    async def stalled() -> AsyncIterator[bytes]:
        yield b"{}\n"
        await asyncio.sleep(10)
        yield b"{}\n"

    with pytest.raises(RequestTimeout):
        [chunk async for chunk in reader.HashingStream(stalled(), 0.05)]


@pytest.mark.parametrize(
    ("accepted", "rejected", "status"),
    [
        (10, 0, ImportStatus.SUCCEEDED),
        (9, 1, ImportStatus.PARTIALLY_SUCCEEDED),
        (0, 10, ImportStatus.FAILED),
    ],
)
def test_finished_status(accepted: int, rejected: int, status: ImportStatus) -> None:
    assert finished_status(accepted, rejected) is status and status.finished
