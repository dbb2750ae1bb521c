"""The arrays one :func:`genmod.mcmc.sample` run fills, step by step, and its Trajectory.

Positions, proposals, accept and divergence flags, acceptance probabilities and each
sampler's own per-step records (MALA's drift, HMC's momenta and paths, NUTS's tree depths
and doubling record), then the cost counters and the ``Trajectory`` built from them.
"""

from __future__ import annotations

import torch

from genmod.kernels import Step
from genmod.trajectory import Trajectory

#: Records kept only on request (large): HMC's leapfrog paths.
_OPTIONAL = {"paths": "store_paths"}


class ChainRecord:
    """The arrays one run fills, step by step (shapes for n_total steps, n chains, d dims)."""

    def __init__(self, n_total: int, x: torch.Tensor, keep: dict):
        n, d = x.shape
        self.n_total, self.keep = n_total, keep
        self.xs = torch.empty((n_total + 1, n, d))
        self.xs[0] = x
        self.props = torch.empty((n_total, n, d))
        self.acc = torch.empty((n_total, n), dtype=torch.bool)
        self.div = torch.empty((n_total, n), dtype=torch.bool)
        self.prob = torch.empty((n_total, n))
        self.records: dict[str, torch.Tensor] = {}

    def store(self, k: int, s: Step, rec: dict) -> None:
        for name, value in rec.items():
            if name in _OPTIONAL and not self.keep.get(_OPTIONAL[name], True):
                continue
            if isinstance(value, torch.Tensor):
                if name not in self.records:  # allocated once (not on every step's lookup)
                    self.records[name] = value.new_empty((self.n_total, *value.shape))
                self.records[name][k] = value
            else:  # e.g. NUTS's doubling record of one chain: a list over steps
                self.records.setdefault(name, []).append(value)
        self.xs[k + 1] = s.x
        # keep stored proposals finite: a diverged proposal is shown at the current point
        self.props[k] = (
            s.proposal
            if not s.divergent.any()
            else torch.where(s.divergent[:, None], self.xs[k], s.proposal)
        )
        self.acc[k], self.div[k], self.prob[k] = s.accepted, s.divergent, s.accept_prob

    def trajectory(self, method, warmup, costs, extras, seconds) -> Trajectory:
        n = self.xs.shape[1]
        extras.update(self.records)
        if "drift" in extras:
            extras["drift"] = torch.nan_to_num(extras["drift"], nan=0.0, posinf=0.0, neginf=0.0)
        n_evals = max(costs)  # a gradient and a density at one point count once here
        extras.update(
            divergences=int(self.div[warmup:].sum()),
            divergent=self.div,
            accept_prob=self.prob,
            evals_per_chain=n_evals // n if n_evals % n == 0 else n_evals / n,
            density_evals=int(costs[0]),
            grad_evals=int(costs[1]),
            seconds=seconds,
        )
        return Trajectory(
            self.xs,
            kind="chain",
            label=method.upper(),
            proposals=self.props,
            accepted=self.acc,
            n_evals=int(n_evals),
            extras=extras,
            warmup=warmup,
        )
