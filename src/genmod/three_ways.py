"""One learned score, sampled three ways: the talk's distinction in one experiment.

The same ``score_fn(x, t)`` drives

- a **chain**: unadjusted Langevin at the smallest time, x <- x + (h^2/2) s(x, EPS) + h z,
  run long from a few starts. It is right only once it has forgotten its start, its
  consecutive states are correlated, and its cost is per *independent* sample
  (evaluations / ESS);
- the **reverse SDE**: a *stochastic map*. The same start x_T with different seeds ends
  at different samples (the noise enters along the way);
- the **PF-ODE**: a *deterministic map*. The same x_T always ends at the same sample,
  a different x_T at a different one: noise in, sample out, like inverse transform.

Both maps take a fixed number of steps from a known noise law and every particle is an
independent sample at the end (the definition in DESIGN.md, "Chain or map").
"""

from __future__ import annotations

import torch

from genmod import diagnostics, mcmc, sde
from genmod.arrays import check_n, generator
from genmod.trajectory import Trajectory


def chain(
    score_fn,
    x0,
    n_steps: int = 2000,
    step_size: float = 0.05,
    seed: int = 0,
) -> tuple[Trajectory, dict]:
    """Unadjusted Langevin on ``score_fn(., EPS)`` from the (n_chains, 2) starts ``x0``.

    Returns the Trajectory and its numbers: ``ess`` (bulk ESS of the worst coordinate,
    second half of the run), ``rhat`` (worst coordinate, second half; NaN below 4
    chains), ``lag1`` (lag-1 autocorrelation of x, chain-averaged), ``evals_per_ess``
    (all score evaluations / ess: the cost of one independent sample).
    """
    x0 = torch.as_tensor(x0, dtype=torch.float32)
    traj = mcmc.sample(
        None,
        "ula",
        n_chains=x0.shape[0],
        n_steps=n_steps,
        step_size=step_size,
        seed=seed,
        x0=x0,
        score=lambda x: score_fn(x, sde.EPS),
    )
    burn = n_steps // 2
    ess = float(diagnostics.ess(traj, burn_in=burn).min())
    rhat = float(diagnostics.rhat(traj, burn_in=burn).max()) if x0.shape[0] >= 4 else float("nan")
    lag1 = float(diagnostics.autocorr(diagnostics.draws(traj, burn)[0], 1)[:, 1].mean())
    numbers = dict(ess=ess, rhat=rhat, lag1=lag1, evals_per_ess=traj.n_evals / max(ess, 1e-12))
    return traj, numbers


def same_start(
    score_fn,
    an_sde: sde.SDE,
    n_starts: int = 4,
    n_seeds: int = 8,
    n_steps: int = 200,
    seed: int = 0,
) -> dict:
    """Run each of ``n_starts`` prior draws x_T through both maps with ``n_seeds`` seeds.

    Returns
    -------
    dict with ``x_T`` (n_starts, 2); ``sde`` (n_seeds, n_starts, 2) reverse-SDE ends (EM);
    ``ode`` (n_seeds, n_starts, 2) PF-ODE ends (RK4, n_steps // 4 steps: the same number
    of score calls); ``sde_spread`` / ``ode_spread``: the mean over starts of the
    per-coordinate std of the ends across seeds (the SDE's is of the order of the data's
    spread, the ODE's is exactly 0); ``sde_paths`` / ``ode_paths`` (n_seeds, n_times,
    n_starts, 2) the whole paths.
    """
    n_starts, n_seeds = check_n(n_starts, "n_starts"), check_n(n_seeds, "n_seeds")
    x_T = an_sde.prior_sample(n_starts, generator(seed))
    ends = {"sde": [], "ode": []}
    for s in range(n_seeds):
        run = dict(n=n_starts, x_T=x_T, seed=seed + 1 + s)
        ends["sde"].append(sde.sample(score_fn, an_sde, method="em", n_steps=n_steps, **run))
        ends["ode"].append(sde.sample(score_fn, an_sde, method="ode", n_steps=n_steps // 4, **run))
    out = {"x_T": x_T}
    for way, trajs in ends.items():
        xs = torch.stack([tr.final() for tr in trajs])
        out[way] = xs
        out[f"{way}_paths"] = torch.stack([tr.xs for tr in trajs])
        out[f"{way}_spread"] = float(xs.std(0).mean()) if n_seeds > 1 else 0.0
    return out
