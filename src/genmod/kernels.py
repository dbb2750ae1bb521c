"""One step of every chain at once: the Markov kernels behind :mod:`genmod.mcmc`.

Small pure functions of the current state and a ``torch.Generator`` (``rwm_step``,
``mala_step``, ``hmc_step``, ``leapfrog``, ``ula_step``); :func:`genmod.mcmc.sample`
loops them over time, :mod:`genmod.tempering` and :mod:`genmod.nuts` reuse them.
Shapes: n chains in d dimensions, x (n, d). ``step_size`` (h) is a float, or an (n, 1)
tensor (one step per chain: parallel tempering gives each temperature its own).

A proposal that is not finite (or whose log density or gradient is not) is rejected
and counted as a *divergence*: NaN never enters a chain. Every step also returns its
Metropolis acceptance probability min(1, alpha), the statistic step-size adaptation
steers (:mod:`genmod.adapt`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from genmod.arrays import uniform_box
from genmod.guards import check_start
from genmod.potentials import Potential

#: HMC and NUTS: an energy error above this counts as a divergence (Stan's default threshold).
MAX_ENERGY_ERROR = 1000.0


class Step(NamedTuple):
    """One step of every chain. Shapes for n chains in d dimensions.

    x: (n, d) new positions; logp: (n,) log density there (None for ULA);
    grad: (n, d) score there (None for RWM); proposal: (n, d);
    accepted, divergent: (n,) bool; accept_prob: (n,) min(1, alpha), 0 where divergent
    (ULA: 1 where finite).
    """

    x: torch.Tensor
    logp: torch.Tensor | None
    grad: torch.Tensor | None
    proposal: torch.Tensor
    accepted: torch.Tensor
    divergent: torch.Tensor
    accept_prob: torch.Tensor


def randn(like: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Standard normal draws shaped like ``like``, reproducible on every CPU.

    Drawn in float64, then cast: torch's float32 normal sampler has a vectorized (AVX2)
    path whose rounding differs from the default one, so float32 draws would change with
    the CPU; float64 draws are the same everywhere, and so are the chains.
    """
    return torch.randn(like.shape, generator=g, dtype=torch.float64).to(like.dtype)


def finite_rows(*arrays) -> torch.Tensor:
    """(n,) True where every given (n,) or (n, k) array is finite in that row."""
    total = _row_sum(arrays)
    return (total - total) == 0


def broken_rows(*arrays) -> torch.Tensor:
    """(n,) True where some given (n,) or (n, k) array has an inf or NaN in that row.

    One test on a sum: any inf or NaN in a row makes the row's sum non-finite, and
    t - t is 0 exactly when t is finite (NaN otherwise): two operations, where
    ~isfinite takes five.
    """
    total = _row_sum(arrays)
    return (total - total) != 0


def _row_sum(arrays) -> torch.Tensor:
    total = None
    for a in arrays:
        a = a.sum(-1) if a.ndim == 2 else a
        total = a if total is None else total + a
    return total


def metropolis(x, logp, grad, y, logp_y, grad_y, log_alpha, divergent, g) -> Step:
    """Accept y where log u < log alpha and the proposal is sound; keep x elsewhere."""
    log_u = torch.log(torch.rand(x.shape[0], generator=g, dtype=x.dtype))
    # log alpha with NaN and divergent rows at -inf: never accepted, probability 0
    log_alpha = torch.nan_to_num(log_alpha, nan=-torch.inf).masked_fill_(divergent, -torch.inf)
    acc = log_u < log_alpha
    # one full (n, d) mask for both choices: where() with an (n, 1) mask broadcast over d
    # runs a loop of d per row, three times slower at d = 2 (stack builds it fastest)
    rows = acc[:, None] if grad is None else torch.stack((acc,) * x.shape[1], 1)
    x_new = torch.where(rows, y, x)
    logp_new = torch.where(acc, logp_y, logp)
    grad_new = None if grad is None else torch.where(rows, grad_y, grad)
    prob = log_alpha.clamp_(max=0).exp()  # min(1, alpha)
    return Step(x_new, logp_new, grad_new, y, acc, divergent, prob)


def rwm_step(x, logp, fn: Potential, step_size, g: torch.Generator) -> Step:
    """Random-walk Metropolis: propose y = x + h z, accept with min(1, p(y) / p(x)).

    x: (n, d); logp: (n,) log p(x); fn: see :func:`~genmod.potentials.potential`.
    """
    y = x + step_size * randn(x, g)
    logp_y, _ = fn(y)
    div = broken_rows(y, logp_y)
    return metropolis(x, logp, None, y, logp_y, None, logp_y - logp, div, g)


