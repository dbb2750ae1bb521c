"""Markov chain samplers, vectorized over many chains: RWM, MALA, HMC, ULA, NUTS and PT.

Every method moves ``n_chains`` independent chains at once (no Python loop over
chains) and returns a :class:`~genmod.trajectory.Trajectory` of kind ``"chain"``
holding every position, every proposal and every accept flag.

One step size convention for all methods: ``step_size`` (written h below) is the standard
deviation of the proposal noise (RWM, MALA, ULA) and the leapfrog step of HMC and NUTS,
so HMC with one leapfrog step *is* MALA with the same h.
ULA in the score-based literature is often written ``x + tau s(x) + sqrt(2 tau) z``:
that is ``step_size = sqrt(2 tau)`` here.

``step_size="auto"`` adapts h during ``warmup`` steps by dual averaging, as Stan does
(:mod:`genmod.adapt`); warm-up steps are stored, flagged (``Trajectory.warmup``) and left
out of :mod:`genmod.diagnostics` by default. The single steps live in :mod:`genmod.kernels`
(``sample`` is a loop over the ``STEPS`` table), NUTS in :mod:`genmod.nuts`, parallel
tempering (``"pt"``, its own loop over a temperature ladder) in :mod:`genmod.tempering`.

Costs are counted apart: ``extras["density_evals"]`` (log p) and ``extras["grad_evals"]``
(its gradient), what each algorithm needs, summed over chains, warm-up included.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from genmod import adapt, guards, nuts, tempering
from genmod.arrays import check_n, generator
from genmod.chain_record import ChainRecord
from genmod.densities import Target
from genmod.kernels import (  # noqa: F401  (re-exported: mcmc.mala_step etc.)
    MAX_ENERGY_ERROR,
    Step,
    dim_of,
    hmc_step,
    leapfrog,
    mala_step,
    rwm_step,
    start,
    ula_step,
)
from genmod.potentials import potential  # noqa: F401  (re-exported)
from genmod.trajectory import Trajectory

#: The one-step kernels with a fixed cost per step (what the older tests sweep over).
METHODS = ("rwm", "mala", "hmc", "ula")
#: Every method ``sample`` runs: the kernels, NUTS and parallel tempering.
ALL_METHODS = (*METHODS, "nuts", "pt")
_OPTIONS = {
    "rwm": (),
    "mala": (),
    "hmc": ("n_leapfrog", "store_paths"),
    "ula": (),
    "nuts": ("max_depth", "record_chain"),
    "pt": tempering.OPTIONS,
}


# One entry per method: (x, logp, grad, potential, step_size, options, generator) ->
# (Step, {name: (n, ...) per-step record}, (density evals, gradient evals) over all chains).
def _rwm(x, logp, grad, fn, step_size, opts, g):
    return rwm_step(x, logp, fn, step_size, g), {}, (x.shape[0], 0)


def _mala(x, logp, grad, fn, step_size, opts, g):
    drift = 0.5 * step_size * step_size * grad
    step = mala_step(x, logp, grad, fn, step_size, g, drift)
    return step, {"drift": drift}, (x.shape[0],) * 2


def _ula(x, logp, grad, fn, step_size, opts, g):
    drift = 0.5 * step_size * step_size * grad
    return ula_step(x, grad, fn, step_size, g), {"drift": drift}, (0, x.shape[0])


def _hmc(x, logp, grad, fn, step_size, opts, g):
    step, momenta, path = hmc_step(x, logp, grad, fn, step_size, opts["n_leapfrog"], g)
    n = x.shape[0]
    return step, {"momenta": momenta, "paths": path}, (n, n * opts["n_leapfrog"])


def _nuts(x, logp, grad, fn, step_size, opts, g):
    step, rec = nuts.step(x, logp, grad, fn, step_size, opts["max_depth"], g, opts["record_chain"])
    n_lf = int(rec["n_leapfrog"].sum())
    return step, rec, (n_lf, n_lf)


STEPS = {"rwm": _rwm, "mala": _mala, "hmc": _hmc, "ula": _ula, "nuts": _nuts}


def _check(method, n_chains, n_steps, step_size, warmup, options):
    if method not in ALL_METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(ALL_METHODS)}")
    n_chains, n_steps = check_n(n_chains, "n_chains"), check_n(n_steps, "n_steps")
    warmup = check_n(warmup, "warmup", allow_zero=True)
    if isinstance(step_size, str):
        if step_size != "auto":
            raise ValueError(f"step_size must be a number > 0 or 'auto', got {step_size!r}")
        if warmup == 0:
            raise ValueError(
                "step_size='auto' adapts during the warm-up: give warmup > 0 (e.g. warmup=500)"
            )
    else:
        try:
            step_size = float(step_size)
        except (TypeError, ValueError):
            raise ValueError(f"step_size must be a number or 'auto', got {step_size!r}") from None
        if not math.isfinite(step_size) or step_size <= 0:
            raise ValueError(f"step_size must be finite and > 0, got {step_size!r}")
    unknown = set(options) - set(_OPTIONS[method])
    if unknown:
        valid = ", ".join(_OPTIONS[method]) or "none"
        raise ValueError(f"unknown options {sorted(unknown)} for {method!r}; valid: {valid}")
    opts = dict(options)
    if method == "hmc":
        opts["n_leapfrog"] = check_n(options.get("n_leapfrog", 10), "n_leapfrog")
        opts["store_paths"] = bool(options.get("store_paths", True))
    if method == "nuts":
        opts["max_depth"] = nuts.check_depth(options.get("max_depth", nuts.MAX_DEPTH))
        chain = options.get("record_chain", 0)
        if chain is not None:  # a chain index 0 .. n_chains - 1 (numpy integers too)
            if check_n(chain, "record_chain", allow_zero=True) >= n_chains:
                raise ValueError(
                    f"record_chain must be None or a chain index < {n_chains}, got {chain!r}"
                )
            chain = int(chain)
        opts["record_chain"] = chain
    return n_chains, n_steps, step_size, int(warmup), opts


def _potential(target, score, method):
    if target is None and method != "ula":
        raise ValueError(f"method {method!r} needs a target (only 'ula' runs on a score alone)")
    if score is not None and not callable(score):
        raise ValueError("score must be callable")
    if method == "ula":  # ULA never needs log p
        return potential(None if score is not None else target, score)
    return potential(target, score=score, need_grad=method != "rwm")


def _first_step(method, x, logp, grad, fn, opts, target_accept, costs, g):
    """Hoffman & Gelman's heuristic first h, then the dual-averaging state (chains stay put)."""

    def accept_prob_at(h):
        s, _, (d, gr) = STEPS[method](x, logp, grad, fn, h, opts, g)
        costs[0] += d
        costs[1] += gr
        return float(s.accept_prob.mean())

    return adapt.DualAveraging(adapt.initial_step(accept_prob_at), target_accept)


