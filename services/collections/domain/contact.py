"""Contact discipline: may the customer be contacted on this channel at this time?

Three rules, checked in this order (product.md section 5, "contact discipline"):

1. **Consent.** A customer may withdraw consent for the electronic and telephone channels (email, SMS,
   phone). Letters by post and visits cannot be refused this way, and a *legally required* notice (a final
   demand before filing, a statutory notice) is always allowed on any channel. A refused channel has no
   earliest time: it stays refused until the customer consents again.
2. **Weekly cap.** At most ``weekly_cap`` calls, SMS and visits in any rolling 7 days (168 hours): with the
   cap reached, the next one is allowed once the oldest in the window is 7 days old. Legally required
   notices are not stopped by the cap (once made, they are contacts like any other and count).
3. **Quiet hours.** No call, SMS or visit from ``quiet_start`` to ``quiet_end`` (local time of the
   customer's time zone; the window may wrap midnight, e.g. 21:00-08:00). One falling in them is deferred
   to the end of the quiet hours, legally required or not (it can wait a night).

The cap and the quiet hours protect the customer from being disturbed: they govern the channels that
reach a person at a moment (``INTRUSIVE``: phone, SMS, visit), not a letter in the post or an e-mail,
which are read when the customer chooses. Those two are never deferred and do not count towards the cap.

The result is allowed, or deferred with the reason and the earliest allowed time (aware UTC), or refused
(consent withdrawn, no earliest time). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import DomainRuleViolation

WINDOW = timedelta(days=7)
DEFAULT_TIME_ZONE = "Asia/Shanghai"


class Channel(StrEnum):
    LETTER = "letter"
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    VISIT = "visit"


# Channels a customer may refuse; letters by post and visits are always allowed by consent.
WITHDRAWABLE = frozenset({Channel.EMAIL, Channel.SMS, Channel.PHONE})
# Channels that reach a person at a moment: the weekly cap and the quiet hours govern these only.
INTRUSIVE = frozenset({Channel.PHONE, Channel.SMS, Channel.VISIT})


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DEFERRED = "deferred"
    REFUSED = "refused"


@dataclass(frozen=True)
class ContactRules:
    """The service's limits: contacts per rolling week and the quiet hours (local time)."""

    weekly_cap: int = 3
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)

    def __post_init__(self) -> None:
        if self.weekly_cap < 1:
            raise DomainRuleViolation(
                "weekly contact cap must be at least 1",
                errors=[{"field": "weekly_cap", "message": f"{self.weekly_cap} < 1"}],
            )


@dataclass(frozen=True)
class ContactPreferences:
    """A customer's consent per withdrawable channel (missing = consents) and time zone."""

    consent: Mapping[str, bool] = field(default_factory=dict)
    time_zone: str = DEFAULT_TIME_ZONE

    def consents_to(self, channel: Channel) -> bool:
        return channel not in WITHDRAWABLE or self.consent.get(channel.value, True)


@dataclass(frozen=True)
class ContactDecision:
    verdict: Verdict
    reason: str
    earliest_at: datetime | None = None  # aware UTC; None when allowed now or refused

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; DomainRuleViolation (field ``time_zone``) when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise DomainRuleViolation(
            f"unknown time zone {name!r}", errors=[{"field": "time_zone", "message": f"{name!r} is not an IANA zone"}]
        ) from exc


def in_quiet_hours(local: time, rules: ContactRules) -> bool:
    """Start inclusive, end exclusive; a window with start > end wraps midnight; start == end: none."""
    start, end = rules.quiet_start, rules.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def end_of_quiet_hours(at: datetime, rules: ContactRules, tz: ZoneInfo) -> datetime:
    """``at`` itself when outside the quiet hours, else the (UTC) moment they end."""
    local = at.astimezone(tz)
    if not in_quiet_hours(local.timetz().replace(tzinfo=None), rules):
        return at
    end_day = local.date()
    if rules.quiet_start > rules.quiet_end and local.time() >= rules.quiet_start:
        end_day += timedelta(days=1)
    return datetime.combine(end_day, rules.quiet_end, tzinfo=tz).astimezone(UTC)


def check_contact(
    channel: Channel,
    at: datetime,
    preferences: ContactPreferences,
    recent: Iterable[datetime],
    rules: ContactRules,
    *,
    legally_required: bool = False,
) -> ContactDecision:
    """Whether ``channel`` may be used at ``at`` (aware, the sweep's instant) given the customer's ``recent``
    contacts on the intrusive channels (phone, SMS, visit: the ones the weekly cap counts)."""
    if at.tzinfo is None:
        raise ValueError("check_contact needs an aware datetime")
    tz = zone(preferences.time_zone)
    if not legally_required and not preferences.consents_to(channel):
        return ContactDecision(Verdict.REFUSED, f"the customer withdrew consent to contact by {channel}")
    if channel not in INTRUSIVE:
        return ContactDecision(Verdict.ALLOWED, f"allowed: {channel} is not subject to quiet hours or the weekly cap")
    reasons: list[str] = []
    earliest = at
    if not legally_required:
        window = sorted(moment for moment in recent if at - WINDOW < moment <= at)
        if len(window) >= rules.weekly_cap:
            # the window frees up when enough of its oldest contacts are 7 days old
            frees_at = window[len(window) - rules.weekly_cap] + WINDOW
            reasons.append(f"weekly contact cap reached ({len(window)} of {rules.weekly_cap} in the last 7 days)")
            earliest = max(earliest, frees_at)
    quiet_ends = end_of_quiet_hours(earliest, rules, tz)
    if quiet_ends != earliest:
        if earliest == at:
            reasons.append(f"quiet hours {rules.quiet_start:%H:%M}-{rules.quiet_end:%H:%M} ({preferences.time_zone})")
        earliest = quiet_ends
    if earliest == at:
        return ContactDecision(Verdict.ALLOWED, "allowed")
    local = earliest.astimezone(tz)
    reason = "; ".join(reasons) or "deferred"
    return ContactDecision(Verdict.DEFERRED, f"{reason}: earliest {local.isoformat()}", earliest.astimezone(UTC))
