"""The 22-item SERVQUAL instrument: numbering, dimensions, wording in both languages, scale, versions."""

from __future__ import annotations

import pytest

from services.survey.domain.instrument import (
    AGREEMENT_SCALE,
    DEFAULT_VERSION,
    DIMENSION_ITEMS,
    ITEM_COUNT,
    REVERSE_SCORED_ITEMS,
    SERVQUAL_1991,
    Dimension,
    InstrumentVersion,
    Item,
    Language,
    dimension_of,
    parse_version,
)
from shared.errors import DomainRuleViolation


def test_the_instrument_has_22_items_numbered_in_order() -> None:
    assert ITEM_COUNT == 22
    assert [item.number for item in SERVQUAL_1991.items] == list(range(1, 23))
    assert SERVQUAL_1991.version == InstrumentVersion.SERVQUAL_1991 == DEFAULT_VERSION
    assert SERVQUAL_1991.version.value == "servqual-1991"
    assert InstrumentVersion.SERVQUAL_1988.value == "servqual-1988"


@pytest.mark.parametrize(
    ("dimension", "numbers"),
    [
        (Dimension.TANGIBLES, [1, 2, 3, 4]),
        (Dimension.RELIABILITY, [5, 6, 7, 8, 9]),
        (Dimension.RESPONSIVENESS, [10, 11, 12, 13]),
        (Dimension.ASSURANCE, [14, 15, 16, 17]),
        (Dimension.EMPATHY, [18, 19, 20, 21, 22]),
    ],
    ids=["tangibles-1-4", "reliability-5-9", "responsiveness-10-13", "assurance-14-17", "empathy-18-22"],
)
def test_each_dimension_owns_its_textbook_items(dimension: Dimension, numbers: list[int]) -> None:
    assert list(DIMENSION_ITEMS[dimension]) == numbers
    assert [item.number for item in SERVQUAL_1991.items if item.dimension is dimension] == numbers
    assert all(dimension_of(number) is dimension for number in numbers)


def test_dimensions_are_named_as_in_the_contract_and_in_questionnaire_order() -> None:
    assert [d.value for d in Dimension] == ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]


@pytest.mark.parametrize("number", [0, 23, -1], ids=["zero", "twenty-three", "negative"])
def test_dimension_of_refuses_numbers_outside_the_instrument(number: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        dimension_of(number)


@pytest.mark.parametrize(
    ("number", "expectation_en", "perception_en", "perception_zh"),
    [
        (
            1,
            "Excellent companies will have modern-looking equipment.",
            "XYZ has modern-looking equipment.",
            "XYZ公司拥有外观现代的设备。",
        ),
        (
            9,
            "Excellent companies will insist on error-free records.",
            "XYZ insists on error-free records.",
            "XYZ公司坚持记录准确无误。",
        ),
        (
            13,
            "Employees of excellent companies will never be too busy to respond to customers' requests.",
            "Employees of XYZ are never too busy to respond to your requests.",
            "XYZ公司的员工从不因太忙而无暇回应您的要求。",
        ),
        (
            22,
            "The employees of excellent companies will understand the specific needs of their customers.",
            "Employees of XYZ understand your specific needs.",
            "XYZ公司的员工了解您的具体需求。",
        ),
    ],
    ids=["item-1-tangibles", "item-9-reliability", "item-13-responsiveness", "item-22-empathy"],
)
def test_items_carry_the_1991_positively_worded_text(
    number: int, expectation_en: str, perception_en: str, perception_zh: str
) -> None:
    item = SERVQUAL_1991.item(number)
    assert item.expectation.text(Language.EN) == expectation_en
    assert item.perception.text(Language.EN) == perception_en
    assert item.perception.text(Language.ZH_HANS) == perception_zh


@pytest.mark.parametrize("item", SERVQUAL_1991.items, ids=[f"item-{i.number}" for i in SERVQUAL_1991.items])
def test_every_item_is_worded_for_expectation_and_perception_in_both_languages(item: Item) -> None:
    # Expectations speak of excellent companies; perceptions name the rated company (placeholder).
    assert "excellent compan" in item.expectation.en.lower()
    assert "优秀" in item.expectation.zh_hans
    assert "XYZ" in item.perception.en
    assert "XYZ公司" in item.perception.zh_hans
    # 1991 wording is positive throughout: none of the 1988 negations survive.
    for negation in ("shouldn't", "not be expected", "unrealistic", "okay if"):
        assert negation not in item.expectation.en.lower()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (Language.EN, "Employees of ACME Ltd give you prompt service."),
        (Language.ZH_HANS, "ACME Ltd的员工为您提供及时的服务。"),
        ("zh-Hans", "ACME Ltd的员工为您提供及时的服务。"),
    ],
    ids=["english", "chinese", "chinese-by-tag"],
)
def test_perception_for_names_the_company(language: Language, expected: str) -> None:
    assert SERVQUAL_1991.item(11).perception_for("ACME Ltd", language) == expected


def test_scale_runs_1_to_7_from_strongly_disagree_to_strongly_agree_in_both_languages() -> None:
    assert [point.value for point in AGREEMENT_SCALE] == [1, 2, 3, 4, 5, 6, 7]
    assert SERVQUAL_1991.scale == AGREEMENT_SCALE
    assert AGREEMENT_SCALE[0].label.en == "Strongly disagree"
    assert AGREEMENT_SCALE[0].label.zh_hans == "非常不同意"
    assert AGREEMENT_SCALE[-1].label.en == "Strongly agree"
    assert AGREEMENT_SCALE[-1].label.zh_hans == "非常同意"
    assert all(point.label.en and point.label.zh_hans for point in AGREEMENT_SCALE)


def test_dimension_labels_exist_in_both_languages() -> None:
    labels = SERVQUAL_1991.dimension_labels
    assert set(labels) == set(Dimension)
    assert labels[Dimension.RELIABILITY].zh_hans == "可靠性"
    assert labels[Dimension.EMPATHY].en == "Empathy"


@pytest.mark.parametrize(
    ("version", "reversed_items"),
    [
        (InstrumentVersion.SERVQUAL_1991, set()),
        (InstrumentVersion.SERVQUAL_1988, {10, 11, 12, 13, 18, 19, 20, 21, 22}),
    ],
    ids=["1991-none", "1988-responsiveness-and-empathy"],
)
def test_reverse_scored_items_per_version(version: InstrumentVersion, reversed_items: set[int]) -> None:
    assert REVERSE_SCORED_ITEMS[version] == reversed_items


@pytest.mark.parametrize(
    ("value", "expected"),
    [("servqual-1991", InstrumentVersion.SERVQUAL_1991), ("servqual-1988", InstrumentVersion.SERVQUAL_1988)],
    ids=["1991", "1988"],
)
def test_parse_version_accepts_known_ids(value: str, expected: InstrumentVersion) -> None:
    assert parse_version(value) is expected


def test_parse_version_refuses_an_unknown_id() -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        parse_version("servqual-2001")
    assert raised.value.status == 422
    assert raised.value.errors[0]["field"] == "instrument_version"
    assert "servqual-2001" in raised.value.errors[0]["message"]
