"""Markov chain samplers, vectorized over many chains: RWM, MALA, HMC and ULA.

Every method moves ``n_chains`` independent chains at once (no Python loop over
chains) and returns a :class:`~genmod.trajectory.Trajectory` of kind ``"chain"``
holding every position, every proposal and every accept flag.

One step size convention for all methods: ``step_size`` (written h below) is the standard
deviation of the proposal noise (RWM, MALA, ULA) and the leapfrog step of HMC,
so HMC with one leapfrog step *is* MALA with the same h.
ULA in the score-based literature is often written ``x + tau s(x) + sqrt(2 tau) z``:
that is ``step_size = sqrt(2 tau)`` here.

The single steps are small pure functions (``rwm_step``, ``mala_step``,
``hmc_step``, ``leapfrog``, ``ula_step``) of the current state and a
``torch.Generator``; ``sample`` just loops them over time.
A proposal that is not finite (or whose log density or gradient is not) is
rejected and counted as a *divergence*: NaN never enters a chain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from genmod import guards
from genmod.arrays import check_n, generator, uniform_box
from genmod.densities import Target
from genmod.potentials import Potential, potential
from genmod.trajectory import Trajectory

METHODS = ("rwm", "mala", "hmc", "ula")
_OPTIONS = {"rwm": (), "mala": (), "hmc": ("n_leapfrog", "store_paths"), "ula": ()}
#: HMC: an energy error above this counts as a divergence (Stan's default threshold).
MAX_ENERGY_ERROR = 1000.0


class Step(NamedTuple):
    """One step of every chain. Shapes for n chains.

    x: (n, 2) new positions; logp: (n,) log density there (None for ULA);
    grad: (n, 2) score there (None for RWM); proposal: (n, 2);
    accepted, divergent: (n,) bool.
    """

    x: torch.Tensor
    logp: torch.Tensor | None
    grad: torch.Tensor | None
    proposal: torch.Tensor
    accepted: torch.Tensor
    divergent: torch.Tensor


def _randn(like: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    # drawn in float64, then cast: torch's float32 normal sampler has a vectorized (AVX2)
    # path whose rounding differs from the default one, so float32 draws would change with
    # the CPU; float64 draws are the same everywhere, and so are the chains.
    return torch.randn(like.shape, generator=g, dtype=torch.float64).to(like.dtype)


def _finite_rows(*arrays) -> torch.Tensor:
    """(n,) True where every given (n,) or (n, k) array is finite in that row.

    One isfinite on a sum: any inf or NaN in a row makes the row's sum non-finite.
    """
    total = 0.0
    for a in arrays:
        total = total + (a.sum(-1) if a.ndim == 2 else a)
    return torch.isfinite(total)


def _metropolis(x, logp, grad, y, logp_y, grad_y, log_alpha, divergent, g) -> Step:
    """Accept y where log u < log alpha and the proposal is sound; keep x elsewhere."""
    log_u = torch.log(torch.rand(x.shape[0], generator=g, dtype=x.dtype))
    acc = (log_u < log_alpha) & ~divergent
    a2 = acc[:, None]
    x_new = torch.where(a2, y, x)
    logp_new = torch.where(acc, logp_y, logp)
    grad_new = None if grad is None else torch.where(a2, grad_y, grad)
    return Step(x_new, logp_new, grad_new, y, acc, divergent)


def rwm_step(x, logp, fn: Potential, step_size: float, g: torch.Generator) -> Step:
    """Random-walk Metropolis: propose y = x + h z, accept with min(1, p(y) / p(x)).

    x: (n, 2); logp: (n,) log p(x); fn: see :func:`potential` (gradient unused).
    """
    y = x + step_size * _randn(x, g)
    logp_y, _ = fn(y)
    div = ~_finite_rows(y, logp_y)
    return _metropolis(x, logp, None, y, logp_y, None, logp_y - logp, div, g)


def mala_step(x, logp, grad, fn: Potential, step_size: float, g: torch.Generator) -> Step:
    """Metropolis-adjusted Langevin: y = x + (h^2 / 2) grad log p(x) + h z, then MH.

    The proposal is not symmetric, so the Hastings ratio adds
    log q(x | y) - log q(y | x) with q(y | x) = N(y; x + h^2/2 grad(x), h^2 I).
    x: (n, 2); logp: (n,); grad: (n, 2) score at x.
    """
    half = 0.5 * step_size * step_size
    z = _randn(x, g)
    y = x + half * grad + step_size * z
    logp_y, grad_y = fn(y)
    # forward residual is h z exactly; backward residual is x - y - (h^2/2) grad(y)
    back = x - y - half * grad_y
    log_q = (z * z).sum(1) * 0.5 - (back * back).sum(1) / (2 * step_size * step_size)
    div = ~_finite_rows(y, logp_y, grad_y)
    return _metropolis(x, logp, grad, y, logp_y, grad_y, logp_y - logp + log_q, div, g)


def leapfrog(x, p, grad, fn: Potential, step_size: float, n_leapfrog: int):
    """Leapfrog integration of Hamilton's equations for H = -log p(x) + |p|^2 / 2.

    Volume preserving and reversible: running it again from the end with ``-p``
    returns to the start (up to rounding).

    Returns
    -------
    x, p: (n, 2) end position and momentum; logp: (n,) and grad: (n, 2) at the end;
    path: (n_leapfrog + 1, n, 2) positions, path[0] = x at the start.
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
    x, logp, grad, fn: Potential, step_size: float, n_leapfrog: int, g: torch.Generator
) -> tuple[Step, torch.Tensor, torch.Tensor]:
    """Hamiltonian Monte Carlo: fresh momentum p ~ N(0, I), leapfrog, accept on energy.

    Returns the Step, the initial momenta (n, 2) and the leapfrog path
    (n_leapfrog + 1, n, 2). An energy error above ``MAX_ENERGY_ERROR`` or a
    non-finite end point is a divergence.
    """
    p0 = _randn(x, g)
    y, p1, logp_y, grad_y, path = leapfrog(x, p0, grad, fn, step_size, n_leapfrog)
    # log alpha = H(x, p0) - H(y, p1)
    log_alpha = logp_y - logp + 0.5 * ((p0 * p0).sum(1) - (p1 * p1).sum(1))
    div = ~_finite_rows(y, logp_y, grad_y, log_alpha) | (log_alpha < -MAX_ENERGY_ERROR)
    step = _metropolis(x, logp, grad, y, logp_y, grad_y, log_alpha, div, g)
    if div.any():  # keep stored paths finite: a diverged path stays at its start
        bad = ~torch.isfinite(path).all(-1)
        path = torch.where(bad[..., None], x.expand_as(path), path)
    return step, p0, path


