"""Exact log-likelihoods of a score model through the probability flow ODE.

Along the ODE dx/dt = v(x, t) the log density obeys d/dt log p_t(x_t) = -div v(x_t, t)
(the instantaneous change of variables, Chen et al. 2018), so for a point x at t = EPS

    log p_EPS(x) = log p_T(x_T) + int_EPS^T div v(x_t, t) dt,

with log p_T replaced by the prior's log density (the prior-mismatch error, small when
the SDE reaches its prior). The divergence is exact with d autograd passes (two in 2D);
Hutchinson's estimator E[z^T (dv/dx) z] (Rademacher z, fixed along the path, one pass
per probe) is what large models use, and with several probes we report its standard error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from genmod import odes
from genmod.arrays import as_points, check_n, generator
from genmod.guards import first_call_checked
from genmod.sde import EPS, SDE, ode_velocity


class LogLikelihood(NamedTuple):
    """logp: (n,) log density estimates; stderr: (n,) standard errors (0 when exact);
    nfe: score evaluations (each with its autograd passes); x_T: (n, d) end points."""

    logp: torch.Tensor
    stderr: torch.Tensor
    nfe: int
    x_T: torch.Tensor


def _divergences(v: torch.Tensor, x: torch.Tensor, probes: torch.Tensor | None) -> torch.Tensor:
    """(n, K) divergence values: K = 1 exact (trace of the d x d Jacobian), else one per probe."""
    if probes is None:
        rows = [
            torch.autograd.grad(v[:, i].sum(), x, retain_graph=True, create_graph=False)[0][:, i]
            for i in range(x.shape[1])
        ]
        return sum(rows[1:], rows[0])[:, None]
    out = []
    for z in probes:  # z: (n, d); z^T J z with one vector-Jacobian product
        (vjp,) = torch.autograd.grad((v * z).sum(), x, retain_graph=True)
        out.append((vjp * z).sum(1))
    return torch.stack(out, 1)


def log_likelihood(
    score_fn: Callable,
    an_sde: SDE,
    x,
    method: str = "exact",
    n_probes: int = 8,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    n_steps: int | None = None,
    seed: int | None = 0,
    t0: float = EPS,
) -> LogLikelihood:
    """log p_t0(x) of the model defined by score_fn, by integrating the PF-ODE from t0 to T.

    Parameters
    ----------
    score_fn: ``score_fn(x, t)``, differentiable in x (a ScoreModel, or sde.exact_score).
    x: (n, d) points (d = the score_fn's ``.dim`` when it has one).
    method: "exact" divergence (d autograd passes per evaluation) or "hutchinson" with
        ``n_probes`` Rademacher probes (one pass each: the choice for large d).
    n_steps: None for scipy's adaptive RK45 (rtol, atol), else that many RK4 steps.
    t0: the start time, ``sde.EPS`` by default: log p_EPS(x), the model's data density.
        A later t0 gives the density of the data noised to time t0 (x should then be
        noised points alpha_t0 x + sigma_t0 z), which skips the finest scales.

    Returns
    -------
    LogLikelihood(logp, stderr, nfe, x_T); for "hutchinson" logp is the mean over probes and
    stderr the standard deviation over probes / sqrt(n_probes).
    """
    if method not in ("exact", "hutchinson"):
        raise ValueError(f"method must be 'exact' or 'hutchinson', got {method!r}")
    if not EPS <= t0 < an_sde.T:
        raise ValueError(f"t0 must be in [EPS, T) = [{EPS}, {an_sde.T}), got {t0}")
    if method == "hutchinson" and (int(n_probes) != n_probes or n_probes < 2):
        raise ValueError(f"n_probes must be an integer >= 2, got {n_probes!r}")
    if not callable(score_fn):
        raise TypeError(f"score_fn must be a function score_fn(x, t), got {score_fn!r}")
    x = as_points(x, dim=getattr(score_fn, "dim", None), finite=True, min_n=1).detach()
    d = x.shape[1]
    score_fn = first_call_checked(score_fn, "score_fn")
    probes = None
    if method == "hutchinson":
        g = generator(seed)
        probes = 2.0 * torch.randint(0, 2, (int(n_probes), *x.shape), generator=g) - 1.0
        probes = probes.to(x.dtype)
    velocity = ode_velocity(score_fn, an_sde)

    def augmented(state, t):
        with torch.enable_grad():
            xt = state[:, :d].detach().requires_grad_(True)
            v = velocity(xt, t)
            div = _divergences(v, xt, probes)
        return torch.cat([v.detach(), div.detach()], 1)

    k = 1 if probes is None else int(n_probes)
    state = torch.cat([x, torch.zeros(x.shape[0], k, dtype=x.dtype)], 1)
    if n_steps is None:
        states, _, nfe = odes.rk45(augmented, state, t0, an_sde.T, rtol=rtol, atol=atol)
    else:
        states, _, nfe = odes.rk4(augmented, state, t0, an_sde.T, check_n(n_steps, "n_steps"))
    end = states[-1]
    x_T, delta = end[:, :d], end[:, d:]
    per_probe = an_sde.prior_log_prob(x_T)[:, None] + delta
    logp = per_probe.mean(1)
    stderr = per_probe.std(1) / math.sqrt(k) if k > 1 else torch.zeros_like(logp)
    return LogLikelihood(logp, stderr, nfe, x_T)
