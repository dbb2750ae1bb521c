"""genmod.showdown: notebook 08's reading of the committed benchmark table, and its figure."""

import math
from pathlib import Path

import numpy as np
import pytest

from genmod import showdown

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results.json"


@pytest.fixture(scope="module")
def rows():
    return showdown.load(RESULTS)  # committed


def test_load_and_best(rows):
    assert rows and all(math.isclose(r["total_s"], r["train_s"] + r["sample_s"]) for r in rows)
    for target in {r["target"] for r in rows}:
        for way in ("chain", "map"):
            b = showdown.best(rows, target, way)
            same = [r["quality"] for r in rows if r["target"] == target and r["way"] == way]
            assert b["way"] == way and b["quality"] == min(same)
    with pytest.raises(ValueError, match="no map rows"):
        showdown.best(rows, "no_such_target", "map")
    with pytest.raises(FileNotFoundError, match="benchmarks/run.py"):
        showdown.load("/nonexistent/results.json")


def test_figure_puts_every_sampler_and_the_exact_line_where_they_belong(rows):
    fig = showdown.figure(rows, "two_moons", "total_s")
    sel = [r for r in rows if r["target"] == "two_moons"]
    assert sum(len(t.x) for t in fig.data) == len(sel)
    for t in fig.data:  # each point at (cost, quality) of its own row
        for x, y, name in zip(t.x, t.y, t.text):
            r = next(r for r in sel if r["sampler"] == name)
            assert math.isclose(x, max(r["total_s"], 1e-4)) and math.isclose(y, r["quality"])
    # the label of the y = 1 line sits at 1: on a log axis an annotation's y is log10(value)
    (note,) = [a for a in fig.layout.annotations if a.text == "exact samples"]
    assert note.y == 0 and fig.layout.yaxis.type == "log"
    with pytest.raises(ValueError, match="cost must be one of"):
        showdown.figure(rows, "two_moons", "wall_clock")
    with pytest.raises(ValueError, match="no rows for target"):
        showdown.figure(rows, "nope")


def test_close_labels_are_moved_apart():
    # three points within 0.05 decades of each other, one far away
    pos = showdown.label_positions([10, 10.5, 11, 1000], [1, 1.05, 0.97, 1])
    assert len(set(pos[:3])) == 3  # no two of the cluster share a side
    assert pos[3] == "top center"
    # every label of every benchmark target: no two close points share a position
    for target in {r["target"] for r in showdown.load(RESULTS)}:
        fig = showdown.figure(showdown.load(RESULTS), target, "total_s")
        pts = [
            (math.log10(x), math.log10(y), p)
            for t in fig.data
            for x, y, p in zip(t.x, t.y, t.textposition)
        ]
        for i, (xi, yi, pi) in enumerate(pts):
            for xj, yj, pj in pts[i + 1 :]:
                if abs(xi - xj) < 0.15 and abs(yi - yj) < 0.15:
                    assert pi != pj or pi == "middle left", (target, pi)


def test_explorer_redraws_on_target_and_axis(rows):
    box = showdown.explorer(rows)
    pick, axis, fig = box.children[0].children[0], box.children[1], box.children[2]
    before = np.concatenate([np.asarray(t.x) for t in fig.data])
    axis.value = "evals"
    assert "evaluations" in fig.layout.xaxis.title.text
    after = np.concatenate([np.asarray(t.x) for t in fig.data])
    assert not np.allclose(before, after)
    other = [n for n in pick.options if n != pick.value][0]
    pick.value = other
    assert fig.layout.title.text.startswith(other)


def test_diverged_runs_are_named_not_drawn():
    def row(sampler, way, quality):
        return dict(target="t", sampler=sampler, way=way, quality=quality, total_s=1.0)

    rows = [row("ULA", "chain", 6.9e12), row("MALA", "chain", 1.1), row("GAN", "map", 2.0)]
    fig = showdown.figure(rows, "t")
    drawn = [name for tr in fig.data for name in tr.text]
    assert drawn == ["MALA", "GAN"] and max(y for tr in fig.data for y in tr.y) < 1000
    assert "diverged, not drawn: ULA (6.9e+12)" in fig.layout.title.text
