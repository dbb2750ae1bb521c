"""Claims as code: a number the prose relies on is checked where the prose makes it.

A notebook prints the number at honest precision (in a cell whose output nbval ignores
when it can differ across CPUs) and checks the claim beside it, in a collapsed cell::

    genmod.check("the flow's density integrates to 1", mass, near=1.0, tol=0.02)
    genmod.check("the flow is within 2x the noise floor", q, at_most=2.0)

A failed claim raises :class:`ClaimError` naming the claim, so ``pytest --nbval`` fails
with that name. A claim that holds prints nothing (its output is the same on every CPU).
"""

from __future__ import annotations

import math


def sig(value, digits: int = 2) -> str:
    """``value`` rounded to ``digits`` significant digits, written plainly: 390, 1.4, 0.058, 12,000.

    For printing measured numbers at honest precision without scientific notation.
    """
    x = float(value)
    if not math.isfinite(x) or x == 0:
        return f"{x:g}"
    rounded = float(f"{x:.{digits}g}")
    if 1e-4 <= abs(rounded) < 1e7:
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
        return f"{rounded:,.{decimals}f}"
    return f"{rounded:.{digits - 1}e}"


class ClaimError(AssertionError):
    """A claim the notes make about a computed number does not hold."""


def check(
    claim: str,
    value,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    near: float | None = None,
    tol: float | None = None,
) -> None:
    """Check one claim about ``value``; raise :class:`ClaimError` naming it if it fails.

    Parameters
    ----------
    claim: the sentence the prose relies on (quoted in the error).
    value: a real number (float, int, 0-d tensor or array) or a bool (``True`` is required).
    at_least, at_most: bounds, inclusive.
    near, tol: ``|value - near| <= tol`` (both or neither).

    At least one condition must be given for a number; a NaN never satisfies a claim.
    """
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError("claim must be a non-empty sentence naming what is checked")
    if isinstance(value, bool):
        if any(v is not None for v in (at_least, at_most, near, tol)):
            raise ValueError(f"claim {claim!r}: a bool takes no bounds")
        if not value:
            raise ClaimError(f"claim failed: {claim}")
        return
    if (near is None) != (tol is None):
        raise ValueError(f"claim {claim!r}: near and tol go together")
    if at_least is None and at_most is None and near is None:
        raise ValueError(f"claim {claim!r}: give at_least, at_most or near/tol")
    x = float(value)
    failed = []
    if math.isnan(x):
        failed.append("value is NaN")
    if at_least is not None and not x >= at_least:
        failed.append(f"{x:.4g} < {at_least:.4g} (at_least)")
    if at_most is not None and not x <= at_most:
        failed.append(f"{x:.4g} > {at_most:.4g} (at_most)")
    if near is not None and not abs(x - near) <= tol:
        failed.append(f"|{x:.4g} - {near:.4g}| > {tol:.4g} (near, tol)")
    if failed:
        raise ClaimError(f"claim failed: {claim}: " + "; ".join(failed))
