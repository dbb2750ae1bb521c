"""The live renderer: a scene in FigureWidgets, driven by ipywidgets controls and the kernel.

:class:`Animation` shows trajectory panels side by side (one FigureWidget each) with one
Play button, frame slider, speed control, Step and Reset; :func:`apply_patch` draws a
:class:`genmod.scene.Patch` in one ``plotly_update`` message (what ``batch_update`` sends,
without re-running plotly's property validators, about 1 ms each). Its output bundle also
carries the static form (:mod:`genmod.static_animation`) for a page with no kernel.
"""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go
from plotly.basedatatypes import Undefined

from genmod import drawing
from genmod.options import MIN_INTERVAL_MS, AnimationOptions
from genmod.render_static import StaticForm
from genmod.scene import DEFAULT_BUDGET, Budget, Patch, frame_index
from genmod.staged import StagedFigure
from genmod.static_animation import static_animation
from genmod.trajectory import Trajectory
from genmod.trajectory_panel import TrajectoryPanel, View


def apply_patch(fig: go.FigureWidget, patch: Patch) -> None:
    """Send a patch's trace and layout changes to the figure in one message."""
    order = sorted(patch.traces)
    keys = sorted({k for c in patch.traces.values() for k in c})
    data = {k: [patch.traces[i].get(k, Undefined) for i in order] for k in keys}
    fig.plotly_update(restyle_data=data, relayout_data=dict(patch.layout), trace_indexes=order)


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


class Animation(StaticForm, W.VBox):
    """The widget ``animate`` returns: panels side by side, one Play/slider for all.

    Public: ``.play`` (ipywidgets.Play), ``.slider`` (IntSlider, the frame), ``.speed``
    (ms per frame), ``.step_button``, ``.reset_button``, ``.exact_toggle`` (None without a
    target), ``.panels`` (one TrajectoryPanel each), ``.figures`` (their FigureWidgets),
    ``.readouts`` (one HTML each), ``.show_frame(k)`` (the slider's observer calls it),
    ``.static_figure(budget)`` (the kernel-free form; ``static_spec`` as a dict).
    Drive it: ``anim.slider.value = 10``.
    """

    def __init__(self, trajectories: list[Trajectory], target, opts: AnimationOptions):
        self.trajectories, self.target, self.opts = trajectories, target, opts
        self.align = opts.align
        self.n_frames = max(len(t) for t in trajectories)
        exact = dens = None
        if target is not None:
            exact = target.sample(min(opts.max_points, 1000), seed=opts.seed)
            dens = drawing.density_layers(target, resolution=100, log=opts.log_density)
        self.panels = [TrajectoryPanel(t, target, opts, exact, dens) for t in trajectories]
        self.view = View(opts.max_points, opts.trail, opts.trail_points)
        self.figures = [StagedFigure(p.figure()) for p in self.panels]
        # the class marks a panel's readout for tests/test_browser.py
        self.readouts = [W.HTML().add_class("genmod-readout") for _ in self.panels]
        self._draw(0)
        self.prepare_static()
        for f in self.figures:
            f.publish()  # the browser's first picture is frame 0, layout and all
        last = self.n_frames - 1
        interval = opts.interval_ms
        self.play = W.Play(
            value=0,
            min=0,
            max=last,
            step=1,
            interval=interval,
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
            value=interval,
            min=MIN_INTERVAL_MS,
            max=1000,
            step=20,
            description="ms/frame",
            layout=W.Layout(width="260px"),
        )
        W.jslink((self.play, "value"), (self.slider, "value"))  # browser-side: smooth playing
        self.speed.observe(self._on_speed, names="value")
        small = W.Layout(width="64px")
        self.step_button = W.Button(description="Step", tooltip="one frame forward", layout=small)
        self.reset_button = W.Button(
            description="Reset", tooltip="stop and go to frame 0", layout=small
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
        self.slider.observe(lambda ch: self.show_frame(ch["new"]), names="value")
        self.columns = [W.VBox([f, r]) for f, r in zip(self.figures, self.readouts)]
        row = W.HBox(controls, layout=W.Layout(flex_flow="row wrap"))
        super().__init__([W.HBox(self.columns), row])
        for i, f in enumerate(self.figures):
            redraw_if_blank(f, lambda new, i=i: self._swap(i, new))

    def _swap(self, i: int, new: go.FigureWidget) -> None:
        self.figures[i] = new
        self.columns[i].children = (new, self.readouts[i])

    def frame_index(self, traj: Trajectory, k: int) -> int:
        """Time index of ``traj`` shown at shared frame k (``align``: proportional or step)."""
        return frame_index(self.n_frames, len(traj), k, self.align)

    def show_frame(self, k: int) -> None:
        """Draw shared frame ``k`` (clamped to the valid range) in every panel.

        Also moves the slider (and Play) to k, so the controls agree with the picture.
        """
        k = max(0, min(int(k), self.n_frames - 1))
        if self.slider.value != k:
            self.play.value = k
            self.slider.value = k  # its observer calls show_frame(k) again and draws
            return
        self._draw(k)

    def _draw(self, k: int) -> None:
        for p, f, r in zip(self.panels, self.figures, self.readouts):
            patch = p.patch(self.frame_index(p.traj, k), self.view)
            apply_patch(f, patch)
            r.value = patch.readout

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

    def static_spec(self, budget: Budget = DEFAULT_BUDGET) -> dict:
        """The kernel-free form: a plotly figure (dict) with frames, Play/Pause, a frame slider."""
        return static_animation(
            self.panels, self.n_frames, self.align, budget, self.opts.interval_ms
        )

    def static_figure(self, budget: Budget = DEFAULT_BUDGET) -> go.Figure:
        """:meth:`static_spec` as a validated ``go.Figure``."""
        return go.Figure(self.static_spec(budget))

    def _on_speed(self, change) -> None:
        self.play.interval = max(MIN_INTERVAL_MS, int(change["new"]))

    def _on_exact(self, change) -> None:
        for p, f in zip(self.panels, self.figures):
            f.data[p.idx["exact"]].visible = bool(change["new"])
