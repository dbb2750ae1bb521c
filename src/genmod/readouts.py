"""The per-frame readout of an animation panel: quality, acceptance, independent samples.

Nothing is computed here that the compute layer owns: quality is
:func:`genmod.metrics.quality` (energy distance to a fresh exact draw / noise floor),
ESS and R-hat are :func:`genmod.diagnostics.ess` and :func:`genmod.diagnostics.rhat`.
This module picks which particles and steps go in, caches per frame, and writes the line.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from genmod import diagnostics, metrics
from genmod.drawing import finite_rows
from genmod.trajectory import Trajectory

TIP_Q = (
    "energy distance between the particles and a fresh exact draw of the same size, "
    "divided by the noise floor (the distance two exact draws have): about 1 = as good as exact"
)
TIP_N = (
    "independent samples so far. Map: 0 until the last frame, then one per particle. "
    "Chains: n_chains * (k - burn_in) / tau, tau the integrated autocorrelation time "
    "(bulk ESS from genmod.diagnostics, worse coordinate) of the kept steps; burn_in: the "
    "first half of the steps so far unless given; 0 while the chains have not mixed "
    "(rank R-hat > 1.1) or fewer than 10 steps are kept"
)

#: chains whose rank R-hat exceeds this have not mixed: their draws count as 0 samples
RHAT_MAX = 1.1
#: fewer kept steps than this give no usable autocorrelation estimate
MIN_KEPT = 10


class Independent(NamedTuple):
    """Independent samples so far: ``count``, autocorrelation time ``tau``, worst ``rhat``."""

    count: float
    tau: float
    rhat: float


def independent_samples(
    xs: np.ndarray, k: int, burn_in: int | None = None, max_chains: int = 64, max_draws: int = 500
) -> Independent:
    """How many independent samples a set of chains holds after step ``k``.

    count = n_chains * n_kept / tau, with tau = n_chains * n_kept / ESS the integrated
    autocorrelation time of the kept steps burn_in + 1..k and ESS the bulk effective sample
    size (:func:`genmod.diagnostics.ess`) of the worse coordinate, capped at n_chains * n_kept.
    The count is 0 while the chains have not mixed (rank R-hat, :func:`genmod.diagnostics.rhat`,
    of either coordinate above ``RHAT_MAX``; it needs >= 4 chains, else it is NaN and not
    checked) or fewer than ``MIN_KEPT`` steps are kept. Estimated on at most ``max_chains``
    chains and ``max_draws`` draws (thinned evenly: a lower bound when the stride exceeds
    tau), then scaled to all chains.

    xs: (n_times, n_chains, 2); burn_in: steps dropped (None: the first half of 0..k).
    """
    k = max(0, min(int(k), xs.shape[0] - 1))
    burn = k // 2 if burn_in is None else max(0, int(burn_in))
    kept = xs[burn + 1 : k + 1]
    n_kept, n_chains = kept.shape[0], kept.shape[1]
    none = Independent(0.0, math.nan, math.nan)
    if n_kept < MIN_KEPT:
        return none
    sub = kept[:: max(1, math.ceil(n_kept / max_draws)), :max_chains]
    sub = sub[:, finite_rows(sub).all(0)]
    if sub.shape[1] == 0 or sub.shape[0] < 4:
        return none
    traj = Trajectory(torch.as_tensor(np.ascontiguousarray(sub, dtype=np.float64)), kind="chain")
    ess = diagnostics.ess(traj, "bulk")
    rhat = diagnostics.rhat(traj) if sub.shape[1] >= 4 else np.full(2, math.nan)
    if not np.isfinite(ess).all():
        return none
    count = max(0.0, min(float(ess.min()) * n_chains / sub.shape[1], n_chains * n_kept))
    tau = n_chains * n_kept / count if count > 0 else math.inf
    worst = float(rhat.max())
    mixed = not worst > RHAT_MAX  # NaN (too few chains to tell) counts as mixed
    return Independent(count if mixed else 0.0, tau, worst)


class PanelReadout:
    """The readout line of one trajectory panel, cached per time index.

    traj: the trajectory; target: optional Target (quality needs it); quality_points:
    quality uses the first this many finite particles; burn_in: as :func:`independent_samples`;
    stats: False shows only the time and acceptance; seed: quality's reference seed.
    """

    def __init__(
        self, traj: Trajectory, target, quality_points=300, burn_in=None, stats=True, seed=0
    ):
        self.traj, self.target, self.stats, self.seed = traj, target, stats, seed
        self.quality_points, self.burn_in = quality_points, burn_in
        self.xs = traj.xs.detach().float().cpu().numpy()
        self.times = traj.times.detach().double().cpu().numpy()
        self.chain = traj.kind == "chain"
        acc = traj.accepted
        self.acceptance = None
        if acc is not None:  # running mean over steps < j (index 0: none yet)
            per_step = acc.detach().double().reshape(acc.shape[0], -1).mean(1).numpy()
            self.acceptance = np.r_[np.nan, np.cumsum(per_step) / np.arange(1, len(per_step) + 1)]
        div = traj.extras.get("divergent")
        self.divergences = None
        if isinstance(div, torch.Tensor) and tuple(div.shape) == (len(traj) - 1, traj.n_particles):
            self.divergences = np.r_[0, np.cumsum(div.detach().cpu().numpy().sum(1))]
        self.q_cache: dict[int, float] = {}
        self.n_cache: dict[int, Independent] = {}

    def quality(self, j: int) -> float:
        """metrics.quality of the first ``quality_points`` finite particles at time index j."""
        if j not in self.q_cache:
            pts = self.xs[j][finite_rows(self.xs[j])][: self.quality_points]
            q = (
                metrics.quality(torch.as_tensor(pts), self.target, seed=self.seed)
                if len(pts) > 1
                else math.nan
            )
            self.q_cache[j] = q
        return self.q_cache[j]

    def independent(self, j: int) -> float:
        """Independent samples so far at time index j (definition: ``TIP_N``)."""
        if not self.chain:
            return float(self.traj.n_particles) if j == len(self.traj) - 1 else 0.0
        if j not in self.n_cache:
            self.n_cache[j] = independent_samples(self.xs, j, self.burn_in)
        return self.n_cache[j].count

    def line(self, j: int, extra: str = "") -> str:
        """The HTML line under the panel at time index j (``extra``: sampler-specific bits)."""
        tr = self.traj
        bits = [
            f"<b>{tr.label or tr.kind}</b> {'step' if self.chain else 'time'} "
            f"{self.times[j]:.4g} ({j + 1}/{len(tr)})"
        ]
        if extra:
            bits.append(extra)
        if self.acceptance is not None and j > 0:
            bits.append(f"acceptance so far {self.acceptance[j]:.2f}")
        if self.divergences is not None and self.divergences[j] > 0:
            bits.append(f"divergences {int(self.divergences[j])}")
        if self.stats and self.target is not None:
            nq = min(self.quality_points, tr.n_particles)
            bits.append(
                f'<span title="{TIP_Q} (on the first {nq} particles)">'
                f"distance / noise floor <b>{self.quality(j):.3g}</b> (n={nq})</span>"
            )
        if self.stats:
            n_ind, tip = self.independent(j), TIP_N
            got = self.n_cache.get(j)
            if self.chain and got is not None and math.isfinite(got.rhat):
                tip += f" (now: tau {got.tau:.3g}, R-hat {got.rhat:.3g})"
            bits.append(f'<span title="{tip}">independent samples <b>{n_ind:,.0f}</b></span>')
        return " &middot; ".join(bits)
