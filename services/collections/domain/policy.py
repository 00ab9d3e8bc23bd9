"""The escalation policy: versioned, validated, and convertible to and from plain JSON-able dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from services.collections.domain.stages import Segment
from shared.errors import DomainRuleViolation
from shared.money import ZERO
from shared.stage import STAGE_RANK, Stage

Problem = dict[str, str]
_E = TypeVar("_E", bound=StrEnum)


class SupplyStop(StrEnum):
    """When a segment's supply must stop."""

    AT_STAGE = "at_stage"  # once the case reaches the policy's stop-supply stage
    AT_ONCE = "at_once"  # as soon as the case opens
    ONLY_IF_MALICIOUS = "only_if_malicious"  # only when the arrears are flagged malicious, then at once


class AllocationBucket(StrEnum):
    """What a payment can settle."""

    COSTS = "costs"
    PENALTY_INTEREST = "penalty_interest"
    PRINCIPAL = "principal"


DEFAULT_ALLOCATION_ORDER: tuple[AllocationBucket, ...] = (
    AllocationBucket.COSTS,
    AllocationBucket.PENALTY_INTEREST,
    AllocationBucket.PRINCIPAL,
)


@dataclass(frozen=True)
class StageRule:
    """One stage of the policy: enter at ``min_days_overdue`` days and ``min_amount``; ``cost`` per action.

    ``recoverable``: whether the law lets the action's cost be charged to the debtor (costs of realising the
    claim, court and arbitration fees borne by the losing debtor); never charged before it is carried out.
    """

    stage: Stage
    min_days_overdue: int
    min_amount: Decimal = ZERO
    action: str = ""
    cost: Decimal = ZERO
    recoverable: bool = False


@dataclass(frozen=True)
class SegmentStrategy:
    """How a segment bends the standard sequence."""

    day_factor: Decimal = Decimal("1")  # every day threshold × factor, rounded up, at least 1
    visit_first: bool = False  # the letter is replaced by a manager's visit at the letter's day
    supply_stop: SupplyStop = SupplyStop.AT_STAGE


DEFAULT_ACTIONS: dict[Stage, str] = {
    Stage.LETTER: "Send a reminder letter (tone firming: reminder, firm, final demand) by email, SMS or post",
    Stage.VISIT: "Schedule a visit by an assigned collector and record its outcome",
    Stage.AGENCY: "Hand the case to the collection agency with the best expected net recovery",
    Stage.ARBITRATION: "File with the arbitration commission named in the contract",
    Stage.LITIGATION: "File a claim with the competent court",
}

# Agency work costs nothing up front: the agency is paid by commission on what it recovers.
DEFAULT_COSTS: dict[Stage, Decimal] = {
    Stage.LETTER: Decimal("5.00"),
    Stage.VISIT: Decimal("200.00"),
    Stage.AGENCY: Decimal("0.00"),
    Stage.ARBITRATION: Decimal("3000.00"),
    Stage.LITIGATION: Decimal("5000.00"),
}

# What the debtor may be charged: a demand letter's and a visit's costs of realising the claim, filing fees
# (the losing debtor bears them). Agency commission comes out of what the agency recovers: not charged.
DEFAULT_RECOVERABLE: dict[Stage, bool] = {
    Stage.LETTER: True,
    Stage.VISIT: True,
    Stage.AGENCY: False,
    Stage.ARBITRATION: True,
    Stage.LITIGATION: True,
}

DEFAULT_SEGMENTS: dict[Segment, SegmentStrategy] = {
    Segment.KEY_ACCOUNT: SegmentStrategy(visit_first=True, supply_stop=SupplyStop.ONLY_IF_MALICIOUS),
    Segment.GENERAL: SegmentStrategy(),
    Segment.HIGH_RISK: SegmentStrategy(day_factor=Decimal("0.5"), supply_stop=SupplyStop.AT_ONCE),
}

# 0.05 % a day, the customary contractual late-payment rate, expressed as an annual rate.
DEFAULT_PENALTY_RATE = Decimal("0.1825")


