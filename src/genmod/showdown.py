"""Notebook 08's helpers: the benchmark table as an interactive quality-vs-cost plot.

The rows come from ``benchmarks/run.py`` (written to ``benchmarks/results.json``; the
caller names the file, so nothing depends on where the package is installed): one per
sampler and target, with training and sampling seconds, evaluations per 2,000 samples,
and quality (energy distance / noise floor).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from genmod import plots, ways

COST_AXES = {
    "sample_s": "seconds to draw 2,000 samples",
    "total_s": "training + sampling seconds",
    "evals": "target or model evaluations per 2,000 samples",
}


def load(path: str | Path) -> list[dict]:
    """The benchmark rows in ``path`` (a list of dicts); ``total_s`` = train_s + sample_s
    is added."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `python benchmarks/run.py` first")
    rows = json.loads(path.read_text())
    for r in rows:
        r["total_s"] = r["train_s"] + r["sample_s"]
    return rows


def best(rows: list[dict], target: str, way: str) -> dict:
    """The row with the best (lowest) quality ratio for a target and a way ("chain"/"map")."""
    cands = [r for r in rows if r["target"] == target and r["way"] == way]
    if not cands:
        raise ValueError(f"no {way} rows for target {target!r}")
    return min(cands, key=lambda r: r["quality"])


# The figure's size in pixels, fixed so that labels can be placed on it (figure()).
WIDTH, HEIGHT = 760, 460
MARGIN = dict(l=40, r=40, t=50, b=70)  # b: the x title and legend; r: a slider label
PLOT_W, PLOT_H = WIDTH - MARGIN["l"] - MARGIN["r"], HEIGHT - MARGIN["t"] - MARGIN["b"]
MARKER_PX = 11  # marker diameter
LABEL_H = 18  # one line of 12 px text: 17 px with plotly's padding, measured in Chromium


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels, y down


