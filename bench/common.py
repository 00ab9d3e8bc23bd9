"""What every bench returns, and the one table `make bench` prints."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG_ADMIN_URL = os.environ.get("CREDITFLOW_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
"""The PostgreSQL the benches use (a plain libpq URL; asyncpg form derived from it)."""


def asyncpg_url(url: str = PG_ADMIN_URL) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@dataclass
class Figure:
    """One row of the table: a path, its measurement, the baseline of the same run and the target.

    ``ratio`` is measured / baseline for throughput (higher is better). Targets are either a minimum ratio
    (``min_ratio``), a minimum absolute value (``min_value``), or a maximum (``max_value``, latencies).
    """

    path: str
    database: str
    measured: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    min_ratio: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.measured / self.baseline  # type: ignore[operator]

    @property
    def target(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f">= {self.min_ratio:g}x {self.baseline_label or 'baseline'}")
        if self.min_value is not None:
            parts.append(f">= {self.min_value:,g} {self.unit}")
        if self.max_value is not None:
            parts.append(f"<= {self.max_value:,g} {self.unit}")
        return ", ".join(parts) or "-"

    @property
    def met(self) -> bool:
        ok = True
        if self.min_ratio is not None:
            ok = ok and self.ratio is not None and self.ratio >= self.min_ratio
        if self.min_value is not None:
            ok = ok and self.measured >= self.min_value
        if self.max_value is not None:
            ok = ok and self.measured <= self.max_value
        return ok


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def table(figures: list[Figure]) -> str:
    """A Markdown table (pastes into bench/README.md as it is)."""
    lines = [
        "| path | db | measured | baseline (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        baseline = f"{_number(f.baseline)} ({f.baseline_label})" if f.baseline is not None else "-"
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        note = f" — {f.note}" if f.note else ""
        lines.append(
            f"| {f.path}{note} | {f.database} | {_number(f.measured)} {f.unit} | {baseline} | {ratio} | {f.target} "
            f"| {'yes' if f.met else '**no**'} |"
        )
    return "\n".join(lines)