def sample(
    target: Target | None,
    method: str = "mala",
    n_chains: int = 256,
    n_steps: int = 500,
    step_size: float | str = 0.1,
    seed: int | None = 0,
    x0=None,
    score: Callable[[torch.Tensor], torch.Tensor] | None = None,
    warmup: int = 0,
    target_accept: float | None = None,
    **method_options,
) -> Trajectory:
    """Run ``n_chains`` chains of ``method`` for ``warmup + n_steps`` steps.

    Work is bounded (:mod:`genmod.guards`: ``n_leapfrog`` <= 1024, NUTS's ``max_depth`` <= 10,
    steps x n_leapfrog and the stored positions limited, with a clear error); a
    ``RuntimeWarning`` is issued once when, after the warm-up, most proposals diverge or no
    chain moves.

    Parameters
    ----------
    target: the Target (log_prob and score). May be None for ``"ula"`` when
        ``score`` and ``x0`` are given (ULA needs no density).
    method: ``"rwm"``, ``"mala"``, ``"hmc"``, ``"ula"``, ``"nuts"`` or ``"pt"``.
    step_size: > 0; proposal noise std (RWM, MALA, ULA), leapfrog step (HMC, NUTS); or
        ``"auto"``: dual averaging during the warm-up (needs ``warmup > 0``).
    seed: seeds the chain's own torch.Generator.
    x0: (n_chains, d) or (d,) start; None: uniform over ``target.bounds`` (an
        overdispersed start, drawn with the seed).
    score: x (n, d) -> (n, d), used instead of ``target.score`` (e.g. a learned score
        at one noise level, ``model.score``).
    warmup: steps run (and stored) before the ``n_steps`` kept ones; with a number as
        step_size they are a flagged burn-in.
    target_accept: the acceptance rate ``"auto"`` aims at, in (0, 1); default per method
        (:data:`genmod.adapt.TARGET_ACCEPT`, RWM by dimension).
    method_options: HMC: ``n_leapfrog`` (default 10), ``store_paths`` (default True);
        NUTS: ``max_depth`` (default 10), ``record_chain`` (default 0); PT: see
        :func:`genmod.tempering.sample`.

    Returns
    -------
    Trajectory(kind="chain", warmup=W): xs (W + n_steps + 1, n_chains, d) float32 with
    xs[0] = x0 and xs[1..W] the warm-up; proposals (W + n_steps, n_chains, d); accepted
    (W + n_steps, n_chains) bool; n_evals: points where the target was evaluated (log p
    and/or its gradient), all chains, warm-up and step-size search included.
    extras: ``method``, ``step_size`` (the adapted h after an "auto" warm-up),
    ``step_size_trace`` (W,) and ``target_accept`` when adapted, ``warmup``,
    ``divergences`` (int, after the warm-up), ``divergent`` (W + n_steps, n_chains) bool,
    ``accept_prob`` (W + n_steps, n_chains), ``evals_per_chain``, ``density_evals``,
    ``grad_evals``, ``seconds`` (wall time); MALA and ULA: ``drift``, the gradient term
    (h^2 / 2) score(x) of each proposal (an overflowing drift is stored as 0);
    HMC: ``n_leapfrog``, ``momenta`` initial momenta and, if stored, ``paths``
    (W + n_steps, n_leapfrog + 1, n_chains, d) (paths[k, 0] = xs[k], paths[k, -1] =
    proposals[k]); NUTS: see :func:`genmod.nuts.step`.
    """
    clock = time.perf_counter()
    n, n_steps, step_size, warmup, opts = _check(
        method, n_chains, n_steps, step_size, warmup, method_options
    )
    if target is None and method != "ula":
        raise ValueError(f"method {method!r} needs a target (only 'ula' runs on a score alone)")
    if target is None and x0 is None:
        raise ValueError("x0 is required when target is None")
    dim = None if target is None else dim_of(target)
    x0 = None if x0 is None else guards.check_start(x0, n, "x0", dim)
    dim = x0.shape[1] if dim is None else dim
    n_leap, paths = opts.get("n_leapfrog", 1), opts.get("store_paths", False)
    guards.check_work(warmup + n_steps, n, n_leap, paths, dim)
    if method == "pt":
        traj = tempering.sample(
            target, n, n_steps, step_size, seed, x0, warmup, target_accept, score, **opts
        )
        return _report(traj, len(traj.extras["temperatures"]))
    auto = step_size == "auto"
    accept_goal = adapt.target_accept(method, dim, target_accept) if auto else None
    if target_accept is not None and not auto:
        adapt.target_accept(method, dim, target_accept)  # still checked
    fn = _potential(target, score, method)
    g = generator(seed)
    x = start(target, x0, n, g)
    logp, grad = fn(x)
    costs = [0 if method == "ula" else n, 0 if method == "rwm" else n]
    da = _first_step(method, x, logp, grad, fn, opts, accept_goal, costs, g) if auto else None
    run = ChainRecord(n_total=warmup + n_steps, x=x, keep=opts)
    trace = []
    for k in range(run.n_total):
        h = step_size if da is None else (da.step_size if k < warmup else da.final())
        s, rec, (d, gr) = STEPS[method](x, logp, grad, fn, h, opts, g)
        costs[0] += d
        costs[1] += gr
        if da is not None and k < warmup:
            trace.append(h)
            da.update(float(s.accept_prob.mean()))
        run.store(k, s, rec)
        x, logp, grad = s.x, s.logp, s.grad
    extras = {"method": method, "step_size": step_size if da is None else da.final()}
    if auto:
        extras.update(step_size_trace=torch.tensor(trace), target_accept=accept_goal)
    if method in ("hmc", "nuts"):
        extras["n_leapfrog" if method == "hmc" else "max_depth"] = opts.get(
            "n_leapfrog", opts.get("max_depth")
        )
    return _report(run.trajectory(method, warmup, costs, extras, time.perf_counter() - clock))


def _report(traj: Trajectory, n_levels: int = 1) -> Trajectory:
    """Warn once (:func:`genmod.guards.warn_chain_trouble`) when, after the warm-up, most
    proposals diverged or no chain moved; n_levels: PT's temperatures (every level's local
    moves are proposals, and ``extras["divergences"]`` counts them all)."""
    kept = traj.xs[traj.warmup :]
    n_proposals = (kept.shape[0] - 1) * kept.shape[1] * n_levels
    moved = (kept != kept[0]).any(-1).any(0)
    guards.warn_chain_trouble(traj.label, traj.extras["divergences"], n_proposals, moved)
    return traj
