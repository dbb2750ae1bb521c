"""Notebook 08's helpers: the benchmark table as an interactive quality-vs-cost plot.

The rows come from ``benchmarks/run.py`` (written to ``benchmarks/results.json``): one
per sampler and target, with training and sampling seconds, evaluations per 2,000
samples, and quality (energy distance / noise floor).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import ipywidgets as W
import plotly.graph_objects as go

from genmod import plots
from genmod.staged import StagedFigure

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results.json"
COST_AXES = {
    "sample_s": "seconds to draw 2,000 samples",
    "total_s": "training + sampling seconds",
    "evals": "target or model evaluations per 2,000 samples",
}


def load(path: str | Path | None = None) -> list[dict]:
    """The benchmark rows (a list of dicts); ``total_s`` = train_s + sample_s is added."""
    path = Path(path) if path else RESULTS
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


def figure(rows: list[dict], target: str, cost: str = "total_s") -> go.Figure:
    """Quality (log) against cost (log) for every sampler on one target."""
    if cost not in COST_AXES:
        raise ValueError(f"cost must be one of {', '.join(COST_AXES)}, got {cost!r}")
    sel = [r for r in rows if r["target"] == target]
    if not sel:
        raise ValueError(f"no rows for target {target!r}")
    fig = go.Figure()
    for way in ("chain", "map"):
        pts = [r for r in sel if r["way"] == way]
        fig.add_trace(
            go.Scatter(
                x=[max(r[cost], 1e-4) for r in pts],
                y=[r["quality"] for r in pts],
                mode="markers+text",
                text=[r["sampler"] for r in pts],
                textposition="top center",
                marker=dict(size=11, color=plots.COLORS[way]),
                name="chains (statistician)" if way == "chain" else "maps (ML)",
            )
        )
    fig.add_hline(
        y=1,
        line=dict(dash="dot", color="#888"),
        annotation_text="exact samples",
        annotation_position="bottom right",
    )
    fig.update_xaxes(type="log", title=COST_AXES[cost])
    fig.update_yaxes(type="log", title="energy distance / noise floor (lower is better)")
    return plots.layout(fig, height=460, title=f"{target}: quality vs cost")


def explorer(rows: list[dict]) -> W.VBox:
    """A target dropdown and a cost-axis toggle over :func:`figure`."""
    names = list(dict.fromkeys(r["target"] for r in rows))
    pick = W.Dropdown(options=names, value=names[0], description="target")
    axis = W.ToggleButtons(options=[(v, k) for k, v in COST_AXES.items()], value="total_s")
    fig = StagedFigure(figure(rows, names[0], "total_s"))

    def redraw(_=None):
        new = figure(rows, pick.value, axis.value)
        with fig.batch_update():
            for old, tr in zip(fig.data, new.data):
                old.x, old.y, old.text = tr.x, tr.y, tr.text
            fig.layout.title = new.layout.title
            fig.layout.xaxis.title = new.layout.xaxis.title

    pick.observe(redraw, names="value")
    axis.observe(redraw, names="value")
    return W.VBox([W.HBox([pick]), axis, fig.publish()])


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
    """
    names = list(dict.fromkeys(r["target"] for r in rows))
    pick = W.Dropdown(options=names, value=names[0], description="target")
    box = W.VBox([pick, race(rows, names[0], n, n_steps)])

    def show(_=None):
        box.children = [pick, race(rows, pick.value, n, n_steps)]

    pick.observe(show, names="value")
    return box