def mala_step(x, logp, grad, fn: Potential, step_size, g: torch.Generator, drift=None) -> Step:
    """Metropolis-adjusted Langevin: y = x + (h^2 / 2) grad log p(x) + h z, then MH.

    The proposal is not symmetric, so the Hastings ratio adds
    log q(x | y) - log q(y | x) with q(y | x) = N(y; x + h^2/2 grad(x), h^2 I).
    x: (n, d); logp: (n,); grad: (n, d) score at x; drift: (h^2 / 2) grad if the caller
    has it already.
    """
    half = 0.5 * step_size * step_size
    z = randn(x, g)
    y = x + (half * grad if drift is None else drift) + step_size * z
    logp_y, grad_y = fn(y)
    # forward residual is h z exactly; backward residual is x - y - (h^2/2) grad(y);
    # log q = |z|^2 / 2 - |back|^2 / (2 h^2), summed over coordinates once
    back = x - y - half * grad_y
    if isinstance(step_size, torch.Tensor):  # (n, 1): one step per chain
        log_q = (0.5 * z * z - back * back / (2 * step_size * step_size)).sum(1)
    else:
        log_q = torch.addcmul(0.5 * z * z, back, back, value=-1 / (2 * step_size * step_size))
        log_q = log_q.sum(1)
    div = broken_rows(y, logp_y, grad_y)
    return metropolis(x, logp, grad, y, logp_y, grad_y, logp_y - logp + log_q, div, g)


def leapfrog(x, p, grad, fn: Potential, step_size, n_leapfrog: int):
    """Leapfrog integration of Hamilton's equations for H = -log p(x) + |p|^2 / 2.

    Volume preserving and reversible: running it again from the end with ``-p``
    returns to the start (up to rounding).

    Returns
    -------
    x, p: (n, d) end position and momentum; logp: (n,) and grad: (n, d) at the end;
    path: (n_leapfrog + 1, n, d) positions, path[0] = x at the start.
    """
    path = x.new_empty((n_leapfrog + 1, *x.shape))
    path[0] = x
    p = p + 0.5 * step_size * grad
    logp = None
    for i in range(n_leapfrog):
        x = x + step_size * p
        path[i + 1] = x
        logp, grad = fn(x)
        p = p + (step_size if i < n_leapfrog - 1 else 0.5 * step_size) * grad
    return x, p, logp, grad, path


def hmc_step(
    x, logp, grad, fn: Potential, step_size, n_leapfrog: int, g: torch.Generator
) -> tuple[Step, torch.Tensor, torch.Tensor]:
    """Hamiltonian Monte Carlo: fresh momentum p ~ N(0, I), leapfrog, accept on energy.

    Returns the Step, the initial momenta (n, d) and the leapfrog path
    (n_leapfrog + 1, n, d). An energy error above ``MAX_ENERGY_ERROR`` or a
    non-finite end point is a divergence.
    """
    p0 = randn(x, g)
    y, p1, logp_y, grad_y, path = leapfrog(x, p0, grad, fn, step_size, n_leapfrog)
    # log alpha = H(x, p0) - H(y, p1)
    log_alpha = logp_y - logp + 0.5 * ((p0 * p0).sum(1) - (p1 * p1).sum(1))
    div = broken_rows(y, logp_y, grad_y, log_alpha) | (log_alpha < -MAX_ENERGY_ERROR)
    step = metropolis(x, logp, grad, y, logp_y, grad_y, log_alpha, div, g)
    if div.any():  # keep stored paths finite: a diverged path stays at its start
        bad = ~torch.isfinite(path).all(-1)
        path = torch.where(bad[..., None], x.expand_as(path), path)
    return step, p0, path


def ula_step(x, grad, fn: Potential, step_size, g: torch.Generator) -> Step:
    """Unadjusted Langevin: x + (h^2 / 2) score(x) + h z, always taken (no MH test).

    Its stationary law is close to, not equal to, the target: the bias grows with h.
    x, grad: (n, d), grad = score(x); fn (a potential) gives the score at the new point.
    """
    half = 0.5 * step_size * step_size
    y = x + half * grad + step_size * randn(x, g)
    _, grad_y = fn(y)
    ok = finite_rows(y, grad_y)
    x_new = torch.where(ok[:, None], y, x)
    grad_new = torch.where(ok[:, None], grad_y, grad)
    return Step(x_new, None, grad_new, y, ok, ~ok, ok.to(x.dtype))


def start(target, x0, n_chains: int, g: torch.Generator) -> torch.Tensor:
    """Starting points (n_chains, d): ``x0`` checked and broadcast, or uniform over the box.

    x0: None (uniform over ``target.box``: an overdispersed start, drawn with ``g``),
    (d,) (every chain starts there) or (n_chains, d).
    """
    if x0 is None:
        if target is None:
            raise ValueError("x0 is required when target is None")
        return uniform_box(target.box, n_chains, g)  # overdispersed: the whole start box
    return check_start(x0, n_chains, "x0", None if target is None else dim_of(target))


def dim_of(target) -> int:
    """The target's dimension: its ``dim`` if it has one, else the number of bounds."""
    return int(getattr(target, "dim", len(target.bounds)))
