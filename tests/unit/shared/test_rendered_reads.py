"""shared.http.RenderedReads: a kept answer is given only for the same record, source and rendering."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from shared.http import RenderedReads, read_response


class _Read(BaseModel):
    amount: Decimal


def test_the_kept_answer_is_given_again_for_the_same_source() -> None:
    rendered = RenderedReads()
    source = (date(2026, 3, 1), "id-1", Decimal("10.00"), {"CNY": "10.00"}, ["reason"])
    kept = rendered.keep("id-1", source, read_response(_Read(amount=Decimal("10.00")), version=3))
    again = rendered.answer("id-1", (date(2026, 3, 1), "id-1", Decimal("10.00"), {"CNY": "10.00"}, ["reason"]))
    assert again is not None and again is not kept
    assert again.body == kept.body and again.raw_headers == kept.raw_headers  # ETag, length and type included


def test_another_record_day_value_or_exponent_is_rendered_anew() -> None:
    rendered = RenderedReads()
    source = (date(2026, 3, 1), Decimal("10.00"))
    rendered.keep("id-1", source, read_response(_Read(amount=Decimal("10.00"))))
    assert rendered.answer("id-2", source) is None
    assert rendered.answer("id-1", (date(2026, 3, 2), Decimal("10.00"))) is None
    assert rendered.answer("id-1", (date(2026, 3, 1), Decimal("10.01"))) is None
    assert rendered.answer("id-1", (date(2026, 3, 1), Decimal("10.0"))) is None  # equal, but renders "10.0"
    answer = rendered.answer("id-1", source)
    assert answer is not None and answer.headers.get("etag") is None


def test_at_most_size_records_are_kept() -> None:
    rendered = RenderedReads(size=2)
    for key in ("a", "b", "c"):
        rendered.keep(key, (key,), read_response(_Read(amount=Decimal(1))))
    assert rendered.answer("c", ("c",)) is not None
    assert sum(rendered.answer(key, (key,)) is not None for key in ("a", "b", "c")) <= 2


def test_an_equal_value_of_another_type_is_rendered_anew() -> None:
    rendered = RenderedReads()
    source = (date(2026, 3, 1), Decimal("1"), 2)
    rendered.keep("id-1", source, read_response(_Read(amount=Decimal("1"))))
    assert rendered.answer("id-1", (date(2026, 3, 1), 1, 2)) is None  # 1 == Decimal("1"), rendered otherwise
    assert rendered.answer("id-1", (date(2026, 3, 1), Decimal("1"), 2.0)) is None
    assert rendered.answer("id-1", (date(2026, 3, 1), Decimal("1"), 2)) is not None


def test_the_kept_answer_is_sent_as_the_first_was() -> None:
    rendered = RenderedReads()
    source = (date(2026, 3, 1), Decimal("10.00"))
    first = read_response(_Read(amount=Decimal("10.00")), version=7)
    rendered.keep("id-1", source, first)
    again = rendered.answer("id-1", source)
    assert again is not None
    assert (again.status_code, again.body, again.raw_headers, again.background) == (
        first.status_code,
        first.body,
        first.raw_headers,
        None,
    )
    assert again.raw_headers is not rendered.answer("id-1", source).raw_headers  # type: ignore[union-attr]