def _overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Shared areas of boxes a (m, 4) and b (k, 4): (m, k)."""
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def _through(p: np.ndarray, q: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Whether segments p-q (m, 2) pass through the inside of boxes (k, 4): (m, k) bools
    (Liang-Barsky clipping; a zero-length segment passes through nothing)."""
    lo, hi = np.zeros((len(p), len(box))), np.ones((len(p), len(box)))
    for ax in (0, 1):
        start, delta = p[:, ax, None], (q[:, ax] - p[:, ax])[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            t0 = (box[None, :, ax] - start) / delta
            t1 = (box[None, :, ax + 2] - start) / delta
        flat = delta == 0
        inside = (box[None, :, ax] < start) & (start < box[None, :, ax + 2])
        t0 = np.where(flat, np.where(inside, -np.inf, np.inf), t0)
        t1 = np.where(flat, np.where(inside, np.inf, -np.inf), t1)
        lo, hi = np.maximum(lo, np.minimum(t0, t1)), np.minimum(hi, np.maximum(t0, t1))
    return (lo < hi) & (np.hypot(*(q - p).T) > 0)[:, None]


def _cross(p, q, r, t) -> np.ndarray:
    """Whether segments p-q (m, 2) and r-t (k, 2) cross: (m, k) bools."""

    def turn(o, u, v):
        return (u[..., 0] - o[..., 0]) * (v[..., 1] - o[..., 1]) - (u[..., 1] - o[..., 1]) * (
            v[..., 0] - o[..., 0]
        )

    p, q, r, t = p[:, None], q[:, None], r[None], t[None]
    return (turn(p, q, r) * turn(p, q, t) < 0) & (turn(r, t, p) * turn(r, t, q) < 0)


def _candidates(w: float, h: float) -> np.ndarray:
    """Offsets (dx, dy, leader) of a label's centre from its point, nearest first: next to
    the point (leader 0), then on rings with a leader line (1): (108, 3)."""
    r = MARKER_PX / 2 + 2
    near = [(0, -(r + h / 2)), (0, r + h / 2), (r + w / 2, 0), (-(r + w / 2), 0)]
    near += [(sx * (0.7 * r + w / 2), sy * (0.7 * r + h / 2)) for sy in (-1, 1) for sx in (1, -1)]
    near += [(sx * (w / 2 - r), sy * (r + h / 2)) for sy in (-1, 1) for sx in (1, -1)]  # flush
    out = [(dx, dy, 0.0) for dx, dy in near]
    for dist in (18, 30, 44, 60, 80, 104):
        for k in range(16):
            dx, dy = dist * np.cos(np.pi * k / 8), -dist * np.sin(np.pi * k / 8)
            # the box's near edge (not its centre) on the ray, clear of the marker
            out.append((dx + np.sign(round(dx, 6)) * w / 2, dy + np.sign(round(dy, 6)) * h / 2, 1))
    return np.array(out, dtype=float)


def place_labels(
    px, py, labels, *, width: float = PLOT_W, height: float = PLOT_H, avoid=()
) -> list[tuple[float, float, bool]]:
    """Where each label goes on a scatter drawn in pixels, so that no two labels overlap.

    px, py: the points' pixel coordinates in the plot area (y down); ``avoid``: boxes
    (x0, y0, x1, y1) other text already takes. Returns one (dx, dy, leader) per point: the
    offset of its label's centre from the point, and whether to draw a line to it.

    Each label takes the cheapest of 108 candidate positions: next to its point (above,
    below, right, left, the corners, above or below flush with it), then on rings 18-104 px
    out with a leader line. The cost: the area it shares with other labels, markers,
    ``avoid`` and the outside of the plot, heavily weighted, and any marker it touches at
    all, more heavily still; then leader lines crossing
    labels, markers or each other, and closeness to another point (where it would be read
    as that point's); then its distance. Crowded points choose first; three more passes let
    each label move given all the others.
    """
    pts = np.column_stack([px, py]).astype(float)
    n = len(pts)
    rm = MARKER_PX / 2
    markers = np.column_stack([pts - rm, pts + rm])
    halos = np.column_stack([pts - rm - 5, pts + rm + 5])
    avoid = np.array(avoid, dtype=float).reshape(-1, 4)
    plot = np.array([[0.0, 0.0, width, height]])
    cands, boxes, tips = [], [], []
    for i, s in enumerate(labels):
        w = plots.text_width(s)
        c = _candidates(w, LABEL_H)
        centre = pts[i] + c[:, :2]
        half = np.array([w / 2, LABEL_H / 2])
        cands.append(c)
        boxes.append(np.column_stack([centre - half, centre + half]))
        tips.append(np.where(c[:, 2:] > 0, centre, pts[i]))  # no leader: zero length

    def alone(i: int) -> np.ndarray:
        """Each candidate's cost that does not depend on the other labels."""
        b, c = boxes[i], cands[i]
        own = np.repeat(pts[i : i + 1], len(b), 0)
        cost = 100 * ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - _overlaps(b, plot)[:, 0])
        cost += 100 * _overlaps(b, np.vstack([markers, avoid])).sum(1)
        cost += 1000 * (_overlaps(b, markers) > 0).sum(1)  # a marker under text, however little
        cost += 10 * np.delete(_overlaps(b, halos), i, 1).sum(1)  # read as another's label
        cost += 300 * np.delete(_through(own, tips[i], markers), i, 1).sum(1)
        return cost + np.where(c[:, 2] > 0, 30 + np.hypot(c[:, 0], c[:, 1]), np.arange(len(c)))

    fixed = [alone(i) for i in range(n)]
    chosen = np.full(n, -1)

    def best(i: int) -> int:
        others = [j for j in range(n) if j != i and chosen[j] >= 0]
        cost = fixed[i].copy()
        if others:
            ob = np.array([boxes[j][chosen[j]] for j in others])
            op = pts[others]
            ot = np.array([tips[j][chosen[j]] for j in others])
            mine = np.repeat(pts[i : i + 1], len(boxes[i]), 0)
            cost += 100 * _overlaps(boxes[i], ob).sum(1)
            crossings = _through(mine, tips[i], ob).astype(int) + _through(op, ot, boxes[i]).T
            cost += 300 * (crossings + _cross(mine, tips[i], op, ot)).sum(1)
        return int(np.argmin(cost))

    crowd = [int(np.sum(np.hypot(*(pts - pts[i]).T) < 60)) for i in range(n)]
    order = sorted(range(n), key=lambda i: (-crowd[i], i))
    for _ in range(4):
        for i in order:
            chosen[i] = best(i)
    return [(float(c[k, 0]), float(c[k, 1]), bool(c[k, 2])) for c, k in zip(cands, chosen)]


def label_boxes(px, py, labels, placed) -> list[Box]:
    """The label boxes :func:`place_labels`' offsets give (for checks)."""
    out = []
    for x, y, s, (dx, dy, _) in zip(px, py, labels, placed):
        w = plots.text_width(s)
        out.append((x + dx - w / 2, y + dy - LABEL_H / 2, x + dx + w / 2, y + dy + LABEL_H / 2))
    return out


def _log_range(values, pad: float = 0.1, least: float = 0.4) -> tuple[float, float]:
    """A log axis range (log10 units) around ``values`` with room for labels at the ends."""
    v = np.log10(np.maximum(np.asarray(values, dtype=float), 1e-12))
    span = max(float(v.max() - v.min()), least)
    return float(v.min() - pad * span), float(v.max() + pad * span)


