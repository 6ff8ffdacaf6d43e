"""Medians with min and max, and ratios."""
from __future__ import annotations

import statistics


def summary(values: list[float], digits: int = 3) -> dict | None:
    """{"median", "min", "max", "n", "values"} of the measured values; None when there are none."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    r = lambda v: round(v, digits)
    return {"median": r(statistics.median(vals)), "min": r(min(vals)), "max": r(max(vals)),
            "n": len(vals), "values": [r(v) for v in vals]}


def ratio(a: dict | None, b: dict | None) -> float | None:
    """a's median over b's median."""
    if not a or not b or not b["median"]:
        return None
    return round(a["median"] / b["median"], 3)
