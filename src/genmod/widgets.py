"""The animation widget and the target explorer: what the notebooks call.

``animate(traj)`` shows one trajectory, ``animate(chain, map, target=t)`` two side
by side with one shared Play button, time slider, speed control, Step and Reset.
Each panel (:mod:`genmod.trajectory_panel`) draws the density heatmap and contours,
particles (WebGL) with fading trails, marginal histograms against the true marginals, a
trace strip, and its sampler's moves (:mod:`genmod.overlays`: how an RWM, MALA or HMC
chain is drawn). The live widget is :class:`genmod.render_live.Animation`; its output
also carries a kernel-free plotly figure with frames (:mod:`genmod.static_animation`).
Returns ipywidgets boxes (never a bare FigureWidget, whose text repr carries a random uid).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from genmod import plots
from genmod.explorer import Explorer, explorer
from genmod.options import MAX_PARTICLES_DRAWN, AnimationOptions
from genmod.render_live import Animation
from genmod.scene import Patch, f32
from genmod.targets import Target
from genmod.trajectory import Trajectory

__all__ = ["Animation", "animate", "target_explorer"]


def animate(
    *trajectories: Trajectory,
    target: Target | None = None,
    size: int | None = None,
    interval_ms: int = 100,
    max_points: int = MAX_PARTICLES_DRAWN,
    highlight: int | list[int] = 3,
    trail: int = 4,
    trail_points: int = 200,
    hist: str = "auto",
    bins: int = 40,
    readout: bool = True,
    quality_points: int = 300,
    burn_in: int | None = None,
    align: str = "proportional",
    log_density: bool = False,
    seed: int = 0,
    extra_readout=None,
) -> Animation:
    """Animate one or more trajectories side by side with one Play button and slider.

    Parameters
    ----------
    trajectories: Trajectory objects (chains or maps), one panel each; their frames share
        the slider (``align``).
    target: optional Target drawn under every panel (density heatmap and contours); enables
        the true marginals, the exact-samples toggle and the quality readout.
    size: width in pixels of each panel's main plot (default 300 for one panel, 250 for
        two or more, so two panels fit a notebook's width).
    interval_ms: time per frame while playing (clamped to >= 60 ms).
    max_points: draw at most this many particles per panel (the first ones).
    highlight: how many chains (the first ones), or which indices, get proposal arrows,
        1- and 2-sigma proposal circles (RWM, MALA, ULA), the MALA drift, HMC momentum arrow
        and leapfrog path, accept (green) / reject (red) rings, and a line in the trace strip.
    trail: fading trail length in steps (0: none), drawn for the first ``trail_points``.
    hist: marginal histograms of the "current" frame, or "cumulative" (every frame so far,
        pooled); "auto": current with >= 50 particles, else cumulative.
    readout: show distance / noise floor (with a target) and independent samples so far.
    quality_points: the quality readout (``metrics.quality``, three pairwise-distance passes
        and a fresh reference draw per frame) uses the first this many finite particles
        (at most 1000); cached per frame. 300 keeps Play smooth on a busy 2-core machine.
    burn_in: steps dropped before counting a chain's independent samples (None: the first
        half of the steps so far).
    align: "proportional" maps the shared frame onto each trajectory's length (both end
        together); "step": frame k is time index k of every trajectory (a short map
        finishes early and waits: the honest race of steps).
    log_density: shade log p instead of p (funnel).
    seed: seed of the exact samples and of the quality reference draw.
    extra_readout: optional ``(trajectory, time index) -> str`` added to each readout line.

    Returns
    -------
    Animation (an ipywidgets VBox); ``show_frame(k)`` draws frame k. Its output bundle also
    holds ``static_figure()``: a plotly figure with frames, Play and a slider (at most 40
    frames of 300 particles, :data:`genmod.scene.DEFAULT_BUDGET`), shown with no kernel.
    """
    trajectories = list(trajectories)
    if not trajectories:
        raise ValueError("animate needs at least one trajectory")
    for t in trajectories:
        if not isinstance(t, Trajectory):
            raise TypeError(f"expected Trajectory, got {type(t).__name__}")
    if target is not None and not isinstance(target, Target):
        raise TypeError(f"target must be a genmod Target, got {type(target).__name__}")
    size = (300 if len(trajectories) == 1 else 250) if size is None else size
    opts = AnimationOptions(
        size=size,
        interval_ms=interval_ms,
        max_points=max_points,
        highlight=highlight,
        trail=trail,
        trail_points=trail_points,
        hist=hist,
        bins=bins,
        readout=readout,
        quality_points=quality_points,
        burn_in=burn_in,
        align=align,
        log_density=log_density,
        seed=seed,
        extra_readout=extra_readout,
    )
    return Animation(trajectories, target, opts)


def target_explorer(names: list[str] | None = None, n: int = 500, height: int = 420) -> Explorer:
    """Pick a target and a sample size: its density, exact samples, and their quality.

    The readout gives energy distance to a fresh exact draw over the noise floor
    (about 1 for exact samples, whatever the size: the floor shrinks like 1/n).
    Static form: every target at ``n`` samples.
    """
    import ipywidgets as W

    from genmod import metrics, targets

    names = names or targets.names()
    pick = W.Dropdown(options=names, value=names[0], description="target")
    size = W.IntSlider(
        value=n, min=50, max=5000, step=50, description="samples", continuous_update=False
    )
    base = plots.layout(
        go.Figure(
            [
                plots.density_trace(targets.get(names[0]), resolution=60),
                plots.points_trace(np.zeros((1, 2)), gl=True, size=3),
            ]
        ),
        height=height,
        width=height,
        showlegend=False,
    )

    def draw(v) -> Patch:
        t = targets.get(v["target"])
        x = t.sample(v["samples"], seed=0)
        heat = plots.density_trace(t, resolution=60)
        (x0, x1), (y0, y1) = t.bounds
        q = metrics.quality(x, t, seed=0)
        layout = {
            "xaxis.range": [x0, x1],
            "yaxis.range": [y0, y1],
            "yaxis.scaleanchor": "x",
            "title.text": f"{t.name}: {v['samples']} exact samples",
        }
        traces = {
            0: {"x": heat.x, "y": heat.y, "z": heat.z},
            1: {"x": f32(x[:, 0]), "y": f32(x[:, 1])},
        }
        readout = (
            "energy distance to a fresh exact draw / noise floor "
            f"at n={v['samples']}: <b>{q:.2f}</b>"
        )
        return Patch(traces, layout, readout)

    settings = [(name, {"target": name}) for name in names]
    return explorer(
        [W.HBox([pick, size])],
        {"target": pick, "samples": size},
        base,
        draw,
        settings,
        slider_prefix="target ",
    )
