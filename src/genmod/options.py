"""Typed options of the animations (what ``widgets.animate`` accepts), checked once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from genmod.trajectory import Trajectory

MAX_PARTICLES_DRAWN = 2000
MIN_INTERVAL_MS = 60  # Play drops ticks faster than this; a slower frame only lags
ALIGNS = ("proportional", "step")
HISTS = ("auto", "current", "cumulative")


@dataclass
class AnimationOptions:
    """What an animation draws; see :func:`genmod.widgets.animate` for each field.

    extra_readout: optional ``(trajectory, time index) -> str`` added to a panel's readout
    (annealed Langevin shows its noise level this way).
    """

    size: int = 300
    interval_ms: int = 100
    max_points: int = MAX_PARTICLES_DRAWN
    highlight: int | list[int] = 3
    trail: int = 4
    trail_points: int = 200
    hist: str = "auto"
    bins: int = 40
    readout: bool = True
    quality_points: int = 300
    burn_in: int | None = None
    align: str = "proportional"
    log_density: bool = False
    seed: int = 0
    extra_readout: Callable[[Trajectory, int], str] | None = None

    def __post_init__(self):
        if self.align not in ALIGNS:
            raise ValueError(f"align must be 'proportional' or 'step', got {self.align!r}")
        if self.hist not in HISTS:
            raise ValueError(f"hist must be 'auto', 'current' or 'cumulative', got {self.hist!r}")
        for name, lo in (
            ("size", 100),
            ("max_points", 1),
            ("bins", 2),
            ("quality_points", 2),
            ("trail", 0),
            ("trail_points", 0),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        if isinstance(self.highlight, int) and self.highlight < 0:
            raise ValueError(f"highlight must be >= 0 or a list of indices, got {self.highlight!r}")
        self.interval_ms = max(MIN_INTERVAL_MS, int(self.interval_ms))
        self.trail_points = min(self.trail_points, self.max_points)
        self.quality_points = min(self.quality_points, 1000)

    def extra(self, traj: Trajectory, j: int) -> str:
        return self.extra_readout(traj, j) if self.extra_readout is not None else ""
