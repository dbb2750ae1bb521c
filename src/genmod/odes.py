"""Two small ODE solvers for dx/dt = f(x, t): fixed-step RK4 and adaptive Dormand-Prince RK45.

Used by the probability flow ODE, the likelihood through the ODE, and flow matching.
Both integrate forward or backward in time (t1 < t0 is fine), on a tensor state of
any shape, and return every visited state, so a solve can be animated.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Field = Callable[[torch.Tensor, float], torch.Tensor]


def rk4(f: Field, x: torch.Tensor, t0: float, t1: float, steps: int):
    """Classical fourth-order Runge-Kutta with ``steps`` equal steps from t0 to t1.

    Returns
    -------
    xs: list of ``steps + 1`` states (``xs[0] = x``); ts: list of their times;
    n_evals: number of calls of f (4 per step).
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    h = (t1 - t0) / steps
    xs, ts = [x], [t0]
    for i in range(int(steps)):
        t = t0 + i * h
        k1 = f(x, t)
        k2 = f(x + 0.5 * h * k1, t + 0.5 * h)
        k3 = f(x + 0.5 * h * k2, t + 0.5 * h)
        k4 = f(x + h * k3, t + h)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        xs.append(x)
        ts.append(t0 + (i + 1) * h)
    return xs, ts, 4 * int(steps)


# Dormand & Prince (1980) tableau: 5th-order solution b, embedded 4th-order b_star.
_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_B_STAR = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)
_E = tuple(b - bs for b, bs in zip(_B, _B_STAR))


def dopri5(
    f: Field,
    x: torch.Tensor,
    t0: float,
    t1: float,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    max_steps: int = 10_000,
):
    """Adaptive Dormand-Prince RK45 (the method of scipy's ``solve_ivp(method="RK45")``).

    The step is accepted when the RMS of err / (atol + rtol * |x|) over the whole state
    is <= 1; the next step is h * clip(0.9 * err^(-1/5), 0.2, 5). The last stage of an
    accepted step is the first of the next (FSAL), so a step costs 6 evaluations.

    Returns
    -------
    xs, ts: lists of accepted states and their times; n_evals: calls of f.
    """
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"rtol and atol must be > 0, got {rtol}, {atol}")
    span = t1 - t0
    if span == 0:
        return [x], [t0], 0
    direction = math.copysign(1.0, span)
    h = 0.01 * span
    t, k1 = t0, f(x, t0)
    n_evals, xs, ts = 1, [x], [t0]
    for _ in range(max_steps):
        if direction * (t + h - t1) > 0:
            h = t1 - t
        ks = [k1]
        for i in range(1, 7):
            xi = x + h * sum(a * k for a, k in zip(_A[i], ks) if a != 0.0)
            ks.append(f(xi, t + _C[i] * h))
        n_evals += 6
        x_new = xi  # row 7 of A equals b: the last stage point is the 5th-order solution
        err = h * sum(e * k for e, k in zip(_E, ks) if e != 0.0)
        scale = atol + rtol * torch.maximum(x.abs(), x_new.abs())
        err_norm = float((err / scale).pow(2).mean().sqrt())
        if not math.isfinite(err_norm):
            raise FloatingPointError("dopri5: the state became non-finite")
        if err_norm <= 1.0:
            t, x, k1 = t + h, x_new, ks[6]
            xs.append(x)
            ts.append(t)
            if direction * (t - t1) >= -1e-12 * abs(span):
                return xs, ts, n_evals
        factor = 5.0 if err_norm == 0 else min(5.0, max(0.2, 0.9 * err_norm**-0.2))
        h = h * factor
    raise RuntimeError(f"dopri5 did not reach t1={t1} in {max_steps} steps")
