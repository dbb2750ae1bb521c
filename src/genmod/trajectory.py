"""The common type every sampler returns: a cloud of particles moving through time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch


@dataclass
class Trajectory:
    """Positions of ``n_particles`` particles in d dimensions at ``n_times`` times.

    For an MCMC run (``kind="chain"``) particles are chains and time is the step;
    for a noise-to-sample map (``kind="map"``) particles are independent noise
    draws and time is a layer, an ODE time or a diffusion time.

    Attributes
    ----------
    xs: (n_times, n_particles, d) tensor of positions; ``xs[0]`` is the start (d = 2 in
        the 2D notes; the animations show d > 2 through a 2D view).
    times: (n_times,) tensor of time labels (step index, layer, t, ...).
    kind: ``"chain"`` or ``"map"``.
    label: a short name for plots ("MALA", "RealNVP", ...).
    proposals: optional (n_times - 1, n_particles, d) proposal made at each step.
    accepted: optional (n_times - 1, n_particles) bool accept flags.
    n_evals: cost: target or model evaluations used to make the whole trajectory.
    extras: anything sampler-specific (leapfrog paths, gradients, sigmas, ...).
    warmup: chains only: the number of warm-up steps W (step-size adaptation or burn-in);
        xs[0] is the start and xs[1..W] the warm-up draws, which diagnostics leave out
        by default (:func:`genmod.diagnostics.draws`).
    """

    xs: torch.Tensor
    times: torch.Tensor | None = None
    kind: Literal["chain", "map"] = "chain"
    label: str = ""
    proposals: torch.Tensor | None = None
    accepted: torch.Tensor | None = None
    n_evals: int = 0
    extras: dict[str, Any] = field(default_factory=dict)
    warmup: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("chain", "map"):
            raise ValueError(f"kind must be 'chain' or 'map', got {self.kind!r}")
        xs = torch.as_tensor(self.xs)
        if xs.ndim != 3 or xs.shape[-1] < 1:
            raise ValueError(f"xs must have shape (n_times, n_particles, d), got {tuple(xs.shape)}")
        if xs.shape[0] == 0 or xs.shape[1] == 0:
            raise ValueError(
                f"xs must hold at least one time and one particle, got shape {tuple(xs.shape)}"
            )
        self.xs = xs
        n_times = xs.shape[0]
        if isinstance(self.warmup, bool) or int(self.warmup) != self.warmup:
            raise ValueError(f"warmup must be an integer, got {self.warmup!r}")
        if not 0 <= self.warmup < max(n_times, 1):
            raise ValueError(f"warmup must be in [0, {n_times - 1}], got {self.warmup}")
        self.warmup = int(self.warmup)
        if self.times is None:
            self.times = torch.arange(n_times)
        self.times = torch.as_tensor(self.times)
        if self.times.shape != (n_times,):
            raise ValueError(f"times must have shape ({n_times},), got {tuple(self.times.shape)}")
        for name, trailing in (("proposals", (xs.shape[-1],)), ("accepted", ())):
            value = getattr(self, name)
            if value is not None:
                want = (n_times - 1, xs.shape[1], *trailing)
                if tuple(value.shape) != want:
                    raise ValueError(f"{name} must have shape {want}, got {tuple(value.shape)}")

    @property
    def n_times(self) -> int:
        return self.xs.shape[0]

    @property
    def n_particles(self) -> int:
        return self.xs.shape[1]

    @property
    def dim(self) -> int:
        """d, the dimension of the points."""
        return self.xs.shape[2]

    def __len__(self) -> int:
        return self.n_times

    def final(self) -> torch.Tensor:
        """(n_particles, d) positions at the last time."""
        return self.xs[-1]

    def at(self, k: int) -> torch.Tensor:
        """(n_particles, d) positions at time index ``k`` (clamped to the valid range)."""
        return self.xs[max(0, min(int(k), self.n_times - 1))]

    def acceptance_rate(self) -> float | None:
        """Fraction of accepted proposals over the steps after the warm-up, all chains.

        None for maps.
        """
        if self.accepted is None:
            return None
        return float(self.accepted[self.warmup :].float().mean())

    def thin(self, every: int) -> Trajectory:
        """Every ``every``-th time (the last one always kept), for light animations.

        Proposals and accept flags are dropped: they belong to single steps.
        """
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        idx = list(range(0, self.n_times, every))
        if idx[-1] != self.n_times - 1:
            idx.append(self.n_times - 1)
        idx_t = torch.tensor(idx)
        return Trajectory(
            self.xs[idx_t],
            self.times[idx_t],
            self.kind,
            self.label,
            n_evals=self.n_evals,
            extras=dict(self.extras),
            # positions 0..W are the start and the warm-up: keep the count of those kept
            warmup=sum(i <= self.warmup for i in idx) - 1,
        )
