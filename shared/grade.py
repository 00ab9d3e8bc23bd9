"""Credit vocabulary more than one service speaks: the grade and the reasons for a credit hold.

Pure module (no framework imports): credit's domain rules use it, and customers' overview and the
OpenAPI documents name the same enums (``Grade``, ``HoldReason``).
"""

from __future__ import annotations

from enum import StrEnum


class Grade(StrEnum):
    """Credit grade, A best; D sells for cash or prepayment only."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class HoldReason(StrEnum):
    """Why a customer is (or stays) on hold, or why a hold was released."""

    COLLECTION_STAGE_REACHED = "collection_stage_reached"
    GRADE_D = "grade_d"
    OVERDUE_OUTSTANDING = "overdue_outstanding"
    DEBT_SETTLED = "debt_settled"
    MALICIOUS_ARREARS = "malicious_arrears"  # collections marked the arrears malicious (恶性拖欠)
