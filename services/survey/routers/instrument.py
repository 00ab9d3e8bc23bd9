"""The SERVQUAL questionnaire, in either language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from services.survey.domain.instrument import (
    DIMENSION_ITEMS,
    DIMENSION_LABELS,
    ITEM_COUNT,
    SERVQUAL_1991,
    InstrumentVersion,
    Language,
    Wording,
)
from services.survey.domain.weights import DEFAULT_WEIGHTS
from services.survey.schemas import (
    DimensionRead,
    InstrumentRead,
    ItemRead,
    ScalePointRead,
    WordingRead,
)
from shared.errors import NotFound
from shared.openapi import api_router

router = api_router(tags=["survey"])


def _wording(wording: Wording, language: Language | None) -> WordingRead:
    return WordingRead(
        en=wording.en if language in (None, Language.EN) else None,
        zh_hans=wording.zh_hans if language in (None, Language.ZH_HANS) else None,
    )


@router.get(
    "/instrument",
    response_model=InstrumentRead,
    summary="The SERVQUAL questionnaire",
    responses={404: {"description": "the wording of that instrument version is not served"}},
)
async def get_instrument(
    version: InstrumentVersion = InstrumentVersion.SERVQUAL_1991,
    language: Annotated[Language | None, Query(description="only this language's wording; both by default")] = None,
) -> InstrumentRead:
    """The 22 items (1991 revised, positively worded) with their dimensions, in English and Simplified Chinese,
    and the 1–7 agreement scale answered once for expectation (E) and once for perception (P).

    Only the 1991 wording is served; answers recorded against `servqual-1988` are accepted by campaigns of
    that version and reverse-scored (items 10–13 and 18–22) before scoring. Public: no token needed.
    """
    if version is not InstrumentVersion.SERVQUAL_1991:
        raise NotFound(
            f"the wording of {version.value} is not served; campaigns of that version reverse-score "
            "its negatively worded items"
        )
    instrument = SERVQUAL_1991
    return InstrumentRead(
        version=instrument.version,
        languages=[language] if language else list(Language),
        item_count=ITEM_COUNT,
        scale=[ScalePointRead(value=point.value, label=_wording(point.label, language)) for point in instrument.scale],
        dimensions=[
            DimensionRead(
                dimension=dimension,
                label=_wording(DIMENSION_LABELS[dimension], language),
                items=list(numbers),
                default_weight=DEFAULT_WEIGHTS[dimension],
            )
            for dimension, numbers in DIMENSION_ITEMS.items()
        ],
        items=[
            ItemRead(
                number=item.number,
                dimension=item.dimension,
                expectation=_wording(item.expectation, language),
                perception=_wording(item.perception, language),
            )
            for item in instrument.items
        ],
    )
