"""Play + slider animations of trajectories over a target density.

``animate(traj)`` shows one trajectory, ``animate(chain, map, target=t)`` two side
by side with one shared Play button, time slider, speed control, Step and Reset.
Each panel is one plotly FigureWidget: density heatmap and contours, particles
(WebGL) with fading trails, marginal histograms against the true marginals, and a
trace strip; for chains also the proposals of a few highlighted chains. Returns an
ipywidgets box (never a bare FigureWidget, whose text repr carries a random uid).
A panel lives in :mod:`genmod.anim_panel`, drawing primitives and the race
statistics in :mod:`genmod.anim_layers`.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from genmod import anim_layers as L
from genmod import plots
from genmod.anim_panel import Panel
from genmod.staged import StagedFigure
from genmod.targets import Target
from genmod.trajectory import Trajectory

MAX_PARTICLES_DRAWN = 2000
MIN_INTERVAL_MS = 60  # Play drops ticks faster than this; a slower frame only lags


def redraw_if_blank(fig: go.FigureWidget, swap, retries: int = 2) -> None:
    """Replace ``fig`` by a fresh copy (``swap(new)``) if a browser view of it drew blank.

    Under heavy CPU load JupyterLab sometimes renders a FigureWidget's view before the
    figure's initial state arrived: an empty plot that later updates cannot fix. Each view
    reports its traces after drawing (``_js2py_traceDeltas``); fewer than the figure has
    means such a blank view, and a new widget built from ``fig.to_dict()`` replaces it.
    """

    def check(change):
        msg = change["new"]
        if not msg or retries <= 0 or len(msg.get("trace_deltas", ())) >= len(fig.data):
            return
        fig.unobserve(check, names="_js2py_traceDeltas")
        new = StagedFigure(fig.to_dict()).publish()
        swap(new)
        redraw_if_blank(new, swap, retries - 1)

    fig.observe(check, names="_js2py_traceDeltas")


class Animation(W.VBox):
    """The widget ``animate`` returns: panels side by side, one Play/slider for all.

    Public: ``.play`` (ipywidgets.Play), ``.slider`` (IntSlider, the frame), ``.speed``
    (ms per frame), ``.step_button``, ``.reset_button``, ``.exact_toggle`` (None without a
    target), ``.figures`` (one FigureWidget per trajectory), ``.readouts`` (one HTML each),
    ``.show_frame(k)`` (the frame entry point; the slider's observer calls it).
    Drive it from Python: ``anim.slider.value = 10``.
    """

    def __init__(self, trajectories, target, opts: dict, align: str):
        self.trajectories, self.target, self.align = trajectories, target, align
        self.n_frames = max(len(t) for t in trajectories)
        exact = dens = None
        if target is not None:
            exact = target.sample(min(opts["max_points"], 1000), seed=opts["seed"])
            dens = L.density_layers(target, resolution=100, log=opts["log_density"])
            q = L.Quality(target, seed=opts["seed"])
            opts["quality_fn"] = q
        self.panels = [Panel(t, target, opts, exact, dens) for t in trajectories]
        self.figures = [p.fig for p in self.panels]
        self.stats = opts["readout"]
        last = self.n_frames - 1
        self.play = W.Play(
            value=0,
            min=0,
            max=last,
            step=1,
            interval=opts["interval"],
            description="Play",
            show_repeat=False,
        )
        self.slider = W.IntSlider(
            value=0,
            min=0,
            max=last,
            description="frame",
            continuous_update=True,
            layout=W.Layout(width="360px"),
        )
        self.speed = W.IntSlider(
            value=opts["interval"],
            min=MIN_INTERVAL_MS,
            max=1000,
            step=20,
            description="ms/frame",
            layout=W.Layout(width="260px"),
        )
        W.jslink((self.play, "value"), (self.slider, "value"))  # browser-side: smooth playing
        self.speed.observe(self._on_speed, names="value")
        self.step_button = W.Button(
            description="Step", tooltip="one frame forward", layout=W.Layout(width="64px")
        )
        self.reset_button = W.Button(
            description="Reset", tooltip="stop and go to frame 0", layout=W.Layout(width="64px")
        )
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        controls = [self.play, self.step_button, self.reset_button, self.slider, self.speed]
        self.exact_toggle = None
        if target is not None:
            self.exact_toggle = W.ToggleButton(
                value=False,
                description="exact samples",
                tooltip="overlay exact draws from the target",
            )
            self.exact_toggle.observe(self._on_exact, names="value")
            controls.append(self.exact_toggle)
        # the class marks a panel's readout for tests/test_browser.py
        self.readouts = [W.HTML().add_class("genmod-readout") for _ in self.panels]
        self.slider.observe(lambda ch: self.show_frame(ch["new"]), names="value")
        self.columns = [W.VBox([f, r]) for f, r in zip(self.figures, self.readouts)]
        row = W.HBox(controls, layout=W.Layout(flex_flow="row wrap"))
        super().__init__([W.HBox(self.columns), row])
        for i, f in enumerate(self.figures):
            redraw_if_blank(f, lambda new, i=i: self._swap(i, new))
        self.show_frame(0)

    def _swap(self, i: int, new: go.FigureWidget) -> None:
        self.panels[i].fig = self.figures[i] = new
        self.columns[i].children = (new, self.readouts[i])

    def frame_index(self, traj: Trajectory, k: int) -> int:
        """Time index of ``traj`` shown at shared frame k (``align``: proportional or step)."""
        k = max(0, min(int(k), self.n_frames - 1))
        if self.align == "step" or self.n_frames == 1:
            return min(k, len(traj) - 1)
        return round(k * (len(traj) - 1) / (self.n_frames - 1))

    def show_frame(self, k: int) -> None:
        """Draw shared frame ``k`` (clamped to the valid range) in every panel.

        Also moves the slider (and Play) to k, so the controls agree with the picture.
        """
        k = max(0, min(int(k), self.n_frames - 1))
        if self.slider.value != k:
            self.play.value = k
            self.slider.value = k  # its observer calls show_frame(k) again and draws
            return
        for p, r in zip(self.panels, self.readouts):
            j = self.frame_index(p.traj, k)
            p.update(j)
            r.value = p.readout(j, self.stats)

    def step(self) -> None:
        """One frame forward (stays at the last frame)."""
        k = min(self.slider.value + 1, self.n_frames - 1)
        self.play.value = k
        self.slider.value = k

    def reset(self) -> None:
        """Stop playing and go back to frame 0."""
        self.play.playing = False
        self.play.value = 0
        self.slider.value = 0

    def _on_speed(self, change) -> None:
        self.play.interval = max(MIN_INTERVAL_MS, int(change["new"]))

    def _on_exact(self, change) -> None:
        for p in self.panels:
            p.fig.data[p.idx["exact"]].visible = bool(change["new"])


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
    quality_points: int = 500,
    burn_in: int | None = None,
    align: str = "proportional",
    log_density: bool = False,
    seed: int = 0,
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
    quality_points: the quality readout uses the first this many finite particles (<= 1000
        keeps a frame cheap: about 4 ms at 500, 14 ms at 1000); cached per frame.
    burn_in: steps dropped before counting a chain's independent samples (None: the first
        half of the steps so far).
    align: "proportional" maps the shared frame onto each trajectory's length (both end
        together); "step": frame k is time index k of every trajectory (a short map
        finishes early and waits: the honest race of steps).
    log_density: shade log p instead of p (funnel).
    seed: seed of the exact samples and of the quality reference draw.

    Returns
    -------
    Animation (an ipywidgets VBox); ``show_frame(k)`` draws frame k.
    """
    trajectories = list(trajectories)
    if not trajectories:
        raise ValueError("animate needs at least one trajectory")
    for t in trajectories:
        if not isinstance(t, Trajectory):
            raise TypeError(f"expected Trajectory, got {type(t).__name__}")
    if target is not None and not isinstance(target, Target):
        raise TypeError(f"target must be a genmod Target, got {type(target).__name__}")
    if align not in ("proportional", "step"):
        raise ValueError(f"align must be 'proportional' or 'step', got {align!r}")
    if hist not in ("auto", "current", "cumulative"):
        raise ValueError(f"hist must be 'auto', 'current' or 'cumulative', got {hist!r}")
    size = (300 if len(trajectories) == 1 else 250) if size is None else size
    for name, v, lo in (
        ("size", size, 100),
        ("max_points", max_points, 1),
        ("bins", bins, 2),
        ("quality_points", quality_points, 2),
        ("trail", trail, 0),
        ("trail_points", trail_points, 0),
    ):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if isinstance(highlight, int) and highlight < 0:
        raise ValueError(f"highlight must be >= 0 or a list of indices, got {highlight!r}")
    opts = dict(
        size=size,
        interval=max(MIN_INTERVAL_MS, int(interval_ms)),
        max_points=max_points,
        highlight=highlight,
        trail=trail,
        trail_points=min(trail_points, max_points),
        hist=hist,
        bins=bins,
        readout=readout,
        quality_points=min(quality_points, 1000),
        burn_in=burn_in,
        log_density=log_density,
        seed=seed,
    )
    return Animation(trajectories, target, opts, align)


def target_explorer(names: list[str] | None = None, n: int = 500, height: int = 420) -> W.VBox:
    """Pick a target and a sample size: its density, exact samples, and their quality.

    The readout gives energy distance to a fresh exact draw over the noise floor
    (about 1 for exact samples, whatever the size: the floor shrinks like 1/n).
    """
    from genmod import metrics, targets

    names = names or targets.names()
    pick = W.Dropdown(options=names, value=names[0], description="target")
    size = W.IntSlider(
        value=n, min=50, max=5000, step=50, description="samples", continuous_update=False
    )
    fig = StagedFigure(
        data=[
            plots.density_trace(targets.get(names[0]), resolution=90),
            plots.points_trace(np.zeros((1, 2)), gl=True, size=3),
        ]
    )
    plots.layout(fig, height=height, width=height, showlegend=False)
    readout = W.HTML()
    figs = [fig]  # the current figure (redraw_if_blank may swap it)

    def redraw(_=None):
        fig = figs[0]
        t = targets.get(pick.value)
        x = t.sample(size.value, seed=0)
        heat = plots.density_trace(t, resolution=90)
        (x0, x1), (y0, y1) = t.bounds
        q = metrics.quality(x, t, seed=0)
        with fig.batch_update():
            fig.data[0].x, fig.data[0].y, fig.data[0].z = heat.x, heat.y, heat.z
            fig.data[1].x = np.ascontiguousarray(x[:, 0].numpy())
            fig.data[1].y = np.ascontiguousarray(x[:, 1].numpy())
            fig.layout.xaxis.range, fig.layout.yaxis.range = [x0, x1], [y0, y1]
            fig.layout.yaxis.scaleanchor = "x"
            fig.layout.title = f"{t.name}: {size.value} exact samples"
        readout.value = (
            f"energy distance to a fresh exact draw / noise floor at n={size.value}: <b>{q:.2f}</b>"
        )

    pick.observe(redraw, names="value")
    size.observe(redraw, names="value")
    redraw()
    box = W.VBox([W.HBox([pick, size]), fig.publish(), readout])

    def swap(new):
        figs[0] = new
        box.children = (box.children[0], new, readout)

    redraw_if_blank(fig, swap)
    return box