def _log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Ticks of a log axis over log10 range [lo, hi]: 1, 2, 5 in each decade over short
    ranges, decades over long ones, all in the same font (plotly's own minor digits are
    small and easy to misread)."""
    mantissas = (1, 2, 5) if hi - lo < 2.5 else (1,)
    vals = [
        m * 10.0**e
        for e in range(int(np.floor(lo)), int(np.ceil(hi)) + 1)
        for m in mantissas
        if lo <= np.log10(m * 10.0**e) <= hi
    ]
    return vals, [f"{v:g}" for v in vals]


def _label(name: str, lx: float, ly: float, placed: tuple[float, float, bool]) -> dict:
    """A label's annotation, every property set: a played frame merges its annotations into
    the previous frame's, so a property left out would keep the last label's value."""
    dx, dy, leader = placed
    return dict(
        x=lx, y=ly, xref="x", yref="y", text=name, font=dict(color="#444"), visible=True,
        xanchor="center", yanchor="middle",  # with a leader: the box's centre is its end
        showarrow=leader, ax=dx if leader else 0, ay=dy if leader else 0, arrowhead=0,
        arrowwidth=1, arrowcolor="#aaa", standoff=MARKER_PX / 2 + 1,
        xshift=0 if leader else dx, yshift=0 if leader else -dy,
    )  # fmt: skip


def figure(rows: list[dict], target: str, cost: str = "total_s") -> go.Figure:
    """Quality (log) against cost (log) for every sampler on one target, each point labelled
    with its sampler (labels placed by :func:`place_labels` on the fixed-size figure)."""
    if cost not in COST_AXES:
        raise ValueError(f"cost must be one of {', '.join(COST_AXES)}, got {cost!r}")
    sel = [r for r in rows if r["target"] == target]
    if not sel:
        raise ValueError(f"no rows for target {target!r}")
    # a diverged run is a failure, not a point: it is named in the title, off the log axis
    gone = [r for r in sel if ways.diverged(r)]
    sel = [r for r in sel if not ways.diverged(r)]
    title = f"{target}: quality vs cost"
    if gone:
        named = ", ".join(f"{r['sampler']} ({r['quality']:.1e})" for r in gone)
        title += f"<br><sup>diverged, not drawn: {named}</sup>"
    xs = [max(r[cost], 1e-4) for r in sel]
    ys = [r["quality"] for r in sel]
    names = [r["sampler"] for r in sel]
    xr, yr = _log_range(xs), _log_range([*ys, 1.0])
    lx, ly = np.log10(xs), np.log10(ys)
    px = (lx - xr[0]) / (xr[1] - xr[0]) * PLOT_W
    py = (yr[1] - ly) / (yr[1] - yr[0]) * PLOT_H
    # the y = 1 line's label: along the line, above or below, where no marker is under it
    y1 = yr[1] / (yr[1] - yr[0]) * PLOT_H
    note, note_w = "exact samples", plots.text_width("exact samples")
    spots = [(at, below) for at in (1.0, 0.0, 0.5, 0.75, 0.25) for below in (True, False)]

    def spot_box(at, below) -> Box:
        x0 = at * (PLOT_W - note_w)  # right end at 1, left end at 0
        return x0, y1 if below else y1 - LABEL_H, x0 + note_w, y1 + LABEL_H if below else y1

    markers = [(x - MARKER_PX, y - MARKER_PX, x + MARKER_PX, y + MARKER_PX) for x, y in zip(px, py)]
    at, below = min(
        spots, key=lambda sp: _overlaps(np.array([spot_box(*sp)]), np.array(markers)).sum()
    )
    placed = place_labels(px, py, names, avoid=[spot_box(at, below)])
    fig = go.Figure()
    for way in ("chain", "map"):
        idx = [i for i, r in enumerate(sel) if r["way"] == way]
        fig.add_trace(
            go.Scatter(
                x=[xs[i] for i in idx],
                y=[ys[i] for i in idx],
                mode="markers",
                text=[names[i] for i in idx],
                hovertemplate="%{text}: %{y:.2f} at %{x:.3g}<extra></extra>",
                marker=dict(size=MARKER_PX, color=plots.COLORS[way]),
                name="chains (statistician)" if way == "chain" else "maps (ML)",
            )
        )
    fig.add_hline(y=1, line=dict(dash="dot", color="#888"))
    # on a log axis an annotation's y is log10 of the value (add_hline's own label would
    # land at 10, not at 1)
    anchor = {1.0: "right", 0.0: "left"}.get(at, "center")
    x_at = {"right": 1.0, "left": 0.0}.get(anchor, (at * (PLOT_W - note_w) + note_w / 2) / PLOT_W)
    exact = dict(text=note, x=x_at, xref="x domain", xanchor=anchor, y=0,
                 yref="y", yanchor="top" if below else "bottom", showarrow=False,
                 font=dict(color="#666"))  # fmt: skip
    labels = [_label(n, x, y, p) for n, x, y, p in zip(names, lx, ly, placed)]
    fig.update_layout(annotations=[exact, *labels])
    xt, yt = _log_ticks(*xr), _log_ticks(*yr)
    fig.update_xaxes(type="log", title=COST_AXES[cost], range=xr, tickvals=xt[0], ticktext=xt[1])
    fig.update_yaxes(
        type="log",
        title="energy distance / noise floor (lower is better)",
        range=yr,
        tickvals=yt[0],
        ticktext=yt[1],
    )
    plots.layout(fig, height=HEIGHT, width=WIDTH, title=title)
    return fig.update_layout(margin=MARGIN)


def explorer(rows: list[dict]) -> W.VBox:
    """A target dropdown and a cost-axis toggle over :func:`figure` (static form: each target)."""
    from genmod.explorer import explorer as make_explorer
    from genmod.scene import Patch

    names = list(dict.fromkeys(r["target"] for r in rows))
    slots = 1 + max(sum(r["target"] == n for r in rows) for n in names)  # the note, a label each
    pick = W.Dropdown(options=names, value=names[0], description="target")
    axis = W.ToggleButtons(
        options=[(v, k) for k, v in COST_AXES.items()],
        value="total_s",
        description="cost",
        style={"button_width": "auto"},  # the default width cuts the labels off
    )

    def draw(v) -> Patch:
        new = figure(rows, v["target"], v["cost"])
        traces = {i: {"x": tr.x, "y": tr.y, "text": tr.text} for i, tr in enumerate(new.data)}
        lay = new.layout
        layout = {
            "title.text": lay.title.text,
            "xaxis.title.text": lay.xaxis.title.text,
            # as many annotations in every frame (the spare ones hidden): a played frame
            # with fewer would leave the previous frame's last labels on the plot
            "annotations": [a.to_plotly_json() for a in lay.annotations]
            + [dict(visible=False, text="")] * (slots - len(lay.annotations)),
        }
        for ax in ("xaxis", "yaxis"):
            for key in ("range", "tickvals", "ticktext"):
                layout[f"{ax}.{key}"] = list(lay[ax][key])  # plotly stores tuples
        return Patch(traces, layout)

    base = figure(rows, names[0], "total_s")
    base.layout.annotations = ()  # every frame brings its own labels (see draw)

    settings = [(name, {"target": name}) for name in names]
    return make_explorer(
        [W.HBox([pick]), axis],
        {"target": pick, "cost": axis},
        base,
        draw,
        settings,
        slider_prefix="target ",
    )


def _chain_setting(row: dict) -> tuple[str, float]:
    method = row["sampler"].lower()
    step = row.get("step_size")
    if step is None:  # older results: the step size is in the note ("step 0.2, ...")
        m = re.search(r"step ([0-9.eE+-]+)", row.get("note", ""))
        step = float(m.group(1)) if m else 0.1
    return method, float(step)


def race(rows: list[dict], target: str, n: int = 500, n_steps: int = 300, seed: int = 0):
    """The target's best chain (method and step size from the benchmark) against the
    inverse-transform map, the one map that needs no training, in one animation."""
    from genmod import inverse, mcmc, targets, widgets

    t = targets.get(target)
    method, step = _chain_setting(best(rows, target, "chain"))
    opts = {"n_leapfrog": 10} if method == "hmc" else {}
    chain = mcmc.sample(t, method, n_chains=n, n_steps=n_steps, step_size=step, seed=seed, **opts)
    chain.label = f"{method.upper()} chains (step {step:g})"
    a_map = inverse.sample(t, n, seed=seed)
    a_map.label = "inverse transform map"
    return widgets.animate(chain, a_map, target=t)


def race_explorer(rows: list[dict], n: int = 500, n_steps: int = 300) -> W.VBox:
    """A target dropdown that restarts :func:`race` on the chosen target.

    The animation is swapped in as the box's second child (no Output widget, whose
    captured state does not survive notebook execution without saved widget state).
    Static form: the race on the first target.
    """
    from genmod.explorer import Delegating

    names = list(dict.fromkeys(r["target"] for r in rows))
    pick = W.Dropdown(options=names, value=names[0], description="target")
    first = race(rows, names[0], n, n_steps)
    box = Delegating([pick, first], first)

    def show(_=None):
        box.children = [pick, race(rows, pick.value, n, n_steps)]

    pick.observe(show, names="value")
    return box
