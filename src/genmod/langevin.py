"""Annealed Langevin dynamics (Song & Ermon 2019): Langevin down a ladder of noise levels.

At each level sigma_i, ``n_steps`` of unadjusted Langevin (:func:`genmod.mcmc.sample`,
``method="ula"``) on the score of p_sigma_i, with step alpha_i = alpha_min sigma_i^2 /
sigma_L^2, started where the previous level ended. Large levels move particles between
far-apart modes, small ones sharpen them: the 0.2 / 0.8 weights that plain Langevin gets
wrong come out right.
"""

from __future__ import annotations

import math
import warnings

import torch

from genmod import mcmc
from genmod.arrays import as_points, check_n
from genmod.guards import check_work
from genmod.score import Ladder, ScoreFn
from genmod.trajectory import Trajectory


def annealed(
    score_fn: ScoreFn,
    sigmas,
    x0,
    n_steps: int = 100,
    alpha_min: float | None = None,
    seed: int = 0,
    denoise: bool = True,
    label: str = "annealed Langevin",
    step_ratio=None,
) -> Trajectory:
    """Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1), built on ``genmod.mcmc``.

    Parameters
    ----------
    score_fn: ``score_fn(x, t)`` with t the position on the ladder of ``sigmas``
        (:class:`genmod.score.Ladder`): a ladder-trained ``ScoreModel``, or a sigma-indexed
        function through :func:`genmod.score.from_sigma`; :func:`genmod.score.clamped`
        keeps a learned one's denoiser in the data's box (benchmarks/run.py's annealed row).
    sigmas: (L,) decreasing noise levels (see :func:`genmod.score.geometric_sigmas`).
    x0: (n, d) starting points (e.g. ``arrays.uniform_box`` over the plot box).
    n_steps: Langevin steps per level: one count for every level, or a sequence of L counts
        (one per level, largest first), e.g. more steps where separated modes part (at a
        level comparable to their distance, the last at which particles still cross).
    alpha_min: step at the smallest level (alpha in Song & Ermon's update
        x + alpha/2 s + sqrt(alpha) z). None: 0.2 sigma_L^2, so alpha_i / sigma_i^2 = 0.2 at
        every level (their 2e-5 at sigma_L = 0.01).
    step_ratio: alpha_i / sigma_i^2 instead, one number for every level or a sequence of L
        (largest level first), e.g. smaller at the low levels, where an unadjusted step's
        bias widens the narrow features; give alpha_min or step_ratio, not both.
    denoise: finish with one Tweedie step x + sigma_L^2 s(x, sigma_L) (Song & Ermon 2020),
        which removes the last level's noise; appended as the final frame.

    Returns
    -------
    Trajectory(kind="map"): particles are independent, each ends as one sample and time is
    the noise schedule, not a run to stationarity. ``extras["sigma"]``: (n_times,) level
    of each frame; ``extras["step_size"]``: (L,) alpha_i.
    """
    ladder = Ladder(sigmas)
    sig = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    alpha_of = _alphas(alpha_min, step_ratio, sig)
    steps = _steps_per_level(n_steps, len(sig))
    x = as_points(x0, "x0", dim=None, finite=True, min_n=1).float()
    check_work(sum(steps), x.shape[0])
    frames, frame_sigma, alphas, evals = [x[None]], [float(sig[0])], [], 0
    with warnings.catch_warnings(record=True) as caught:  # one warning per call, not per level
        warnings.simplefilter("always")
        for i, s in enumerate(sig.tolist()):
            alpha = alpha_of[i]
            alphas.append(alpha)
            t = ladder.time(s)
            traj = mcmc.sample(
                None,
                "ula",
                n_chains=x.shape[0],
                n_steps=steps[i],
                # mcmc's step_size is the noise std (x + h^2/2 s + h z): h = sqrt(alpha)
                step_size=math.sqrt(alpha),
                seed=seed * 1000 + i,
                x0=x,
                score=lambda y, t=t: score_fn(y, t),
            )
            frames.append(traj.xs[1:].float())
            frame_sigma += [s] * steps[i]
            evals += traj.n_evals
            x = traj.final().float()
    trouble = [w for w in caught if "proposals diverged" in str(w.message)]
    trouble += [w for w in caught if "no chain moved" in str(w.message)]
    for w in caught:  # anything else (the user's score's own warnings) passes through
        if w not in trouble:
            warnings.warn(w.message, w.category, stacklevel=2)
    if trouble:
        msg = (
            f"annealed Langevin, at {len(trouble)} of {len(sig)} noise levels: {trouble[0].message}"
        )
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    if denoise:
        s = float(sig[-1])
        x = x + s**2 * score_fn(x, ladder.time(s)).float()
        frames.append(x[None])
        frame_sigma.append(0.0)
        evals += x.shape[0]
    return Trajectory(
        torch.cat(frames),
        kind="map",
        label=label,
        n_evals=evals,
        extras={"sigma": torch.tensor(frame_sigma), "step_size": torch.tensor(alphas)},
    )


def _alphas(alpha_min, step_ratio, sig: torch.Tensor) -> list[float]:
    """The step alpha_i of each level, from ``alpha_min`` or ``step_ratio`` (default 0.2)."""
    if alpha_min is not None and step_ratio is not None:
        raise ValueError("give alpha_min or step_ratio, not both")
    levels = sig.tolist()
    if step_ratio is None:
        alpha_min = 0.2 * levels[-1] ** 2 if alpha_min is None else alpha_min
        if not (alpha_min > 0 and math.isfinite(alpha_min)):
            raise ValueError(f"alpha_min must be a positive number, got {alpha_min}")
        return [alpha_min * s**2 / levels[-1] ** 2 for s in levels]
    many = isinstance(step_ratio, list | tuple) or getattr(step_ratio, "ndim", 0) > 0
    ratios = [float(v) for v in (list(step_ratio) if many else [step_ratio] * len(levels))]
    if len(ratios) != len(levels):
        raise ValueError(
            f"step_ratio must be one number or one per level ({len(levels)}), got {len(ratios)}"
        )
    for i, r in enumerate(ratios):
        if not (r > 0 and math.isfinite(r)):
            raise ValueError(f"step_ratio[{i}] must be a positive number, got {r}")
    return [r * s**2 for r, s in zip(ratios, levels, strict=True)]


def _steps_per_level(n_steps, n_levels: int) -> list[int]:
    """``n_steps`` as one count per level: an int for all, or a sequence of n_levels."""
    if isinstance(n_steps, list | tuple) or getattr(n_steps, "ndim", 0) > 0:
        counts = [v.item() if hasattr(v, "item") else v for v in list(n_steps)]
        if len(counts) != n_levels:
            raise ValueError(
                f"n_steps must be one count or one per level ({n_levels}), got {len(counts)}"
            )
        return [check_n(v, f"n_steps[{i}]") for i, v in enumerate(counts)]
    return [check_n(n_steps, "n_steps")] * n_levels
