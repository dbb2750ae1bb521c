"""genmod.showdown: notebook 08's reading of the committed benchmark table, and its figure."""

import math
from pathlib import Path

import numpy as np
import pytest

from genmod import plots, showdown

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


def _drawn_labels(fig):
    """(name, label box, marker box) of every point of a showdown figure, in the plot
    area's pixels (y down), read from its axis ranges and annotations as plotly draws them."""
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    out = []
    for a in fig.layout.annotations:
        if a.xref != "x":  # the y = 1 line's note
            continue
        px = (a.x - x0) / (x1 - x0) * showdown.PLOT_W
        py = (y1 - a.y) / (y1 - y0) * showdown.PLOT_H
        cx, cy = (px + a.ax, py + a.ay) if a.showarrow else (px + a.xshift, py - a.yshift)
        w, h, r = plots.text_width(a.text), showdown.LABEL_H, showdown.MARKER_PX / 2
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        out.append((a.text, box, (px - r, py - r, px + r, py + r)))
    return out


def _area(a, b):
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


def test_labels_neither_overlap_nor_leave_the_plot(rows):
    # every target and cost axis of the committed table: each sampler labelled once, at its
    # own point; no label on another label or on a marker, none outside the plot area. The
    # text widths are Arial's, 0-10 px wider than Chromium draws them (measured on these
    # figures; the figure's size is fixed, so pixels are known)
    for target in dict.fromkeys(r["target"] for r in rows):
        for cost in showdown.COST_AXES:
            fig = showdown.figure(rows, target, cost)
            drawn = _drawn_labels(fig)
            names = [n for t in fig.data for n in t.text]
            assert sorted(n for n, *_ in drawn) == sorted(names)
            for a in fig.layout.annotations:
                if a.xref == "x":  # at its point: log10 of the drawn (cost, quality)
                    tr = next(t for t in fig.data if a.text in t.text)
                    k = list(tr.text).index(a.text)
                    assert (a.x, a.y) == pytest.approx((math.log10(tr.x[k]), math.log10(tr.y[k])))
            for i, (name, box, _) in enumerate(drawn):
                where = (target, cost, name)
                assert box[0] >= 0 and box[1] >= 0, where
                assert box[2] <= showdown.PLOT_W and box[3] <= showdown.PLOT_H, where
                assert all(_area(box, m) < 1 for *_, m in drawn), where
                assert all(_area(box, b) < 1 for _, b, _ in drawn[i + 1 :]), where


def test_place_labels_parts_a_cluster_and_leaves_a_lone_point_alone():
    # four points within 6 px of each other, one far away, on a 400 x 300 plot
    px, py = [200, 204, 198, 203, 50], [150, 152, 155, 148, 40]
    names = ["alpha", "beta", "gamma", "delta", "lone"]
    placed = showdown.place_labels(px, py, names, width=400, height=300)
    boxes = showdown.label_boxes(px, py, names, placed)
    assert all(_area(a, b) < 1 for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert all(b[0] >= 0 and b[1] >= 0 and b[2] <= 400 and b[3] <= 300 for b in boxes)
    dx, dy, leader = placed[4]
    assert (dx, leader) == (0.0, False) and dy < 0  # just above its point
    # each label of the cluster is next to its point or joined to it (at most 104 px)
    assert all(
        math.hypot(dx, dy) <= 104 + plots.text_width(n) for (dx, dy, _), n in zip(placed, names)
    )
    # a label that would leave the plot goes inside it: a point in the top-left corner
    ((dx, dy, _),) = showdown.place_labels([2], [2], ["corner"], width=400, height=300)
    assert dx > 0 and dy > 0


def test_log_ticks_are_one_two_five_over_short_ranges_decades_over_long():
    vals, text = showdown._log_ticks(math.log10(0.4), math.log10(3.5))
    assert vals == pytest.approx([0.5, 1, 2]) and text == ["0.5", "1", "2"]
    vals, text = showdown._log_ticks(-3.2, 2.4)
    assert vals == pytest.approx([1e-3, 1e-2, 0.1, 1, 10, 100]) and text[0] == "0.001"


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
    # the labels follow: one per sampler of the new target, at its points, and the note
    # (what the browser is sent; plotly.py's own fig.layout.annotations view stays stale
    # after a relayout of the whole list)
    want = showdown.figure(rows, other, "evals").to_dict()["layout"]["annotations"]
    got = fig.to_dict()["layout"]["annotations"]
    assert got[: len(want)] == want and all(not a["visible"] for a in got[len(want) :])
    # every frame of the static form has as many annotations (a played frame with fewer
    # leaves the last frame's extra labels on the plot)
    frames = box.static_spec()["frames"]
    assert len({len(f["layout"]["annotations"]) for f in frames}) == 1


def test_diverged_runs_are_named_not_drawn():
    def row(sampler, way, quality):
        return dict(target="t", sampler=sampler, way=way, quality=quality, total_s=1.0)

    rows = [row("ULA", "chain", 6.9e12), row("MALA", "chain", 1.1), row("GAN", "map", 2.0)]
    fig = showdown.figure(rows, "t")
    drawn = [name for tr in fig.data for name in tr.text]
    assert drawn == ["MALA", "GAN"] and max(y for tr in fig.data for y in tr.y) < 1000
    assert "diverged, not drawn: ULA (6.9e+12)" in fig.layout.title.text
