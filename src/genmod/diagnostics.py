"""Is the chain done, and how many independent samples is it worth? MCMC diagnostics.

A chain's draws are correlated, so n draws hold fewer than n independent ones:
the effective sample size ESS = n / tau, with tau the integrated autocorrelation
time. The well-kept reference is ``arviz_stats.base.array_stats`` (rank-normalized
split R-hat and bulk/tail ESS of Vehtari et al. 2021, arXiv:1903.08008): ``ess`` and
``rhat`` call it directly. ``autocorr`` and ``ess_geyer`` are the small
self-contained versions (FFT autocorrelation, Geyer's initial sequence), tested against
it and against AR(1) closed forms.

Arrays follow arviz's convention: ``(n_chains, n_draws)`` per coordinate; from a
Trajectory, :func:`draws` gives ``(d, n_chains, n_draws)``.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import torch

from genmod.trajectory import Trajectory

#: Tail ESS uses the 5% and 95% quantiles, as arviz and Stan do.
TAIL_PROB = (0.05, 0.95)


def _check_chain(traj: Trajectory) -> None:
    if not isinstance(traj, Trajectory):
        raise TypeError(f"expected a Trajectory, got {type(traj).__name__}")
    if traj.kind != "chain":
        raise ValueError("diagnostics need a chain trajectory (kind='chain')")


def draws(traj: Trajectory, burn_in: int | None = None, min_draws: int = 1) -> np.ndarray:
    """Positions after dropping the first ``burn_in`` times, as (d, n_chains, n_draws) float64.

    ``burn_in`` counts positions of ``traj.xs`` (xs[0] is the start), so
    n_draws = n_times - burn_in, which must be at least ``min_draws``. None (the default of
    every diagnostic here): drop the warm-up, the start and the ``traj.warmup`` warm-up draws
    (nothing when there is none). Non-finite positions are an error naming ``traj.xs``
    (samplers never store them; a hand-made array may).
    """
    _check_chain(traj)
    if burn_in is None:
        burn_in = traj.warmup + 1 if traj.warmup else 0
    top = traj.n_times - min_draws
    try:
        ok = not isinstance(burn_in, bool) and int(burn_in) == burn_in and 0 <= burn_in <= top
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(
            f"burn_in must be an integer in [0, {max(top, 0)}] (leaving at least {min_draws} "
            f"of the {traj.n_times} positions), got {burn_in!r}"
        )
    x = traj.xs[int(burn_in) :].detach().double()
    if not torch.isfinite(x).all():
        n_bad = int((~torch.isfinite(x)).sum())
        raise ValueError(
            f"traj.xs has {n_bad} NaN or inf values after burn-in; diagnostics need finite draws"
        )
    return x.permute(2, 1, 0).numpy()


def running_acceptance(traj: Trajectory, window: int | None = None) -> np.ndarray:
    """Acceptance rate up to each step, over all chains. Returns (n_steps,).

    ``window=None``: cumulative mean over steps 1..k; else a moving mean over the
    last ``window`` steps (shows the rate settling after burn-in).
    """
    _check_chain(traj)
    if traj.accepted is None:
        raise ValueError("this trajectory has no accept flags")
    per_step = traj.accepted.double().mean(1).numpy()
    c = np.concatenate([[0.0], np.cumsum(per_step)])
    k = np.arange(1, len(per_step) + 1)
    if window is None:
        return c[1:] / k
    if int(window) != window or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    lo = np.maximum(k - int(window), 0)
    return (c[k] - c[lo]) / (k - lo)


def autocorr(x, max_lag: int | None = None) -> np.ndarray:
    """Autocorrelation along the last axis, by FFT (the biased estimator, as arviz).

    rho(t) = c(t) / c(0), c(t) = (1/n) sum_i (x_i - mean)(x_{i+t} - mean).
    x: (..., n_draws) -> (..., max_lag + 1); max_lag defaults to n_draws - 1.
    A constant series (a stuck chain) has rho = 0 / 0: it is reported as 1 at every lag
    (perfectly correlated: no information), with a RuntimeWarning.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]
    if n < 2:
        raise ValueError(f"need at least 2 draws, got {n}")
    max_lag = n - 1 if max_lag is None else int(max_lag)
    if not 0 <= max_lag < n:
        raise ValueError(f"max_lag must be in [0, {n - 1}], got {max_lag}")
    d = x - x.mean(-1, keepdims=True)
    m = 1 << (2 * n - 1).bit_length()  # zero-pad to >= 2n: no circular wrap-around
    f = np.fft.rfft(d, n=m)
    c = np.fft.irfft(f * np.conj(f), n=m)[..., : max_lag + 1] / n
    const = ~(c[..., :1] > 0)  # a constant series: rho is 0 / 0
    if const.any():
        warnings.warn(
            f"autocorr: {int(const.sum())} constant series (a stuck chain); their "
            "autocorrelation is reported as 1 at every lag",
            RuntimeWarning,
            stacklevel=2,
        )
    return np.where(const, 1.0, c / np.where(const, 1.0, c[..., :1]))


