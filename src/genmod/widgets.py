"""Play + slider animations of trajectories over a target density.

``animate(traj)`` shows one trajectory, ``animate(chain, map, target=t)`` two side
by side with one shared Play button and time slider. Returns an ipywidgets box
(never a bare FigureWidget, whose text repr carries a random uid).
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from genmod import plots
from genmod.targets import Target
from genmod.trajectory import Trajectory

MAX_PARTICLES_DRAWN = 2000


def _xy(traj: Trajectory, k: int, n: int):
    pts = traj.at(k)[:n].detach().float().numpy()
    return np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1])


class Animation(W.VBox):
    """The widget ``animate`` returns. ``.slider``, ``.play``, ``.figures`` are public,
    so tests and notebooks can drive it from Python (``anim.slider.value = 10``)."""

    def __init__(
        self,
        trajectories: list[Trajectory],
        target: Target | None,
        height: int,
        interval_ms: int,
        max_points: int,
    ):
        if not trajectories:
            raise ValueError("animate needs at least one trajectory")
        for t in trajectories:
            if not isinstance(t, Trajectory):
                raise TypeError(f"expected Trajectory, got {type(t).__name__}")
        self.trajectories = trajectories
        self.target = target
        self.n_frames = max(len(t) for t in trajectories)
        self.n_drawn = [min(t.n_particles, max_points) for t in trajectories]
        self.figures = [self._figure(t, n, height) for t, n in zip(trajectories, self.n_drawn)]
        self.play = W.Play(
            value=0,
            min=0,
            max=self.n_frames - 1,
            step=1,
            interval=max(60, int(interval_ms)),
            description="Play",
        )
        self.slider = W.IntSlider(
            value=0,
            min=0,
            max=self.n_frames - 1,
            description="frame",
            continuous_update=True,
            layout=W.Layout(width="420px"),
        )
        self.speed = W.IntSlider(
            value=self.play.interval,
            min=60,
            max=1000,
            step=20,
            description="ms/frame",
            layout=W.Layout(width="300px"),
        )
        W.jslink((self.play, "value"), (self.slider, "value"))
        W.jslink((self.speed, "value"), (self.play, "interval"))
        self.readout = W.HTML()
        self.slider.observe(self._on_frame, names="value")
        panels = W.HBox(self.figures)
        super().__init__([panels, W.HBox([self.play, self.slider, self.speed]), self.readout])
        self.show_frame(0)

    def _figure(self, traj: Trajectory, n: int, height: int) -> go.FigureWidget:
        color = plots.COLORS["chain" if traj.kind == "chain" else "map"]
        data = []
        if self.target is not None:
            data.append(plots.density_trace(self.target, resolution=80))
        x, y = _xy(traj, 0, n)
        data.append(
            go.Scattergl(
                x=x,
                y=y,
                mode="markers",
                name=traj.label or traj.kind,
                marker=dict(size=4, color=color, opacity=0.7),
            )
        )
        fig = go.FigureWidget(data=data)
        if self.target is not None:
            (x0, x1), (y0, y1) = self.target.bounds
            fig.update_xaxes(range=[x0, x1])
            fig.update_yaxes(range=[y0, y1], scaleanchor="x")
        plots.layout(
            fig, height=height, width=height, showlegend=False, title=traj.label or traj.kind
        )
        return fig

    def _frame_index(self, traj: Trajectory, k: int) -> int:
        # trajectories of different lengths share one slider: map frame k proportionally
        if self.n_frames == 1:
            return 0
        return round(k * (len(traj) - 1) / (self.n_frames - 1))

    def show_frame(self, k: int) -> None:
        """Draw frame ``k`` (clamped to the valid range) in every panel."""
        k = max(0, min(int(k), self.n_frames - 1))
        notes = []
        for traj, fig, n in zip(self.trajectories, self.figures, self.n_drawn):
            j = self._frame_index(traj, k)
            x, y = _xy(traj, j, n)
            with fig.batch_update():
                fig.data[-1].x, fig.data[-1].y = x, y
            t = float(traj.times[j])
            notes.append(f"<b>{traj.label or traj.kind}</b>: time {t:.3g} ({j + 1}/{len(traj)})")
        self.readout.value = " &nbsp;|&nbsp; ".join(notes)

    def _on_frame(self, change) -> None:
        self.show_frame(change["new"])


def animate(
    *trajectories: Trajectory,
    target: Target | None = None,
    height: int = 380,
    interval_ms: int = 100,
    max_points: int = MAX_PARTICLES_DRAWN,
) -> Animation:
    """Animate one or more trajectories side by side with one Play button and slider.

    Parameters
    ----------
    trajectories: Trajectory objects (chains or maps); their frames share the slider.
    target: optional Target whose density is drawn under every panel.
    interval_ms: time per frame while playing (at least 60 ms).
    max_points: draw at most this many particles per panel.
    """
    return Animation(list(trajectories), target, height, interval_ms, max_points)


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
    fig = go.FigureWidget(
        data=[
            plots.density_trace(targets.get(names[0]), resolution=90),
            plots.points_trace(np.zeros((1, 2)), gl=True, size=3),
        ]
    )
    plots.layout(fig, height=height, width=height, showlegend=False)
    readout = W.HTML()

    def redraw(_=None):
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
    return W.VBox([W.HBox([pick, size]), fig, readout])
