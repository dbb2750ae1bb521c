"""ODE solvers for dx/dt = f(x, t): the hand-written RK4 the notes teach, and scipy's RK45.

Used by the probability flow ODE, the likelihood through the ODE, and flow matching.
Both integrate forward or backward in time (t1 < t0 is fine), on a tensor state of
any shape, and return every visited state, so a solve can be animated.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from scipy.integrate import solve_ivp

from genmod.arrays import check_n
from genmod.guards import check_field

Field = Callable[[torch.Tensor, float], torch.Tensor]


def rk4(f: Field, x: torch.Tensor, t0: float, t1: float, n_steps: int):
    """Classical fourth-order Runge-Kutta with ``n_steps`` equal steps from t0 to t1.

    Returns
    -------
    xs: list of ``n_steps + 1`` states (``xs[0] = x``); ts: list of their times;
    n_evals: number of calls of f (4 per step).
    """
    steps = check_n(n_steps, "n_steps")
    h = (t1 - t0) / steps
    xs, ts = [x], [t0]
    for i in range(int(steps)):
        t = t0 + i * h
        k1 = f(x, t) if i else check_field(f(x, t), x, "the field f (e.g. score_fn)")
        k2 = f(x + 0.5 * h * k1, t + 0.5 * h)
        k3 = f(x + 0.5 * h * k2, t + 0.5 * h)
        k4 = f(x + h * k3, t + h)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        xs.append(x)
        ts.append(t0 + (i + 1) * h)
    return xs, ts, 4 * int(steps)


def rk45(
    f: Field,
    x: torch.Tensor,
    t0: float,
    t1: float,
    rtol: float = 1e-5,
    atol: float = 1e-5,
):
    """Adaptive Dormand-Prince RK45: ``scipy.integrate.solve_ivp(method="RK45")``.

    The state is flattened to float64 for scipy and handed to ``f`` in its own shape and
    dtype. A step is accepted when the RMS of err / (atol + rtol * |x|) is <= 1; a step
    costs 6 evaluations (the last stage of one is the first of the next).

    Returns
    -------
    xs, ts: lists of accepted states (dtype of ``x``) and their times; n_evals: calls of f.
    """
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"rtol and atol must be > 0, got {rtol}, {atol}")
    if t1 == t0:
        return [x], [t0], 0
    shape, dtype = x.shape, x.dtype

    checked = False

    def rhs(t, y):
        nonlocal checked
        xt = torch.from_numpy(y).reshape(shape).to(dtype)
        dx = f(xt, float(t))
        if not checked:  # the first call: shape and finiteness
            check_field(dx, xt, "the field f (e.g. score_fn)")
            checked = True
        return dx.detach().double().reshape(-1).numpy()

    y0 = x.detach().double().reshape(-1).numpy()
    sol = solve_ivp(rhs, (t0, t1), y0, method="RK45", rtol=rtol, atol=atol)
    if sol.status != 0:
        raise FloatingPointError(f"RK45 failed: {sol.message}")
    xs = [
        torch.from_numpy(sol.y[:, i].copy()).reshape(shape).to(dtype) for i in range(sol.y.shape[1])
    ]
    return xs, [float(t) for t in sol.t], int(sol.nfev)