@dataclass(frozen=True)
class Policy:
    """A version of the escalation policy; constructing an invalid one raises DomainRuleViolation."""

    stages: tuple[StageRule, ...]
    version: int = 1
    penalty_interest_annual_rate: Decimal = DEFAULT_PENALTY_RATE
    stop_supply_stage: Stage = Stage.AGENCY
    limitation_years: int = 3
    allocation_order: tuple[AllocationBucket, ...] = DEFAULT_ALLOCATION_ORDER
    segments: Mapping[Segment, SegmentStrategy] = field(default_factory=lambda: dict(DEFAULT_SEGMENTS))

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "allocation_order", tuple(self.allocation_order))
        object.__setattr__(self, "segments", MappingProxyType(dict(self.segments)))
        problems = policy_problems(self)
        if problems:
            raise _invalid(problems)

    def __hash__(self) -> int:
        return hash((self.version, self.stages))

    def rule_for(self, stage: Stage) -> StageRule:
        """The rule of ``stage`` (every stage is present in a valid policy)."""
        return next(rule for rule in self.stages if rule.stage is stage)

    def strategy_for(self, segment: Segment) -> SegmentStrategy:
        """The strategy of ``segment``."""
        return self.segments[segment]

    def action_cost(self, stage: Stage) -> Decimal:
        """Cost of carrying out one action of ``stage`` (agency commission comes on top, on recovery)."""
        return self.rule_for(stage).cost

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, Decimals as strings; ``Policy.from_dict`` reads it back."""
        return {
            "version": self.version,
            "stages": [
                {
                    "stage": str(rule.stage),
                    "min_days_overdue": rule.min_days_overdue,
                    "min_amount": str(rule.min_amount),
                    "action": rule.action,
                    "cost": str(rule.cost),
                    "recoverable": rule.recoverable,
                }
                for rule in self.stages
            ],
            "penalty_interest_annual_rate": str(self.penalty_interest_annual_rate),
            "stop_supply_stage": str(self.stop_supply_stage),
            "limitation_years": self.limitation_years,
            "allocation_order": [str(bucket) for bucket in self.allocation_order],
            "segments": {
                str(segment): {
                    "day_factor": str(strategy.day_factor),
                    "visit_first": strategy.visit_first,
                    "supply_stop": str(strategy.supply_stop),
                }
                for segment, strategy in self.segments.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Parse and validate a policy dict; every problem is listed in one DomainRuleViolation."""
        return _PolicyParser(data).parse()


def default_policy() -> Policy:
    """The default table of product.md section 5, version 1."""
    return Policy(
        stages=(
            _default_rule(Stage.LETTER, 1),
            _default_rule(Stage.VISIT, 30),
            _default_rule(Stage.AGENCY, 60, Decimal("10000.00")),
            _default_rule(Stage.ARBITRATION, 90),
            _default_rule(Stage.LITIGATION, 90, Decimal("50000.00")),
        )
    )


def revise(current: Policy, data: Mapping[str, Any]) -> Policy:
    """The edited policy ``data`` as the version after ``current`` (any version in ``data`` is ignored)."""
    parsed = Policy.from_dict({key: value for key, value in data.items() if key != "version"})
    return replace(parsed, version=current.version + 1)


def policy_problems(policy: Policy) -> list[Problem]:
    """Every rule the policy breaks, as ``{"field", "message"}`` items (empty when valid)."""
    return stage_list_problems(list(enumerate(policy.stages))) + setting_problems(
        version=policy.version,
        rate=policy.penalty_interest_annual_rate,
        stop_supply_stage=policy.stop_supply_stage,
        limitation_years=policy.limitation_years,
        allocation_order=policy.allocation_order,
        segments=policy.segments,
    )


def setting_problems(
    *,
    version: int | None,
    rate: Decimal | None,
    stop_supply_stage: Stage | None,
    limitation_years: int | None,
    allocation_order: tuple[AllocationBucket, ...] | None,
    segments: Mapping[Segment, SegmentStrategy] | None,
) -> list[Problem]:
    """Problems of the settings beside the stage list; a None value (could not be parsed) is skipped."""
    problems: list[Problem] = []
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        problems.append(_problem("version", "must be a whole number of at least 1"))
    if rate is not None and rate < 0:
        problems.append(_problem("penalty_interest_annual_rate", f"{rate} is negative"))
    elif rate is not None and rate > 1:
        problems.append(
            _problem("penalty_interest_annual_rate", f"{rate} is over 100 %: give the annual rate as a fraction")
        )
    if stop_supply_stage is not None and not isinstance(stop_supply_stage, Stage):
        problems.append(_problem("stop_supply_stage", f"unknown stage {stop_supply_stage!r}"))
    years = limitation_years
    if years is not None and (isinstance(years, bool) or not isinstance(years, int) or years < 1):
        problems.append(_problem("limitation_years", "must be a whole number of at least 1"))
    if allocation_order is not None and sorted(allocation_order) != sorted(AllocationBucket):
        problems.append(
            _problem("allocation_order", "must name costs, penalty_interest and principal, each exactly once")
        )
    for segment in Segment:
        strategy = segments.get(segment) if segments is not None else DEFAULT_SEGMENTS[segment]
        if strategy is None:
            problems.append(_problem(f"segments.{segment}", "missing segment strategy"))
        elif strategy.day_factor <= 0:
            problems.append(_problem(f"segments.{segment}.day_factor", f"{strategy.day_factor} is not positive"))
    return problems


