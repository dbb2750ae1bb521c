"""Reverse-time samplers for a diffusion SDE: noise at t = T becomes data at t = eps.

One score s(x, t) ~ grad log p_t(x) drives all of them (Song et al. 2021):

- reverse SDE  dx = [f(x, t) - g(t)^2 s(x, t)] dt + g(t) dw_bar  (Euler-Maruyama, "em");
- predictor-corrector ("pc"): before each EM step, Langevin corrector steps at fixed t
  with step size 2 (snr |z| / |s|)^2, norms averaged over the batch (their Algorithm 4/5);
- probability flow ODE  dx/dt = f(x, t) - g(t)^2 s(x, t) / 2: the same marginals p_t,
  no noise after the start, so a deterministic noise-to-sample map ("ode": RK4 with fixed
  steps, "ode_adaptive": Dormand-Prince RK45).

``sde.sample`` is this module's :func:`sample`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from genmod import odes
from genmod.targets import as_points, check_n, generator
from genmod.trajectory import Trajectory

METHODS = ("em", "pc", "ode", "ode_adaptive")
LABELS = {"em": "reverse SDE (EM)", "pc": "predictor-corrector", "ode": "PF-ODE (RK4)"}
LABELS["ode_adaptive"] = "PF-ODE (RK45)"


def ode_velocity(score_fn: Callable, an_sde) -> Callable:
    """The probability flow ODE field v(x, t) = f(x, t) - g(t)^2 s(x, t) / 2."""

    def v(x, t):
        g2 = (an_sde.diffusion(t) ** 2).to(x.dtype)
        g2 = g2.reshape(-1, 1) if g2.ndim else g2
        return an_sde.drift(x, t) - 0.5 * g2 * score_fn(x, t)

    return v


def _langevin(score_fn, x, t, snr, g):
    s = score_fn(x, t)
    z = torch.randn(x.shape, generator=g)
    step = 2 * (snr * z.norm(dim=1).mean() / s.norm(dim=1).mean().clamp(min=1e-12)) ** 2
    return x + step * s + (2 * step).sqrt() * z


def sample(
    score_fn: Callable,
    an_sde,
    n: int,
    method: str = "pc",
    steps: int = 500,
    seed: int | None = 0,
    snr: float = 0.16,
    n_corrector: int = 1,
    eps: float = 1e-3,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    x_T=None,
) -> Trajectory:
    """Draw n samples by running time backwards from the prior at T to t = eps.

    Parameters
    ----------
    score_fn: ``score_fn(x, t)`` with x (n, 2) and t a float -> (n, 2) score.
    an_sde: a :class:`genmod.sde.SDE`.
    method: "em", "pc", "ode" (RK4, 4 score calls per step) or "ode_adaptive" (RK45;
        ``steps`` is ignored, rtol and atol set the accuracy).
    steps: number of time steps; snr, n_corrector: the Langevin corrector of "pc".
    x_T: optional (n, 2) start points (default: prior draws from ``seed``).

    Returns
    -------
    Trajectory, kind "map": xs (n_frames, n, 2), times (the t of each frame, T ... eps),
    n_evals = number of score_fn calls (each on the whole batch), extras["nfe"] the same.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    n = check_n(n)
    if method != "ode_adaptive":
        check_n(steps)
    if not 0 < eps < an_sde.T:
        raise ValueError(f"eps must be in (0, T), got {eps}")
    if snr <= 0 or n_corrector < 0:
        raise ValueError(f"need snr > 0 and n_corrector >= 0, got {snr}, {n_corrector}")
    g = generator(seed)
    x = an_sde.prior_sample(n, g) if x_T is None else as_points(x_T, "x_T").float().clone()
    if x.shape[0] != n:
        raise ValueError(f"x_T has {x.shape[0]} points, expected n={n}")
    T = an_sde.T
    with torch.no_grad():
        if method in ("ode", "ode_adaptive"):
            v = ode_velocity(score_fn, an_sde)
            if method == "ode":
                xs, ts, nfe = odes.rk4(v, x, T, eps, steps)
            else:
                xs, ts, nfe = odes.dopri5(v, x, T, eps, rtol=rtol, atol=atol)
        else:
            xs, ts, nfe = _reverse_sde(score_fn, an_sde, x, method, steps, snr, n_corrector, eps, g)
    xs = torch.stack(xs)
    if not torch.isfinite(xs[-1]).all():
        raise FloatingPointError(f"{method} sampler diverged; use more steps (or a smaller snr)")
    label = LABELS[method]
    extras = {"nfe": nfe, "method": method, "eps": eps}
    if method == "pc":
        extras.update(snr=snr, n_corrector=n_corrector)
    return Trajectory(xs, torch.tensor(ts).float(), "map", label, n_evals=nfe, extras=extras)


def _reverse_sde(score_fn, an_sde, x, method, steps, snr, n_corrector, eps, g):
    ts = torch.linspace(an_sde.T, eps, int(steps) + 1, dtype=torch.float64).tolist()
    xs, nfe = [x], 0
    for i in range(int(steps)):
        t, dt = ts[i], ts[i + 1] - ts[i]  # dt < 0: time runs backwards
        if method == "pc":
            for _ in range(n_corrector):
                x = _langevin(score_fn, x, t, snr, g)
                nfe += 1
        gt = float(an_sde.diffusion(t))
        mean = x + (an_sde.drift(x, t) - gt**2 * score_fn(x, t)) * dt
        nfe += 1
        # the last step returns the mean: no fresh noise at t = eps (Song et al.'s denoising)
        last = i == int(steps) - 1
        x = mean if last else mean + gt * abs(dt) ** 0.5 * torch.randn(x.shape, generator=g)
        xs.append(x)
    return xs, ts, nfe
