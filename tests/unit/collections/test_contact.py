"""Contact discipline: consent, weekly cap and quiet hours, at their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.collections.domain.contact import (
    INTRUSIVE,
    Channel,
    ContactPreferences,
    ContactRules,
    Verdict,
    check_contact,
    in_quiet_hours,
)
from shared.errors import DomainRuleViolation

RULES = ContactRules(weekly_cap=3, quiet_start=time(21), quiet_end=time(8))
SHANGHAI = ContactPreferences()  # UTC+8


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# 2026-03-02 01:00 UTC = 09:00 in Shanghai (a weekday morning)
NOON_SH = utc("2026-03-02T04:00:00")

CAP_CASES = [
    pytest.param([], Verdict.ALLOWED, None, id="no-contacts"),
    pytest.param(["2026-03-01T04:00:00", "2026-02-28T04:00:00"], Verdict.ALLOWED, None, id="two-below-cap"),
    pytest.param(
        ["2026-03-01T04:00:00", "2026-02-28T04:00:00", "2026-02-27T04:00:00"],
        Verdict.DEFERRED,
        "2026-03-06T04:00:00",
        id="at-cap-frees-when-oldest-is-7-days-old",
    ),
    pytest.param(
        ["2026-03-01T04:00:00", "2026-02-28T04:00:00", "2026-02-23T04:00:00"],
        Verdict.ALLOWED,
        None,
        id="oldest-exactly-7-days-ago-is-out-of-window",
    ),
    pytest.param(
        ["2026-03-01T04:00:00", "2026-02-28T04:00:00", "2026-02-23T04:00:01"],
        Verdict.DEFERRED,
        "2026-03-02T04:00:01",
        id="oldest-one-second-inside-window",
    ),
    pytest.param(["2026-03-02T03:00:00"] * 4, Verdict.DEFERRED, "2026-03-09T03:00:00", id="over-cap"),
    # frees at 2026-03-06 14:00 UTC = 22:00 Shanghai, in quiet hours: pushed to 08:00 next morning
    pytest.param(
        ["2026-03-01T04:00:00", "2026-02-28T04:00:00", "2026-02-27T14:00:00"],
        Verdict.DEFERRED,
        "2026-03-07T00:00:00",
        id="cap-then-quiet-hours",
    ),
]


@pytest.mark.parametrize(("recent", "verdict", "earliest"), CAP_CASES)
def test_weekly_cap(recent: list[str], verdict: Verdict, earliest: str | None) -> None:
    decision = check_contact(Channel.VISIT, NOON_SH, SHANGHAI, [utc(r) for r in recent], RULES)
    assert decision.verdict is verdict
    assert decision.earliest_at == (utc(earliest) if earliest else None)
    if verdict is Verdict.DEFERRED:
        assert "weekly contact cap" in decision.reason


QUIET_CASES = [
    pytest.param("2026-03-02T12:59:59", Verdict.ALLOWED, None, id="20:59:59-local"),
    pytest.param("2026-03-02T13:00:00", Verdict.DEFERRED, "2026-03-03T00:00:00", id="21:00-local-starts"),
    pytest.param("2026-03-02T15:59:00", Verdict.DEFERRED, "2026-03-03T00:00:00", id="23:59-local"),
    pytest.param("2026-03-02T16:00:00", Verdict.DEFERRED, "2026-03-03T00:00:00", id="midnight-local"),
    pytest.param("2026-03-02T23:59:59", Verdict.DEFERRED, "2026-03-03T00:00:00", id="07:59:59-local"),
    pytest.param("2026-03-03T00:00:00", Verdict.ALLOWED, None, id="08:00-local-ends"),
]


@pytest.mark.parametrize(("at", "verdict", "earliest"), QUIET_CASES)
def test_quiet_hours_in_customer_time_zone(at: str, verdict: Verdict, earliest: str | None) -> None:
    decision = check_contact(Channel.PHONE, utc(at), SHANGHAI, [], RULES)
    assert decision.verdict is verdict
    assert decision.earliest_at == (utc(earliest) if earliest else None)
    if verdict is Verdict.DEFERRED:
        assert "quiet hours" in decision.reason


def test_quiet_hours_follow_the_time_zone() -> None:
    # 13:00 UTC is 21:00 in Shanghai but 14:00 in London
    assert check_contact(
        Channel.SMS, utc("2026-03-02T13:00:00"), ContactPreferences(time_zone="Europe/London"), [], RULES
    ).allowed
    assert not check_contact(Channel.SMS, utc("2026-03-02T13:00:00"), SHANGHAI, [], RULES).allowed


def test_non_wrapping_and_empty_quiet_windows() -> None:
    lunch = ContactRules(quiet_start=time(12), quiet_end=time(14))
    assert in_quiet_hours(time(12), lunch) and in_quiet_hours(time(13, 59), lunch)
    assert not in_quiet_hours(time(14), lunch) and not in_quiet_hours(time(11, 59), lunch)
    assert not in_quiet_hours(time(3), ContactRules(quiet_start=time(0), quiet_end=time(0)))


CONSENT_CASES = [
    pytest.param(Channel.EMAIL, {"email": False}, False, Verdict.REFUSED, id="email-withdrawn"),
    pytest.param(Channel.SMS, {"sms": False}, False, Verdict.REFUSED, id="sms-withdrawn"),
    pytest.param(Channel.PHONE, {"phone": False}, False, Verdict.REFUSED, id="phone-withdrawn"),
    pytest.param(Channel.EMAIL, {"sms": False}, False, Verdict.ALLOWED, id="other-channel-withdrawn"),
    pytest.param(Channel.EMAIL, {"email": True}, False, Verdict.ALLOWED, id="email-consented"),
    pytest.param(Channel.LETTER, {"letter": False}, False, Verdict.ALLOWED, id="post-cannot-be-refused"),
    pytest.param(Channel.VISIT, {"visit": False}, False, Verdict.ALLOWED, id="visit-cannot-be-refused"),
    pytest.param(Channel.EMAIL, {"email": False}, True, Verdict.ALLOWED, id="legally-required-notice"),
]


@pytest.mark.parametrize(("channel", "consent", "legal", "verdict"), CONSENT_CASES)
def test_consent(channel: Channel, consent: dict[str, bool], legal: bool, verdict: Verdict) -> None:
    decision = check_contact(channel, NOON_SH, ContactPreferences(consent=consent), [], RULES, legally_required=legal)
    assert decision.verdict is verdict
    if verdict is Verdict.REFUSED:
        assert decision.earliest_at is None and "consent" in decision.reason


def test_legally_required_notice_ignores_cap_but_not_quiet_hours() -> None:
    recent = [NOON_SH - timedelta(hours=1)] * 5
    assert check_contact(Channel.PHONE, NOON_SH, SHANGHAI, recent, RULES, legally_required=True).allowed
    night = utc("2026-03-02T15:00:00")
    assert check_contact(Channel.PHONE, night, SHANGHAI, [], RULES, legally_required=True).verdict is Verdict.DEFERRED


NIGHT_SH = utc("2026-03-02T15:00:00")  # 23:00 in Shanghai
FULL_WEEK = [NOON_SH - timedelta(hours=hours) for hours in (1, 2, 3, 4)]  # over the cap of 3


@pytest.mark.parametrize(
    ("channel", "at", "recent", "verdict"),
    [
        pytest.param(Channel.LETTER, NIGHT_SH, [], Verdict.ALLOWED, id="letter-at-night"),
        pytest.param(Channel.EMAIL, NIGHT_SH, [], Verdict.ALLOWED, id="email-at-night"),
        pytest.param(Channel.LETTER, NOON_SH, FULL_WEEK, Verdict.ALLOWED, id="letter-over-cap"),
        pytest.param(Channel.EMAIL, NOON_SH, FULL_WEEK, Verdict.ALLOWED, id="email-over-cap"),
        pytest.param(Channel.PHONE, NIGHT_SH, [], Verdict.DEFERRED, id="call-at-night"),
        pytest.param(Channel.SMS, NIGHT_SH, [], Verdict.DEFERRED, id="sms-at-night"),
        pytest.param(Channel.VISIT, NIGHT_SH, [], Verdict.DEFERRED, id="visit-at-night"),
        pytest.param(Channel.PHONE, NOON_SH, FULL_WEEK, Verdict.DEFERRED, id="call-over-cap"),
        pytest.param(Channel.SMS, NOON_SH, FULL_WEEK, Verdict.DEFERRED, id="sms-over-cap"),
        pytest.param(Channel.VISIT, NOON_SH, FULL_WEEK, Verdict.DEFERRED, id="visit-over-cap"),
    ],
)
def test_quiet_hours_and_cap_govern_calls_sms_and_visits_only(
    channel: Channel, at: datetime, recent: list[datetime], verdict: Verdict
) -> None:
    decision = check_contact(channel, at, SHANGHAI, recent, RULES)
    assert decision.verdict is verdict
    assert (channel in INTRUSIVE) is (verdict is Verdict.DEFERRED)


def test_bad_inputs() -> None:
    with pytest.raises(DomainRuleViolation):
        check_contact(Channel.LETTER, NOON_SH, ContactPreferences(time_zone="Mars/Olympus"), [], RULES)
    with pytest.raises(DomainRuleViolation):
        ContactRules(weekly_cap=0)
    with pytest.raises(ValueError):
        check_contact(Channel.LETTER, datetime(2026, 3, 2, 12), SHANGHAI, [], RULES)
