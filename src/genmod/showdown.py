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


def label_positions(x, y, near: float = 0.15) -> list[str]:
    """A text position per point of a log-log scatter, so that close labels do not overlap.

    Points are visited left to right; a label goes above its point unless a placed label
    above a point within ``near`` decades (in x and y) is there already, then below, then
    to the right.
    """
    lx, ly = np.log10(np.maximum(x, 1e-12)), np.log10(np.maximum(y, 1e-12))
    out = [""] * len(lx)
    placed: list[tuple[float, float, str]] = []
    for i in np.argsort(lx, kind="stable"):
        taken = {p for px, py, p in placed if abs(px - lx[i]) < near and abs(py - ly[i]) < near}
        pos = next(
            (p for p in ("top center", "bottom center", "middle right") if p not in taken),
            "middle left",
        )
        out[i] = pos
        placed.append((lx[i], ly[i], pos))
    return out


def _log_dtick(values) -> str | int:
    """Tick spacing for a log axis: 1, 2, 5 per decade over short ranges, decades otherwise
    (plotly's default labels every digit over short ranges, too many to read)."""
    v = np.log10(np.maximum(np.asarray(values, dtype=float), 1e-12))
    return "D2" if v.max() - v.min() < 2 else 1


def figure(rows: list[dict], target: str, cost: str = "total_s") -> go.Figure:
    """Quality (log) against cost (log) for every sampler on one target."""
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
    pos = label_positions(xs, ys)
    fig = go.Figure()
    for way in ("chain", "map"):
        idx = [i for i, r in enumerate(sel) if r["way"] == way]
        fig.add_trace(
            go.Scatter(
                x=[xs[i] for i in idx],
                y=[ys[i] for i in idx],
                mode="markers+text",
                text=[sel[i]["sampler"] for i in idx],
                textposition=[pos[i] for i in idx],
                marker=dict(size=11, color=plots.COLORS[way]),
                name="chains (statistician)" if way == "chain" else "maps (ML)",
            )
        )
    fig.add_hline(y=1, line=dict(dash="dot", color="#888"))
    # on a log axis an annotation's y is log10 of the value (add_hline's own label would
    # land at 10, not at 1)
    fig.add_annotation(
        text="exact samples",
        x=1,
        xref="x domain",
        xanchor="right",
        y=0,
        yanchor="top",
        showarrow=False,
        font=dict(color="#666"),
    )
    fig.update_xaxes(type="log", title=COST_AXES[cost], dtick=_log_dtick(xs))
    fig.update_yaxes(
        type="log",
        title="energy distance / noise floor (lower is better)",
        dtick=_log_dtick([*ys, 1.0]),
    )
    return plots.layout(fig, height=460, title=title)


def explorer(rows: list[dict]) -> W.VBox:
    """A target dropdown and a cost-axis toggle over :func:`figure` (static form: each target)."""
    from genmod.explorer import explorer as make_explorer
    from genmod.scene import Patch

    names = list(dict.fromkeys(r["target"] for r in rows))
    pick = W.Dropdown(options=names, value=names[0], description="target")
    axis = W.ToggleButtons(
        options=[(v, k) for k, v in COST_AXES.items()],
        value="total_s",
        description="cost",
        style={"button_width": "auto"},  # the default width cuts the labels off
    )

    def draw(v) -> Patch:
        new = figure(rows, v["target"], v["cost"])
        traces = {
            i: {"x": tr.x, "y": tr.y, "text": tr.text, "textposition": tr.textposition}
            for i, tr in enumerate(new.data)
        }
        lay = new.layout
        layout = {
            "title.text": lay.title.text,
            "xaxis.title.text": lay.xaxis.title.text,
            "xaxis.dtick": lay.xaxis.dtick,
            "yaxis.dtick": lay.yaxis.dtick,
        }
        return Patch(traces, layout)

    settings = [(name, {"target": name}) for name in names]
    return make_explorer(
        [W.HBox([pick]), axis],
        {"target": pick, "cost": axis},
        figure(rows, names[0], "total_s"),
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