def stage_list_problems(entries: list[tuple[int, StageRule]]) -> list[Problem]:
    """Problems of the stage list (order, duplicates, missing, thresholds); entries are (index, rule)."""
    problems: list[Problem] = []
    first_index: dict[Stage, int] = {}
    for position, (index, rule) in enumerate(entries):
        where = f"stages[{index}]"
        if rule.stage in first_index:
            problems.append(
                _problem(
                    f"{where}.stage",
                    f"duplicate stage '{rule.stage}' (already at stages[{first_index[rule.stage]}])",
                )
            )
        else:
            first_index[rule.stage] = index
        if position > 0:
            previous = entries[position - 1][1]
            if STAGE_RANK[rule.stage] < STAGE_RANK[previous.stage]:
                message = f"stages out of order: '{rule.stage}' must come before '{previous.stage}'"
                problems.append(_problem(f"{where}.stage", message))
        days = rule.min_days_overdue
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            problems.append(_problem(f"{where}.min_days_overdue", f"{days} is not a whole number of days >= 1"))
        else:
            earlier = _nearest_earlier_stage(entries[:position], rule.stage)
            if earlier is not None and days < earlier.min_days_overdue:
                problems.append(
                    _problem(
                        f"{where}.min_days_overdue",
                        f"day thresholds must not decrease: {days} for '{rule.stage}' is below "
                        f"{earlier.min_days_overdue} for '{earlier.stage}'",
                    )
                )
        if rule.min_amount < 0:
            problems.append(_problem(f"{where}.min_amount", f"{rule.min_amount} is negative"))
        if rule.cost < 0:
            problems.append(_problem(f"{where}.cost", f"{rule.cost} is negative"))
    for stage in Stage:
        if stage not in first_index:
            problems.append(_problem("stages", f"missing stage '{stage}'"))
    return problems


def _nearest_earlier_stage(earlier: list[tuple[int, StageRule]], stage: Stage) -> StageRule | None:
    # Arbitration and litigation are alternatives: each is compared with agency, not with the other.
    for _, rule in reversed(earlier):
        if STAGE_RANK[rule.stage] < STAGE_RANK[stage]:
            return rule
    return None


def _default_rule(stage: Stage, days: int, amount: Decimal = Decimal("0.00")) -> StageRule:
    return StageRule(stage, days, amount, DEFAULT_ACTIONS[stage], DEFAULT_COSTS[stage], DEFAULT_RECOVERABLE[stage])


def _problem(field_name: str, message: str) -> Problem:
    return {"field": field_name, "message": message}


def _invalid(problems: list[Problem]) -> DomainRuleViolation:
    summary = "; ".join(f"{problem['field']}: {problem['message']}" for problem in problems)
    return DomainRuleViolation(f"invalid escalation policy: {summary}", errors=problems)


_TOP_LEVEL_FIELDS = frozenset(
    {
        "version",
        "stages",
        "penalty_interest_annual_rate",
        "stop_supply_stage",
        "limitation_years",
        "allocation_order",
        "segments",
    }
)
_STAGE_FIELDS = frozenset({"stage", "min_days_overdue", "min_amount", "action", "cost", "recoverable"})
_SEGMENT_FIELDS = frozenset({"day_factor", "visit_first", "supply_stop"})


