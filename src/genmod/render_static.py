"""The static renderer: a scene as a plain plotly figure with frames, Play/Pause and a slider.

It plays in the browser with no kernel: in a notebook opened cold, in a static HTML
export, in any viewer that renders ``application/vnd.plotly.v1+json``. Each stored
frame is a :class:`genmod.scene.Patch` (new data for some traces, layout changes); its
readout becomes text on the figure. :class:`StaticForm` puts that figure into a widget's
output bundle beside the widget view: JupyterLab shows the widget while the kernel's
widget models exist and the plotly figure when they do not (a notebook opened cold).
"""

from __future__ import annotations

import copy
import html
import json
import math
import re

import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64
from plotly.io.json import to_json_plotly

from genmod import density_image, plots
from genmod.scene import Patch

PLOTLY_MIME = "application/vnd.plotly.v1+json"
#: extra bottom margin (px) for the Play button, the slider and the readout text
CONTROLS_PX = 95
READOUT_LINE_PX = 16
BUTTONS_PX = 125  # width of the Play and Pause buttons


def nest(props: dict) -> dict:
    """Plotly's dotted names as nested dicts: {"a.b": 1} -> {"a": {"b": 1}}."""
    out: dict = {}
    for key, value in props.items():
        *path, last = key.split(".")
        node = out
        for p in path:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def plain_text(readout: str) -> str:
    """An HTML readout as plotly text: entities as characters, spans dropped, bits on lines."""
    text = re.sub(r'<span title="[^"]*">|</span>', "", readout)
    text = text.replace(" &middot; ", "<br>").replace("&nbsp;", " ")
    return html.unescape(text)


def readout_annotation(
    text: str, x: float = 0.0, xanchor: str = "left", below_px: int = 40
) -> dict:
    """The per-frame readout, written ``below_px`` under the plot area (paper coordinates)."""
    return dict(
        text=plain_text(text),
        x=x,
        xanchor=xanchor,
        xref="paper",
        y=0,
        yref="paper",
        yanchor="top",
        yshift=-below_px,
        align="left",
        showarrow=False,
        font=dict(size=11),
        name="readout",
    )


def static_spec(
    base: go.Figure | dict,
    patches: list[Patch],
    labels: list[str],
    *,
    notice: str = "",
    interval_ms: int = 150,
    slider_prefix: str = "",
) -> dict:
    """A plotly figure (as a dict) that plays ``patches`` as frames, with Play/Pause and a slider.

    base: the scene's traces and layout; patches[0] is applied to it (what shows before
    Play). Each patch's ``readout`` becomes a text annotation; ``notice`` (what the static
    form left out, e.g. "showing 300 of 10,000 particles") a line above the plot.
    A dict, not a ``go.Figure``: plotly's validators would take seconds on 40 frames;
    ``go.Figure(spec)`` validates it (the tests do).
    """
    if not patches or len(patches) != len(labels):
        raise ValueError(
            f"need one label per patch, got {len(patches)} patches, {len(labels)} labels"
        )
    # heatmaps become layout images (plotly.js hides heatmap traces while playing frames)
    heat = density_image.heatmap_sources(base) if isinstance(base, go.Figure) else {}
    spec = base.to_plotly_json() if isinstance(base, go.Figure) else copy.deepcopy(base)
    data, layout = spec["data"], spec.setdefault("layout", {})
    images = list(layout.get("images", []))
    for i in heat:
        axes = {"xaxis": heat[i]["xref"], "yaxis": heat[i]["yref"]}
        data[i] = {"type": "heatmap", "visible": False, **axes}
    kept = list(layout.get("annotations", []))
    lines = max(readout_lines(p.readout) for p in patches)
    own = [
        a.get("text", "")
        for p in patches
        for a in p.layout.get("annotations", [])
        if a.get("name") == "readout"
    ]
    lines = max([lines, *map(readout_lines, own)])
    m = layout.get("margin", {})
    b0, t0 = m.get("b", 40), m.get("t", 50)
    h0 = layout.get("height") or 420
    plot_px = max(h0 - t0 - b0, 50)
    readout_px = READOUT_LINE_PX * lines + 8
    under = b0 + (0 if layout.get("showlegend") is False else 24)  # below a legend, if any
    extra = readout_px + CONTROLS_PX + under - b0
    controls_y = -(under + readout_px) / plot_px  # paper units below the plot area
    w0 = layout.get("width") or 700
    plot_w = max(w0 - m.get("l", 80) - m.get("r", 80), 100)
    slider_x = min(BUTTONS_PX / plot_w, 0.5)  # the slider starts right of Play / Pause
    if notice:  # a line at the very top of the figure (the title: frames never repeat it)
        _add_notice(layout, notice)
        t0, h0 = t0 + 18, h0 + 18

    def annotations(p: Patch) -> list[dict]:
        own = [readout_annotation(p.readout, below_px=under)] if p.readout else []
        return kept + list(p.layout.get("annotations", [])) + own

    def layout_of(p: Patch) -> dict:
        out = nest({k: v for k, v in p.layout.items() if k != "annotations"})
        out["annotations"] = annotations(p)
        if heat:
            shown = [density_image.source_image(heat[i], p.traces.get(i, {})) for i in heat]
            out["images"] = images + shown
        return out

    def trace_of(i: int, p: Patch) -> dict:
        if i in heat:  # drawn as an image
            return {"type": "heatmap"}
        return {"type": data[i].get("type", "scatter"), **nest(p.traces.get(i, {}))}

    frames = []
    for name, p in zip(labels, patches):
        # every trace is in every frame, unchanged ones as {"type": ...} alone: while playing,
        # plotly.js draws only a frame's traces (a heatmap left out blinks off until the end)
        traces = [trace_of(i, p) for i in range(len(data))]
        frames.append(
            {"name": name, "data": traces, "traces": list(range(len(data))), "layout": layout_of(p)}
        )
    for i, props in patches[0].traces.items():
        if i not in heat:
            _merge(data[i], nest(props))
    _merge(layout, layout_of(patches[0]))
    _merge(
        layout,
        dict(
            height=h0 + extra,
            margin=dict(b=b0 + extra, t=t0),
            updatemenus=[_buttons(interval_ms, controls_y)],
            sliders=[_slider(labels, slider_prefix, controls_y, slider_x, m.get("r", 80))],
        ),
    )
    spec["frames"] = frames
    return spec