def ula_step(x, grad, fn: Potential, step_size: float, g: torch.Generator) -> Step:
    """Unadjusted Langevin: x + (h^2 / 2) score(x) + h z, always taken (no MH test).

    Its stationary law is close to, not equal to, the target: the bias grows with h.
    x, grad: (n, 2), grad = score(x); fn (a potential) gives the score at the new point.
    """
    half = 0.5 * step_size * step_size
    y = x + half * grad + step_size * _randn(x, g)
    _, grad_y = fn(y)
    ok = _finite_rows(y, grad_y)
    x_new = torch.where(ok[:, None], y, x)
    grad_new = torch.where(ok[:, None], grad_y, grad)
    return Step(x_new, None, grad_new, y, ok, ~ok)


def _check(method, n_chains, n_steps, step_size, options):
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
    for name, v in (("n_chains", n_chains), ("n_steps", n_steps)):
        if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v or v <= 0:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    try:
        step = float(step_size)
    except (TypeError, ValueError):
        raise ValueError(f"step_size must be a number, got {step_size!r}") from None
    if not math.isfinite(step) or step <= 0:
        raise ValueError(f"step_size must be finite and > 0, got {step_size!r}")
    unknown = set(options) - set(_OPTIONS[method])
    if unknown:
        valid = ", ".join(_OPTIONS[method]) or "none"
        raise ValueError(f"unknown options {sorted(unknown)} for {method!r}; valid: {valid}")
    n_leap = options.get("n_leapfrog", 10)
    if isinstance(n_leap, bool) or int(n_leap) != n_leap or n_leap <= 0:
        raise ValueError(f"n_leapfrog must be a positive integer, got {n_leap!r}")
    return int(n_chains), int(n_steps), step, int(n_leap)