def ess_geyer(x) -> float:
    """Effective sample size of (n_chains, n_draws) draws, from the chain-averaged autocorrelation.

    tau = -1 + 2 sum_t rho(t), truncated by Geyer's initial positive sequence (stop at
    the first pair rho(2m) + rho(2m+1) <= 0) and made monotone; ESS = n_chains n_draws / tau.
    Between-chain variance enters rho as in Gelman et al. (BDA3, eq. 11.7), so chains stuck
    in different places get a small ESS. No rank normalization or chain splitting: that is
    :func:`ess` (arviz's bulk ESS); on well-mixed chains the two agree.
    Constant draws (chains that never moved) give 0 with a RuntimeWarning; fewer than 4
    draws or NaN are errors.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n_chains, n_draws), got {x.shape}")
    m, n = x.shape
    if n < 4:
        raise ValueError(f"x needs at least 4 draws per chain, got {n}")
    if not np.isfinite(x).all():
        raise ValueError(f"x has {int((~np.isfinite(x)).sum())} NaN or inf values")
    if (x == x[:, :1]).all():
        return _stuck("ess_geyer")
    acov = autocorr(x) * x.var(-1, keepdims=True)  # biased autocovariances, per chain
    w = acov[:, 0].mean() * n / (n - 1)  # within-chain variance
    var_plus = w * (n - 1) / n + (x.mean(1).var(ddof=1) if m > 1 else 0.0)
    if var_plus <= 0:
        return float(m * n)
    rho = 1 - (w - acov.mean(0)) / var_plus
    rho[0] = 1.0
    pairs = rho[: n - n % 2].reshape(-1, 2).sum(1)  # rho(2k) + rho(2k+1)
    stop = np.argmax(pairs <= 0) if (pairs <= 0).any() else len(pairs)
    pairs = np.minimum.accumulate(pairs[:stop])  # initial monotone sequence
    tau = -1 + 2 * pairs.sum()
    return float(m * n / max(tau, 1 / np.log10(m * n)))


@functools.cache
def _array_stats():
    """arviz_stats' array functions, imported on first use: the import (scipy.signal with it)
    takes about 2 s, which every kernel importing genmod would pay before its first cell."""
    from arviz_stats.base import array_stats

    return array_stats


def ess(traj: Trajectory, method: str = "bulk", burn_in: int | None = None) -> np.ndarray:
    """Effective sample size of each coordinate, summed over chains (arviz). Returns (d,).

    method: ``"bulk"`` (rank-normalized split chains: the centre of the law) or
    ``"tail"`` (the 5% and 95% quantiles: the tails, where slow mixing shows first).
    Needs >= 4 draws after ``burn_in`` and finite positions (else ValueError); a coordinate
    no chain ever changed gets ESS 0 with a RuntimeWarning (arviz would give NaN).
    """
    if method not in ("bulk", "tail"):
        raise ValueError(f"method must be 'bulk' or 'tail', got {method!r}")
    x = draws(traj, burn_in, min_draws=4)
    prob = TAIL_PROB if method == "tail" else None
    with np.errstate(divide="ignore", invalid="ignore"):  # constant chains: handled below
        out = _array_stats().ess(x, chain_axis=-2, draw_axis=-1, method=method, prob=prob)
    out = np.asarray(out)
    const = (x == x[..., :1]).all((-2, -1))  # a coordinate no chain ever changed
    return np.where(const, _stuck("ess") if const.any() else 0.0, out)


def rhat(traj: Trajectory, burn_in: int | None = None) -> np.ndarray:
    """Rank-normalized split R-hat of each coordinate (arviz); needs >= 4 chains. Returns (d,).

    About 1 when all chains sample the same law; above 1.01 the chains disagree
    (not mixed yet, or stuck in different modes).
    """
    x = draws(traj, burn_in, min_draws=4)
    if x.shape[1] < 4:
        raise ValueError(f"R-hat needs at least 4 chains, got {x.shape[1]}")
    with np.errstate(divide="ignore", invalid="ignore"):  # constant chains: handled below
        out = np.asarray(_array_stats().rhat(x, chain_axis=-2, draw_axis=-1, method="rank"))
    # chains constant in time: R-hat is 1 if they all sit at one value, else inf (documented)
    const = (x == x[..., :1]).all(-1).all(-1)
    if const.any():
        _stuck("rhat")
        same = (x == x[..., :1, :1]).all((-2, -1))
        out = np.where(const, np.where(same, 1.0, np.inf), out)
    return out


def divergences(traj: Trajectory) -> int:
    """Number of rejected non-finite (or, for HMC, energy-exploding) proposals."""
    _check_chain(traj)
    return int(traj.extras.get("divergences", 0))


def ess_per_eval(traj: Trajectory, burn_in: int | None = None, method: str = "bulk") -> float:
    """Worst coordinate's ESS divided by *all* target evaluations spent (burn-in included).

    The cost of one independent sample is 1 / this, in log-density/gradient evaluations.
    """
    if traj.n_evals <= 0:
        raise ValueError("trajectory has no evaluation count (n_evals = 0)")
    return float(ess(traj, method, burn_in).min()) / traj.n_evals


def summary(traj: Trajectory, burn_in: int | None = None) -> dict:
    """The usual table in one dict, rounded to 3 significant digits for printing.

    Keys: acceptance (after the warm-up), ess_bulk, ess_tail (worst coordinate), rhat
    (worst, needs >= 4 chains: else nan), evals_per_ess (target evaluations per independent
    sample), divergences; and when the sampler counted them (every :mod:`genmod.mcmc`
    method does), the honest cost of one independent sample, warm-up included:
    density_evals_per_ess, grad_evals_per_ess (log p and its gradient counted apart) and
    seconds_per_ess (wall time of the run).
    """
    e_bulk = float(ess(traj, "bulk", burn_in).min())
    e_tail = float(ess(traj, "tail", burn_in).min())
    r = float(rhat(traj, burn_in).max()) if traj.n_particles >= 4 else float("nan")
    acc = traj.acceptance_rate()
    out = dict(
        acceptance=acc,
        ess_bulk=e_bulk,
        ess_tail=e_tail,
        rhat=r,
        evals_per_ess=traj.n_evals / e_bulk if e_bulk > 0 else float("inf"),
        divergences=divergences(traj),
    )
    for key, name in (("density_evals", "density"), ("grad_evals", "grad"), ("seconds", "seconds")):
        if key in traj.extras:
            per = "_evals_per_ess" if key != "seconds" else "_per_ess"
            out[name + per] = float(traj.extras[key]) / e_bulk if e_bulk > 0 else float("inf")
    return {k: (_sig(v) if isinstance(v, float) else v) for k, v in out.items()}


def quality_over_time(traj: Trajectory, target, times) -> np.ndarray:
    """Energy distance / noise floor of the cloud of chains at each time index in ``times``.

    Burn-in made visible: far above 1 while the chains still remember their start,
    about 1 once the cloud is distributed as the target. Returns (len(times),).
    """
    from genmod import metrics  # the metric module is only needed here

    _check_chain(traj)
    return np.array([metrics.quality(traj.at(int(k)), target, seed=0) for k in times])


def step_size_sweep(
    target,
    method: str,
    step_sizes,
    n_chains: int = 100,
    n_steps: int = 300,
    seed: int = 0,
    **options,
) -> list[dict]:
    """Acceptance and mixing across step sizes, chains started at exact samples.

    Returns one :func:`summary` dict per step size, with its ``step_size`` added.
    """
    from genmod import mcmc

    x0 = target.sample(n_chains, seed=seed + 1)
    rows = []
    for step in step_sizes:
        traj = mcmc.sample(target, method, n_chains, n_steps, step, seed=seed, x0=x0, **options)
        rows.append({"step_size": step, **summary(traj)})
    return rows


def _stuck(name: str) -> float:
    """Warn that the chains never moved; the documented ESS of a stuck chain is 0."""
    warnings.warn(
        f"{name}: the chains never moved (constant draws); ESS is reported as 0 and R-hat "
        "as 1 (all at one point) or inf (stuck at different points)",
        RuntimeWarning,
        stacklevel=3,
    )
    return 0.0


def _sig(v: float, digits: int = 3) -> float:
    """Round to ``digits`` significant digits (keeps nan and inf)."""
    if not np.isfinite(v) or v == 0:
        return v
    return float(f"{v:.{digits}g}")


def ar1(phi: float, n_chains: int, n_draws: int, seed: int = 0) -> np.ndarray:
    """Stationary AR(1) chains x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t: a test bed.

    rho(t) = phi^t exactly, and ESS = n_chains n_draws (1 - phi) / (1 + phi).
    Returns (n_chains, n_draws) float64.
    """
    if not -1 < phi < 1:
        raise ValueError(f"phi must be in (-1, 1), got {phi}")
    g = torch.Generator().manual_seed(int(seed))
    e = torch.randn(n_draws, n_chains, generator=g, dtype=torch.float64)
    x = torch.empty_like(e)
    x[0] = e[0]
    s = (1 - phi * phi) ** 0.5
    for t in range(1, n_draws):
        x[t] = phi * x[t - 1] + s * e[t]
    return x.T.numpy()