def _add_notice(layout: dict, notice: str) -> None:
    """Put ``notice`` in small grey italics above the title, in ``layout`` (changed in place)."""
    title = layout.get("title", {}).get("text")
    layout["title"] = dict(
        text=f"<span style='font-size:10px;color:#666'><i>{notice}</i></span>"
        + (f"<br>{title}" if title else ""),
        x=0.01,
        xanchor="left",
        y=0.995,
        yanchor="top",
        yref="container",
    )


def _merge(into: dict, new: dict) -> None:
    """Deep-merge ``new`` into ``into`` (arrays and lists replaced), as plotly merges a frame."""
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def static_figure(*args, **kwargs) -> go.Figure:
    """:func:`static_spec` as a validated ``go.Figure``."""
    return go.Figure(static_spec(*args, **kwargs))


def _animate_args(duration: int, redraw: bool = True) -> dict:
    return {
        "frame": {"duration": duration, "redraw": redraw},
        "mode": "immediate",
        "transition": {"duration": 0},
        "fromcurrent": True,
    }


def readout_lines(text: str) -> int:
    """Lines a readout takes on the figure (0 for none)."""
    return 1 + plain_text(text).count("<br>") if text else 0


def _buttons(interval_ms: int, y: float) -> dict:
    """Play / Pause (plotly's own animation, no kernel)."""
    return dict(
        type="buttons",
        direction="left",
        showactive=False,
        x=0,
        xanchor="left",
        y=y,
        yanchor="top",
        pad=dict(t=30, r=10),
        name="play",
        buttons=[
            dict(label="Play", method="animate", args=[None, _animate_args(interval_ms)]),
            dict(label="Pause", method="animate", args=[[None], _animate_args(0, False)]),
        ],
    )


def _slider(labels: list[str], prefix: str, y: float, x: float, margin_r: float) -> dict:
    steps = [dict(method="animate", label=lab, args=[[lab], _animate_args(0)]) for lab in labels]
    # the last step's label is centred on the slider's end: keep it inside the figure
    short = plots.text_width(labels[-1]) / 2 - margin_r
    room = dict(r=math.ceil(short)) if short > 0 else {}
    return dict(
        active=0,
        steps=steps,
        x=x,
        len=1 - x,
        xanchor="left",
        y=y,
        yanchor="top",
        pad=dict(t=10, **room),
        currentvalue=dict(prefix=prefix, font=dict(size=11)),
        name="frame",
    )


def figure_json(fig: go.Figure | dict) -> dict:
    """The figure as the dict a notebook stores (numpy arrays as base64 typed arrays)."""
    spec = fig.to_plotly_json() if isinstance(fig, go.Figure) else fig
    convert_to_base64(spec)  # in place: numpy arrays -> {"dtype": "f4", "bdata": ...}
    return json.loads(to_json_plotly(spec))


class StaticForm:
    """Mixin for an ipywidgets box: its output bundle also holds the static plotly figure.

    The subclass implements ``static_spec() -> dict`` (:func:`static_spec`); it is built on
    first display and cached. JupyterLab renders the widget view when its model is live,
    else the figure.
    """

    _static_json: dict | None = None

    def static_spec(self) -> dict:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def static_figure(self) -> go.Figure:
        """The kernel-free form as a validated ``go.Figure``."""
        return go.Figure(self.static_spec())

    def prepare_static(self) -> dict:
        """Build (once) and return the stored form. Widgets call it before their first
        FigureWidget opens its comm: a browser then loads plotly's module (anywidget allows
        2 s) while the kernel is idle, not while it computes these frames."""
        if self._static_json is None:
            self._static_json = figure_json(self.static_spec())
        return self._static_json

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)
        if data is not None:
            data[PLOTLY_MIME] = self.prepare_static()
        return data
