"""Parallel tempering (replica exchange): chains at several temperatures that trade places.

Level k samples the tempered density p(x)^(1 / T_k), T_0 = 1 < T_1 < ... < T_{K-1}: the
higher T, the flatter the density, so hot chains cross between modes that trap a chain at
T = 1. After every local move (MALA on p^(1/T), one step size per level) neighbouring
levels propose to swap their states; with beta = 1 / T the swap of x (at k) and y (at
k + 1) is accepted with probability

    min(1, exp((beta_k - beta_{k+1}) (log p(y) - log p(x))))

which keeps the product of the tempered densities invariant (Swendsen & Wang 1986; Geyer
1991). Pairs alternate: even pairs (0-1, 2-3, ...) on even steps, odd pairs on odd steps,
the non-reversible "deterministic even-odd" scheme of Syed et al. (2022, JRSS-B 84),
which moves a state up and down the ladder faster than random pair choices.

Only the T = 1 chains sample the target; the others are the means to an end.
Compare noise scales (:mod:`genmod.langevin`): tempering flattens by a power of the
density, noise flattens by convolution (``GaussianMixture.perturbed``).
"""

from __future__ import annotations

import time

import torch

from genmod import adapt
from genmod.arrays import check_n, generator
from genmod.guards import check_real, check_work
from genmod.kernels import dim_of, mala_step, start
from genmod.potentials import potential
from genmod.trajectory import Trajectory

OPTIONS = ("n_temperatures", "temperatures", "max_temperature")
#: Default ladder: geometric from 1 to this (hot enough to flatten a 25-nat barrier, the
#: separated mixture's, to about 1 nat).
MAX_TEMPERATURE = 20.0


def ladder(n_temperatures: int = 8, max_temperature: float = MAX_TEMPERATURE) -> torch.Tensor:
    """Geometric temperatures T_k = T_max^(k / (K - 1)), k = 0..K-1: (K,) float64.

    Geometric spacing keeps the swap rate about even along the ladder for a
    Gaussian-like target (the ratio T_{k+1} / T_k is constant).
    """
    if check_n(n_temperatures, "n_temperatures") < 2:
        raise ValueError(f"n_temperatures must be an integer >= 2, got {n_temperatures!r}")
    if check_real(max_temperature, "max_temperature") <= 1:
        raise ValueError(f"max_temperature must be finite and > 1, got {max_temperature!r}")
    k = torch.arange(int(n_temperatures), dtype=torch.float64)
    return float(max_temperature) ** (k / (int(n_temperatures) - 1))


def check_temperatures(temperatures) -> torch.Tensor:
    """(K,) float64 temperatures: K >= 2, first 1, strictly increasing, finite."""
    try:
        t = torch.as_tensor(temperatures, dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"temperatures must be a list of numbers, got {temperatures!r}") from None
    if len(t) < 2 or not torch.isfinite(t).all():
        raise ValueError(f"temperatures must be at least 2 finite numbers, got {t.tolist()}")
    if t[0] != 1:
        raise ValueError(f"temperatures must start at 1 (the target), got {t.tolist()}")
    if not (t[1:] > t[:-1]).all():
        raise ValueError(f"temperatures must be strictly increasing, got {t.tolist()}")
    return t


def swap(x, u, grad, betas, parity: int, g: torch.Generator):
    """Propose swaps between neighbouring levels j, j + 1 for j = parity, parity + 2, ...

    x: (K, n, d) positions, u: (K, n) untempered log p, grad: (K, n, d) untempered score,
    betas: (K,) = 1 / T. Returns the swapped x, u, grad and (K - 1, n) bool accept flags
    (False for pairs not attempted this step).
    """
    k = x.shape[0]
    lo = torch.arange(parity, k - 1, 2)
    hi = lo + 1
    flags = torch.zeros((k - 1, x.shape[1]), dtype=torch.bool)
    if len(lo) == 0:
        return x, u, grad, flags
    log_r = (betas[lo] - betas[hi]).to(u.dtype)[:, None] * (u[hi] - u[lo])
    log_v = torch.log(torch.rand(log_r.shape, generator=g, dtype=u.dtype))
    acc = log_v < log_r
    flags[lo] = acc
    out = []
    for a in (x, u, grad):
        m = acc if a.ndim == 2 else acc[..., None]
        a = a.clone()
        a_lo, a_hi = a[lo], a[hi]
        a[lo], a[hi] = torch.where(m, a_hi, a_lo), torch.where(m, a_lo, a_hi)
        out.append(a)
    return (*out, flags)


def _temperatures(n_temperatures, temperatures, max_temperature, work) -> torch.Tensor:
    """The checked ladder; work = (steps, chains per level, d) within the limits of
    :func:`genmod.guards.check_work` at every level (``xs_all`` stores them all)."""
    temps = ladder(n_temperatures, max_temperature) if temperatures is None else None
    temps = check_temperatures(temperatures) if temps is None else temps
    n_steps, n, d = work
    check_work(n_steps, len(temps) * n, dim=d)
    return temps


