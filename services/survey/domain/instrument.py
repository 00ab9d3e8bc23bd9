"""The SERVQUAL questionnaire: 22 items, five dimensions, a 1–7 scale, English and Simplified Chinese.

The wording follows the 1991 revised, positively worded instrument of Parasuraman, Berry and
Zeithaml ("Refinement and Reassessment of the SERVQUAL Scale", Journal of Retailing 67(4)).
Expectation statements speak of "excellent companies"; perception statements name the company
being rated, written with the textbook placeholder ``XYZ`` (``XYZ公司`` in Chinese), which
:meth:`Item.perception_for` replaces with a real name.

The 1988 instrument (Journal of Retailing 64(1)) is known here only by its version id and the
items it worded negatively; its answers are turned into the 1991 orientation by
``answers.normalise_answers`` before any score is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.errors import DomainRuleViolation

ITEM_COUNT = 22
SCALE_MIN = 1
SCALE_MAX = 7


class Dimension(StrEnum):
    """The five SERVQUAL dimensions, in questionnaire order."""

    TANGIBLES = "tangibles"
    RELIABILITY = "reliability"
    RESPONSIVENESS = "responsiveness"
    ASSURANCE = "assurance"
    EMPATHY = "empathy"


class Language(StrEnum):
    """Languages the instrument is worded in (BCP 47 tags)."""

    EN = "en"
    ZH_HANS = "zh-Hans"


class InstrumentVersion(StrEnum):
    """Instrument versions a response may be recorded against."""

    SERVQUAL_1991 = "servqual-1991"
    SERVQUAL_1988 = "servqual-1988"


DEFAULT_VERSION = InstrumentVersion.SERVQUAL_1991

# Item numbers per dimension; the same in the 1988 and 1991 instruments.
DIMENSION_ITEMS: dict[Dimension, tuple[int, ...]] = {
    Dimension.TANGIBLES: (1, 2, 3, 4),
    Dimension.RELIABILITY: (5, 6, 7, 8, 9),
    Dimension.RESPONSIVENESS: (10, 11, 12, 13),
    Dimension.ASSURANCE: (14, 15, 16, 17),
    Dimension.EMPATHY: (18, 19, 20, 21, 22),
}

# The 1988 instrument worded responsiveness and empathy negatively ("They shouldn't be expected
# to tell customers exactly when services will be performed"), so agreeing meant a low score;
# those answers are reverse-scored (8 − x). The 1991 revision worded every item positively.
REVERSE_SCORED_ITEMS: dict[InstrumentVersion, frozenset[int]] = {
    InstrumentVersion.SERVQUAL_1991: frozenset(),
    InstrumentVersion.SERVQUAL_1988: frozenset((10, 11, 12, 13, 18, 19, 20, 21, 22)),
}

# The placeholder standing for the rated company in perception statements, per language.
COMPANY_PLACEHOLDER: dict[Language, str] = {Language.EN: "XYZ", Language.ZH_HANS: "XYZ公司"}


@dataclass(frozen=True)
class Wording:
    """One statement in every supported language."""

    en: str
    zh_hans: str

    def text(self, language: Language) -> str:
        """The statement in ``language``."""
        return self.en if Language(language) is Language.EN else self.zh_hans


@dataclass(frozen=True)
class Item:
    """One of the 22 items: its number (1–22), dimension and expectation/perception wording."""

    number: int
    dimension: Dimension
    expectation: Wording
    perception: Wording

    def perception_for(self, company_name: str, language: Language) -> str:
        """The perception statement with the placeholder replaced by ``company_name``."""
        return self.perception.text(language).replace(COMPANY_PLACEHOLDER[Language(language)], company_name)


@dataclass(frozen=True)
class ScalePoint:
    """One point of the 1–7 agreement scale with its label."""

    value: int
    label: Wording


@dataclass(frozen=True)
class Instrument:
    """A complete questionnaire: version, items in order, the answer scale and dimension labels."""

    version: InstrumentVersion
    items: tuple[Item, ...]
    scale: tuple[ScalePoint, ...]
    dimension_labels: dict[Dimension, Wording]

    def item(self, number: int) -> Item:
        """The item numbered ``number`` (1–22)."""
        return self.items[number - 1]


def dimension_of(item_number: int) -> Dimension:
    """The dimension item ``item_number`` (1–22) belongs to."""
    for dimension, numbers in DIMENSION_ITEMS.items():
        if item_number in numbers:
            return dimension
    raise ValueError(f"item number {item_number} is outside 1–{ITEM_COUNT}")


def parse_version(value: str) -> InstrumentVersion:
    """The instrument version named ``value``; an unknown name is a rule violation (422)."""
    try:
        return InstrumentVersion(value)
    except ValueError:
        known = ", ".join(version.value for version in InstrumentVersion)
        raise DomainRuleViolation(
            f"unknown instrument version {value!r}",
            errors=[
                {
                    "field": "instrument_version",
                    "message": f"unknown instrument version {value!r}; expected one of {known}",
                }
            ],
        ) from None


DIMENSION_LABELS: dict[Dimension, Wording] = {
    Dimension.TANGIBLES: Wording("Tangibles", "有形性"),
    Dimension.RELIABILITY: Wording("Reliability", "可靠性"),
    Dimension.RESPONSIVENESS: Wording("Responsiveness", "响应性"),
    Dimension.ASSURANCE: Wording("Assurance", "保证性"),
    Dimension.EMPATHY: Wording("Empathy", "移情性"),
}

AGREEMENT_SCALE: tuple[ScalePoint, ...] = (
    ScalePoint(1, Wording("Strongly disagree", "非常不同意")),
    ScalePoint(2, Wording("Disagree", "不同意")),
    ScalePoint(3, Wording("Somewhat disagree", "有点不同意")),
    ScalePoint(4, Wording("Neither agree nor disagree", "既不同意也不反对")),
    ScalePoint(5, Wording("Somewhat agree", "有点同意")),
    ScalePoint(6, Wording("Agree", "同意")),
    ScalePoint(7, Wording("Strongly agree", "非常同意")),
)

# (expectation EN, expectation ZH, perception EN, perception ZH), items 1–22 in order.
_WORDING_1991: tuple[tuple[str, str, str, str], ...] = (
    (
        "Excellent companies will have modern-looking equipment.",
        "优秀的公司会拥有外观现代的设备。",
        "XYZ has modern-looking equipment.",
        "XYZ公司拥有外观现代的设备。",
    ),
    (
        "The physical facilities at excellent companies will be visually appealing.",
        "优秀公司的有形设施会在视觉上吸引人。",
        "XYZ's physical facilities are visually appealing.",
        "XYZ公司的有形设施在视觉上吸引人。",
    ),
    (
        "Employees at excellent companies will be neat-appearing.",
        "优秀公司的员工会仪表整洁。",
        "XYZ's employees are neat-appearing.",
        "XYZ公司的员工仪表整洁。",
    ),
    (
        "Materials associated with the service (such as pamphlets or statements) will be visually "
        "appealing in an excellent company.",
        "在优秀的公司，与服务相关的资料（如宣传册或对账单）会在视觉上吸引人。",
        "Materials associated with the service (such as pamphlets or statements) are visually appealing at XYZ.",
        "XYZ公司与服务相关的资料（如宣传册或对账单）在视觉上吸引人。",
    ),
    (
        "When excellent companies promise to do something by a certain time, they will do so.",
        "优秀的公司承诺在某一时间之前做某事时，会按时做到。",
        "When XYZ promises to do something by a certain time, it does so.",
        "XYZ公司承诺在某一时间之前做某事时，会按时做到。",
    ),
    (
        "When a customer has a problem, excellent companies will show a sincere interest in solving it.",
        "当顾客遇到问题时，优秀的公司会真诚地关心并设法解决。",
        "When you have a problem, XYZ shows a sincere interest in solving it.",
        "当您遇到问题时，XYZ公司真诚地关心并设法解决。",
    ),
    (
        "Excellent companies will perform the service right the first time.",
        "优秀的公司会第一次就把服务做好。",
        "XYZ performs the service right the first time.",
        "XYZ公司第一次就把服务做好。",
    ),
    (
        "Excellent companies will provide their services at the time they promise to do so.",
        "优秀的公司会在承诺的时间提供服务。",
        "XYZ provides its services at the time it promises to do so.",
        "XYZ公司在承诺的时间提供服务。",
    ),
    (
        "Excellent companies will insist on error-free records.",
        "优秀的公司会坚持记录准确无误。",
        "XYZ insists on error-free records.",
        "XYZ公司坚持记录准确无误。",
    ),
    (
        "Employees of excellent companies will tell customers exactly when services will be performed.",
        "优秀公司的员工会确切地告诉顾客何时提供服务。",
        "Employees of XYZ tell you exactly when services will be performed.",
        "XYZ公司的员工确切地告诉您何时提供服务。",
    ),
    (
        "Employees of excellent companies will give prompt service to customers.",
        "优秀公司的员工会为顾客提供及时的服务。",
        "Employees of XYZ give you prompt service.",
        "XYZ公司的员工为您提供及时的服务。",
    ),
    (
        "Employees of excellent companies will always be willing to help customers.",
        "优秀公司的员工会总是乐于帮助顾客。",
        "Employees of XYZ are always willing to help you.",
        "XYZ公司的员工总是乐于帮助您。",
    ),
    (
        "Employees of excellent companies will never be too busy to respond to customers' requests.",
        "优秀公司的员工绝不会因太忙而无暇回应顾客的要求。",
        "Employees of XYZ are never too busy to respond to your requests.",
        "XYZ公司的员工从不因太忙而无暇回应您的要求。",
    ),
    (
        "The behavior of employees of excellent companies will instill confidence in customers.",
        "优秀公司员工的言行会使顾客产生信心。",
        "The behavior of employees of XYZ instills confidence in customers.",
        "XYZ公司员工的言行使顾客产生信心。",
    ),
    (
        "Customers of excellent companies will feel safe in their transactions.",
        "优秀公司的顾客在交易中会感到安心。",
        "You feel safe in your transactions with XYZ.",
        "您在与XYZ公司的交易中感到安心。",
    ),
    (
        "Employees of excellent companies will be consistently courteous with customers.",
        "优秀公司的员工会始终对顾客以礼相待。",
        "Employees of XYZ are consistently courteous with you.",
        "XYZ公司的员工始终对您以礼相待。",
    ),
    (
        "Employees of excellent companies will have the knowledge to answer customers' questions.",
        "优秀公司的员工会具备回答顾客问题的知识。",
        "Employees of XYZ have the knowledge to answer your questions.",
        "XYZ公司的员工具备回答您问题的知识。",
    ),
    (
        "Excellent companies will give customers individual attention.",
        "优秀的公司会给予顾客个别的关注。",
        "XYZ gives you individual attention.",
        "XYZ公司给予您个别的关注。",
    ),
    (
        "Excellent companies will have operating hours convenient to all their customers.",
        "优秀公司的营业时间会方便所有顾客。",
        "XYZ has operating hours convenient to all its customers.",
        "XYZ公司的营业时间方便所有顾客。",
    ),
    (
        "Excellent companies will have employees who give customers personal attention.",
        "优秀的公司会有给予顾客个人关怀的员工。",
        "XYZ has employees who give you personal attention.",
        "XYZ公司有给予您个人关怀的员工。",
    ),
    (
        "Excellent companies will have the customers' best interests at heart.",
        "优秀的公司会把顾客的最大利益放在心上。",
        "XYZ has your best interests at heart.",
        "XYZ公司把您的最大利益放在心上。",
    ),
    (
        "The employees of excellent companies will understand the specific needs of their customers.",
        "优秀公司的员工会了解顾客的具体需求。",
        "Employees of XYZ understand your specific needs.",
        "XYZ公司的员工了解您的具体需求。",
    ),
)

SERVQUAL_1991 = Instrument(
    version=InstrumentVersion.SERVQUAL_1991,
    items=tuple(
        Item(
            number=number,
            dimension=dimension_of(number),
            expectation=Wording(expectation_en, expectation_zh),
            perception=Wording(perception_en, perception_zh),
        )
        for number, (expectation_en, expectation_zh, perception_en, perception_zh) in enumerate(_WORDING_1991, start=1)
    ),
    scale=AGREEMENT_SCALE,
    dimension_labels=DIMENSION_LABELS,
)