def _start(target, x0, n_chains, g) -> torch.Tensor:
    if x0 is None:
        if target is None:
            raise ValueError("x0 is required when target is None")
        return uniform_box(target.bounds, n_chains, g)  # overdispersed: the whole plot box
    x0 = torch.as_tensor(x0, dtype=torch.float32).detach()
    if x0.shape == (2,):
        x0 = x0.expand(n_chains, 2)
    if x0.shape != (n_chains, 2):
        raise ValueError(f"x0 must have shape ({n_chains}, 2) or (2,), got {tuple(x0.shape)}")
    if not torch.isfinite(x0).all():
        raise ValueError("x0 has non-finite values")
    return x0.clone()


# One entry per method: (x, logp, grad, potential, step_size, n_leapfrog, generator) ->
# (Step, {name: (n, ...) per-step record}). ``sample`` stores each record over time.
def _rwm(x, logp, grad, fn, step_size, n_leap, g):
    return rwm_step(x, logp, fn, step_size, g), {}


def _mala(x, logp, grad, fn, step_size, n_leap, g):
    drift = 0.5 * step_size * step_size * grad
    return mala_step(x, logp, grad, fn, step_size, g), {"drift": drift}


def _ula(x, logp, grad, fn, step_size, n_leap, g):
    drift = 0.5 * step_size * step_size * grad
    return ula_step(x, grad, fn, step_size, g), {"drift": drift}


def _hmc(x, logp, grad, fn, step_size, n_leap, g):
    step, momenta, path = hmc_step(x, logp, grad, fn, step_size, n_leap, g)
    return step, {"momenta": momenta, "paths": path}


STEPS = {"rwm": _rwm, "mala": _mala, "hmc": _hmc, "ula": _ula}


