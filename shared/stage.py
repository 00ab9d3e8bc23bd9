"""Collection stages and their escalation order, once for the whole suite.

Pure module (standard library only): collections escalates through these stages, credit stops supply
at one of them, the registry shows the highest one a customer has reached. The string values are
the wire format of ``StageEntered.stage`` and of every stored stage column.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Stage(StrEnum):
    """Escalation stages; arbitration and litigation are alternative final stages."""

    LETTER = "letter"
    VISIT = "visit"
    AGENCY = "agency"
    ARBITRATION = "arbitration"
    LITIGATION = "litigation"

    @property
    def rank(self) -> int:
        """Order of escalation: letter 0 < visit 1 < agency 2 < arbitration = litigation 3."""
        return STAGE_RANK[self]


# Arbitration and litigation share a rank: they are alternatives, never both on one case.
STAGE_RANK: dict[Stage, int] = {
    Stage.LETTER: 0,
    Stage.VISIT: 1,
    Stage.AGENCY: 2,
    Stage.ARBITRATION: 3,
    Stage.LITIGATION: 3,
}
FINAL_STAGES = frozenset({Stage.ARBITRATION, Stage.LITIGATION})
NO_STAGE_RANK = -1


def stage_rank(stage: Stage | None) -> int:
    """Position of a stage in the escalation order; -1 (``NO_STAGE_RANK``) for a case that has entered none."""
    return NO_STAGE_RANK if stage is None else STAGE_RANK[stage]


def highest_stage(stages: Iterable[str]) -> Stage | None:
    """The most escalated of ``stages`` (names not a stage are ignored); None when there is none.

    Between the two finals, which share a rank, litigation counts as the higher (it is declared later).
    """
    known = [Stage(name) for name in stages if name in Stage.__members__.values()]
    return max(known, key=lambda stage: (stage.rank, list(Stage).index(stage)), default=None)