class _PolicyParser:
    """Reads a policy dict, collecting every problem instead of stopping at the first."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []

    def parse(self) -> Policy:
        if not isinstance(self.data, Mapping):
            raise _invalid([_problem("policy", "must be an object")])
        for key in self.data:
            if key not in _TOP_LEVEL_FIELDS:
                self.problems.append(_problem(str(key), "unknown field"))
        entries = self._stages()
        version = self._integer(self.data.get("version", 1), "version")
        rate = self._decimal(
            self.data.get("penalty_interest_annual_rate", DEFAULT_PENALTY_RATE), "penalty_interest_annual_rate"
        )
        stop_stage = self._enum(Stage, self.data.get("stop_supply_stage", Stage.AGENCY), "stop_supply_stage")
        years = self._integer(self.data.get("limitation_years", 3), "limitation_years")
        order = self._allocation_order()
        segments = self._segments()
        if self.problems:
            if entries is not None:
                self.problems.extend(stage_list_problems(entries))
            self.problems.extend(
                setting_problems(
                    version=version,
                    rate=rate,
                    stop_supply_stage=stop_stage,
                    limitation_years=years,
                    allocation_order=order,
                    segments=segments,
                )
            )
            raise _invalid(self.problems)
        assert entries is not None and version is not None and rate is not None  # no problems: all parsed
        assert stop_stage is not None and years is not None and order is not None
        return Policy(
            stages=tuple(rule for _, rule in entries),
            version=version,
            penalty_interest_annual_rate=rate,
            stop_supply_stage=stop_stage,
            limitation_years=years,
            allocation_order=order,
            segments=segments,
        )

    def _stages(self) -> list[tuple[int, StageRule]] | None:
        raw = self.data.get("stages")
        if not isinstance(raw, list) or not raw:
            self.problems.append(_problem("stages", "must be a non-empty list of stage rules"))
            return None
        entries: list[tuple[int, StageRule]] = []
        for index, item in enumerate(raw):
            where = f"stages[{index}]"
            if not isinstance(item, Mapping):
                self.problems.append(_problem(where, "must be an object"))
                continue
            for key in item:
                if key not in _STAGE_FIELDS:
                    self.problems.append(_problem(f"{where}.{key}", "unknown field"))
            stage = self._enum(Stage, item.get("stage"), f"{where}.stage")
            days = self._integer(item.get("min_days_overdue"), f"{where}.min_days_overdue")
            amount = self._decimal(item.get("min_amount", "0"), f"{where}.min_amount")
            action = item.get("action")
            if action is not None and not isinstance(action, str):
                self.problems.append(_problem(f"{where}.action", "must be text"))
                action = None
            cost = self._decimal(item.get("cost", DEFAULT_COSTS[stage] if stage else "0"), f"{where}.cost")
            recoverable = item.get("recoverable", DEFAULT_RECOVERABLE[stage] if stage else False)
            if not isinstance(recoverable, bool):
                self.problems.append(_problem(f"{where}.recoverable", "must be true or false"))
                recoverable = False
            if stage is not None and days is not None and amount is not None and cost is not None:
                rule = StageRule(stage, days, amount, action or DEFAULT_ACTIONS[stage], cost, recoverable)
                entries.append((index, rule))
        return entries

    def _allocation_order(self) -> tuple[AllocationBucket, ...] | None:
        raw = self.data.get("allocation_order", [str(bucket) for bucket in DEFAULT_ALLOCATION_ORDER])
        if not isinstance(raw, list):
            self.problems.append(_problem("allocation_order", "must be a list"))
            return None
        buckets = [self._enum(AllocationBucket, item, f"allocation_order[{i}]") for i, item in enumerate(raw)]
        parsed = tuple(bucket for bucket in buckets if bucket is not None)
        return parsed if len(parsed) == len(buckets) else None

    def _segments(self) -> dict[Segment, SegmentStrategy]:
        raw = self.data.get("segments", {})
        segments = dict(DEFAULT_SEGMENTS)
        if not isinstance(raw, Mapping):
            self.problems.append(_problem("segments", "must be an object keyed by segment"))
            return segments
        for name, item in raw.items():
            segment = self._enum(Segment, name, f"segments.{name}")
            if segment is None:
                continue
            where = f"segments.{segment}"
            if not isinstance(item, Mapping):
                self.problems.append(_problem(where, "must be an object"))
                continue
            for key in item:
                if key not in _SEGMENT_FIELDS:
                    self.problems.append(_problem(f"{where}.{key}", "unknown field"))
            default = DEFAULT_SEGMENTS[segment]
            factor = self._decimal(item.get("day_factor", default.day_factor), f"{where}.day_factor")
            visit_first = item.get("visit_first", default.visit_first)
            if not isinstance(visit_first, bool):
                self.problems.append(_problem(f"{where}.visit_first", "must be true or false"))
                visit_first = default.visit_first
            supply_stop = self._enum(SupplyStop, item.get("supply_stop", default.supply_stop), f"{where}.supply_stop")
            segments[segment] = SegmentStrategy(
                day_factor=factor if factor is not None else default.day_factor,
                visit_first=visit_first,
                supply_stop=supply_stop or default.supply_stop,
            )
        return segments

    def _decimal(self, raw: object, field_name: str) -> Decimal | None:
        # Floats are refused: money and rates must arrive exactly, as strings or integers.
        if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
            self.problems.append(_problem(field_name, "must be a decimal number given as a string"))
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.problems.append(_problem(field_name, f"{raw!r} is not a decimal number"))
            return None
        if not value.is_finite():
            self.problems.append(_problem(field_name, f"{raw!r} is not a finite number"))
            return None
        return value

    def _integer(self, raw: object, field_name: str) -> int | None:
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.problems.append(_problem(field_name, "must be a whole number"))
            return None
        return raw

    def _enum(self, enum: type[_E], raw: object, field_name: str) -> _E | None:
        try:
            if not isinstance(raw, str):
                raise ValueError(raw)
            return enum(raw)
        except ValueError:
            allowed = ", ".join(str(member) for member in enum)
            self.problems.append(_problem(field_name, f"unknown value {raw!r}; expected one of: {allowed}"))
            return None