def sample(
    target: Target | None,
    method: str = "mala",
    n_chains: int = 256,
    n_steps: int = 500,
    step_size: float = 0.1,
    seed: int | None = 0,
    x0=None,
    score: Callable[[torch.Tensor], torch.Tensor] | None = None,
    **method_options,
) -> Trajectory:
    """Run ``n_chains`` chains of ``method`` for ``n_steps`` steps.

    Work is bounded (:mod:`genmod.guards`: ``n_leapfrog`` <= 1024, n_steps x n_leapfrog and
    the stored positions limited, with a clear error); a ``RuntimeWarning`` is issued once
    when most proposals diverge or no chain moves.

    Parameters
    ----------
    target: the Target (log_prob and score). May be None for ``"ula"`` when
        ``score`` and ``x0`` are given (ULA needs no density).
    method: ``"rwm"``, ``"mala"``, ``"hmc"`` or ``"ula"``.
    step_size: > 0; proposal noise std (RWM, MALA, ULA), leapfrog step (HMC).
    seed: seeds the chain's own torch.Generator.
    x0: (n_chains, 2) or (2,) start; None: uniform over ``target.bounds`` (an
        overdispersed start, drawn with the seed).
    score: x (n, 2) -> (n, 2), used instead of ``target.score`` (e.g. a learned score
        at one noise level, ``model.score``).
    method_options: HMC only: ``n_leapfrog`` (default 10), ``store_paths`` (default True).

    Returns
    -------
    Trajectory(kind="chain"): xs (n_steps + 1, n_chains, 2) float32 with xs[0] = x0;
    proposals (n_steps, n_chains, 2); accepted (n_steps, n_chains) bool;
    n_evals: target evaluations over all chains (one evaluation = log p and/or its
    gradient at one point; HMC costs n_leapfrog per step, the others 1, plus 1 at the start).
    extras: ``method``, ``step_size``, ``divergences`` (int), ``divergent``
    (n_steps, n_chains) bool, ``evals_per_chain``; MALA and ULA: ``drift``
    (n_steps, n_chains, 2), the gradient term (step^2 / 2) score(x) of each proposal
    (the proposal is N(x + drift, step^2 I); an overflowing drift is stored as 0);
    HMC: ``n_leapfrog``, ``momenta`` (n_steps, n_chains, 2) initial momenta and, if stored,
    ``paths`` (n_steps, n_leapfrog + 1, n_chains, 2) leapfrog positions (paths[k, 0] = xs[k],
    paths[k, -1] = proposals[k]).
    """
    n_chains, n_steps = check_n(n_chains, "n_chains"), check_n(n_steps, "n_steps")
    n, n_steps, step_size, n_leap = _check(method, n_chains, n_steps, step_size, method_options)
    x0 = None if x0 is None else guards.check_start(x0, n)
    guards.check_work(
        n_steps,
        n,
        n_leap if method == "hmc" else 1,
        method == "hmc" and bool(method_options.get("store_paths", True)),
    )
    if target is None and method != "ula":
        raise ValueError(f"method {method!r} needs a target (only 'ula' runs on a score alone)")
    if target is None and x0 is None:
        raise ValueError("x0 is required when target is None")
    if score is not None and not callable(score):
        raise ValueError("score must be callable")
    g = generator(seed)
    x = _start(target, x0, n, g)
    if method == "ula":  # ULA never needs log p
        fn = potential(None if score is not None else target, score)
    else:
        fn = potential(target, score=score, need_grad=method != "rwm")
    keep_paths = method == "hmc" and bool(method_options.get("store_paths", True))

    xs = torch.empty((n_steps + 1, n, 2))
    props = torch.empty((n_steps, n, 2))
    acc = torch.empty((n_steps, n), dtype=torch.bool)
    div = torch.empty((n_steps, n), dtype=torch.bool)
    records: dict[str, torch.Tensor] = {}
    xs[0] = x
    logp, grad = fn(x)
    for k in range(n_steps):
        s, rec = STEPS[method](x, logp, grad, fn, step_size, n_leap, g)
        for name, value in rec.items():
            if name != "paths" or keep_paths:
                records.setdefault(name, value.new_empty((n_steps, *value.shape)))[k] = value
        x, logp, grad = s.x, s.logp, s.grad
        xs[k + 1] = x
        # keep stored proposals finite: a diverged proposal is shown at the current point
        props[k] = (
            s.proposal
            if not s.divergent.any()
            else torch.where(s.divergent[:, None], xs[k], s.proposal)
        )
        acc[k], div[k] = s.accepted, s.divergent
    evals = 1 + n_steps * (n_leap if method == "hmc" else 1)
    extras = {"method": method, "step_size": step_size, **records}
    if method == "hmc":
        extras["n_leapfrog"] = n_leap
    if "drift" in extras:
        extras["drift"] = torch.nan_to_num(extras["drift"], nan=0.0, posinf=0.0, neginf=0.0)
    extras.update(divergences=int(div.sum()), divergent=div, evals_per_chain=evals)
    guards.warn_chain_trouble(method.upper(), div, (xs != xs[0]).any(-1).any(0))
    return Trajectory(
        xs,
        kind="chain",
        label=method.upper(),
        proposals=props,
        accepted=acc,
        n_evals=evals * n,
        extras=extras,
    )