def sample(
    target,
    n_chains: int,
    n_steps: int,
    step_size,
    seed,
    x0,
    warmup: int,
    target_accept,
    score=None,
    n_temperatures: int = 8,
    temperatures=None,
    max_temperature: float = MAX_TEMPERATURE,
) -> Trajectory:
    """Parallel tempering with MALA at each level; called by ``mcmc.sample(t, "pt", ...)``.

    Parameters
    ----------
    n_temperatures, max_temperature: the geometric ladder (default 8 levels, 1 to 20);
    temperatures: (K,) increasing, starting at 1, instead of the ladder.
    step_size: the T = 1 step h (level k uses h sqrt(T_k): a Gaussian tempered by T is
        sqrt(T) wider), or "auto": dual averaging of every level's step during the warm-up
        towards ``target_accept`` (default 0.574, MALA's).
    Other arguments as in :func:`genmod.mcmc.sample` (already checked there).

    Returns
    -------
    Trajectory of the T = 1 chains: xs (W + n_steps + 1, n_chains, d); proposals, accepted
    of their MALA moves. extras: ``temperatures`` (K,), ``step_sizes`` (K,), ``xs_all``
    (W + n_steps + 1, K, n_chains, d) every level, ``swap_accepted`` (W + n_steps, K - 1,
    n_chains) bool (pair j, j + 1 after the local move of that step), ``swap_attempted``
    (W + n_steps, K - 1) bool, ``swap_rates`` (K - 1,) after the warm-up,
    ``acceptance`` (K,) MALA acceptance per level after the warm-up, cost counts as in
    :func:`genmod.mcmc.sample` (every level counts).
    """
    clock = time.perf_counter()
    temps = _temperatures(  # checked, with the work of every level (steps, chains, d)
        n_temperatures, temperatures, max_temperature, (warmup + n_steps, n_chains, dim_of(target))
    )
    k, n = len(temps), n_chains
    betas = 1.0 / temps
    goal = adapt.target_accept("pt", dim_of(target), target_accept)
    fn = potential(target, score=score)
    g = generator(seed)
    x = torch.stack([start(target, x0, n, g) for _ in range(k)])  # (K, n, d)
    d = x.shape[-1]
    u, grad = (a.reshape(k, n, *a.shape[1:]) for a in fn(x.reshape(k * n, d)))
    beta_rows = betas.float().repeat_interleave(n)  # (K n,)

    def tempered(y):
        lp, gr = fn(y)
        return beta_rows * lp, beta_rows[:, None] * gr

    costs = k * n  # density and gradient evaluations (each), all levels
    sqrt_t = temps.sqrt()
    da = None
    if step_size == "auto":
        h1, costs = _initial(x[0], u[0], grad[0], fn, g, costs)
        da = adapt.DualAveraging(h1 * sqrt_t, goal)
    steps = (lambda j: da.step_size if j < warmup else da.final()) if da else None
    total = warmup + n_steps
    xs = torch.empty((total + 1, k, n, d))
    xs[0] = x
    props = torch.empty((total, n, d))
    acc = torch.empty((total, k, n), dtype=torch.bool)
    sw = torch.empty((total, k - 1, n), dtype=torch.bool)
    div = 0
    for j in range(total):
        h = steps(j) if steps else float(step_size) * sqrt_t.float()
        h_rows = torch.as_tensor(h, dtype=torch.float32).repeat_interleave(n)[:, None]
        flat_grad = beta_rows[:, None] * grad.reshape(-1, d)
        s = mala_step(
            x.reshape(k * n, d), beta_rows * u.reshape(-1), flat_grad, tempered, h_rows, g
        )
        costs += k * n
        div += int(s.divergent.sum()) if j >= warmup else 0
        if da is not None and j < warmup:
            da.update(s.accept_prob.reshape(k, n).mean(1))
        x = s.x.reshape(k, n, d)
        u = (s.logp / beta_rows).reshape(k, n)
        grad = (s.grad / beta_rows[:, None]).reshape(k, n, d)
        props[j] = s.proposal[:n]
        acc[j] = s.accepted.reshape(k, n)
        x, u, grad, sw[j] = swap(x, u, grad, betas, j % 2, g)
        xs[j + 1] = x
    final_h = da.final() if da else float(step_size) * sqrt_t.float()
    seconds = time.perf_counter() - clock
    return _result(xs, props, acc, sw, temps, final_h, warmup, (costs, div), seconds)


def _initial(x, u, grad, fn, g, costs):
    """Hoffman & Gelman's first step for the T = 1 level (the others scale by sqrt(T))."""

    calls = []

    def accept_prob_at(h):
        calls.append(h)
        return float(mala_step(x, u, grad, fn, h, g).accept_prob.mean())

    h = adapt.initial_step(accept_prob_at)
    return h, costs + len(calls) * x.shape[0]


def _result(xs, props, acc, sw, temps, step_sizes, warmup, counts, seconds) -> Trajectory:
    total, k = acc.shape[0], len(temps)
    costs, div = counts
    attempted = torch.zeros((total, k - 1), dtype=torch.bool)
    for j in range(k - 1):
        attempted[j % 2 :: 2, j] = True  # pair j is tried on steps of its parity
    post = slice(warmup, None)
    tried = attempted[post].sum(0).clamp(min=1) * xs.shape[2]
    extras = {
        "method": "pt",
        "temperatures": temps.float(),
        "step_size": float(torch.as_tensor(step_sizes).reshape(-1)[0]),
        "step_sizes": torch.as_tensor(step_sizes).float(),
        "xs_all": xs,
        "swap_accepted": sw,
        "swap_attempted": attempted,
        "swap_rates": sw[post].sum((0, 2)).double() / tried,
        "acceptance": acc[post].double().mean((0, 2)),
        "density_evals": costs,
        "grad_evals": costs,
        "seconds": seconds,
        "divergences": div,  # every level, after the warm-up
    }
    return Trajectory(
        xs[:, 0].clone(),
        kind="chain",
        label="PT",
        proposals=props,
        accepted=acc[:, 0],
        n_evals=costs,
        extras=extras,
        warmup=warmup,
    )
