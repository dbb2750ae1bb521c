"""A scene: what a widget shows, described once, drawn by two renderers.

A scene is a base figure (its traces and layout, frame 0 included) and a list of
frames, each a :class:`Patch`: new data for some traces, layout changes, and a readout
line. The live renderer (:mod:`genmod.render_live`, an ipywidgets box with a
FigureWidget) applies patches as a reader moves the controls; the static renderer
(:mod:`genmod.render_static`, a plain plotly figure) stores a few of them as plotly
frames, with Play and a slider, so the scene plays with no kernel.

Animations describe each panel with :class:`genmod.trajectory_panel.TrajectoryPanel`;
explorers (a few controls over one figure) with :func:`genmod.explorer.explorer`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Patch:
    """What changes in one frame.

    traces: trace index -> properties to set, plotly's dotted names allowed
        (``{"x": array, "y": array, "marker.line.color": [...]}``).
    layout: layout properties to set (dotted names allowed), e.g. ``{"title.text": ...}``.
    readout: one line of HTML (``<b>``, ``&middot;`` ...) under the figure; the static form
        writes it on the figure as text.
    """

    traces: dict[int, dict] = field(default_factory=dict)
    layout: dict = field(default_factory=dict)
    readout: str = ""

    def shifted(self, offset: int) -> Patch:
        """The same patch for traces numbered from ``offset`` (panels merged into one figure)."""
        return Patch(
            {i + offset: v for i, v in self.traces.items()}, dict(self.layout), self.readout
        )


@dataclass(frozen=True)
class Budget:
    """How much of a scene the static form keeps (it is stored in the notebook file).

    max_frames: frames stored (evenly spaced, first and last kept).
    max_particles: particles drawn per panel in the stored frames.
    trail: fading trail segments per particle in the stored frames (0: none).
    """

    max_frames: int = 36
    max_particles: int = 250
    trail: int = 0

    def __post_init__(self):
        for name in ("max_frames", "max_particles"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 2:
                raise ValueError(f"Budget.{name} must be an integer >= 2, got {v!r}")


#: the static form of every genmod widget, unless a caller passes its own
DEFAULT_BUDGET = Budget()


def pick_frames(n: int, max_frames: int) -> list[int]:
    """At most ``max_frames`` evenly spaced indices of range(n), first and last included."""
    if n <= max_frames:
        return list(range(n))
    return sorted({round(i * (n - 1) / (max_frames - 1)) for i in range(max_frames)})


def frame_index(n_frames: int, n_times: int, k: int, align: str) -> int:
    """Time index of a trajectory of ``n_times`` shown at shared frame k of ``n_frames``.

    align "proportional": both ends meet (the shared frame maps onto each length);
    "step": frame k is time index k (a shorter trajectory finishes early and waits).
    """
    k = max(0, min(int(k), n_frames - 1))
    if align == "step" or n_frames == 1:
        return min(k, n_times - 1)
    return round(k * (n_times - 1) / (n_frames - 1))


def downsample_notice(
    n_particles: int, shown_particles: int, n_frames: int, shown_frames: int
) -> str:
    """'showing 300 of 100,000 particles, 40 of 3,000 frames' (empty when nothing is dropped)."""
    bits = []
    if shown_particles < n_particles:
        bits.append(f"{shown_particles:,} of {n_particles:,} particles")
    if shown_frames < n_frames:
        bits.append(f"{shown_frames:,} of {n_frames:,} frames")
    return "showing " + ", ".join(bits) if bits else ""


def f32(values) -> np.ndarray:
    """A contiguous float32 copy (plotly stores it as a base64 typed array)."""
    return np.ascontiguousarray(np.asarray(values, dtype=np.float32))


def is_finite_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
