"""The static form of an animation: its panels side by side in one plotly figure with frames.

Each :class:`genmod.trajectory_panel.TrajectoryPanel` is its own figure in the live widget
(four axes: main, top and right marginals, trace strip). Here the panels are merged into
one figure (panel i gets axes 4i + 1 .. 4i + 4, side by side), a few frames are kept
(:class:`genmod.scene.Budget`), and :func:`genmod.render_static.static_figure` adds
Play/Pause, the frame slider and the per-panel readouts as text.
"""

from __future__ import annotations

import plotly.graph_objects as go

from genmod import density_image, plots, render_static
from genmod.scene import Budget, Patch, downsample_notice, f32, frame_index, pick_frames
from genmod.trajectory_panel import TrajectoryPanel, View

AXES_PER_PANEL = 4


def _axis_ref(ref: str, shift: int) -> str:
    """'x3' -> 'x7' for shift 4; 'y' -> 'y5'."""
    letter, num = ref[0], int(ref[1:] or 1)
    n = num + shift
    return letter if n == 1 else f"{letter}{n}"


def _axis_key(letter: str, n: int) -> str:
    return f"{letter}axis" if n == 1 else f"{letter}axis{n}"


def merge_panels(figs: list[go.Figure]) -> tuple[dict, list[tuple[float, float]], list[int]]:
    """Panel figures side by side in one figure spec (axes renumbered, x domains rescaled).

    The panels' titles are left out: each readout line starts with the panel's label.

    Returns the spec (a dict), each panel's x range in paper units and each panel's first
    trace index.
    """
    images = [_lighten(f) for f in figs]
    specs = [f.to_plotly_json() for f in figs]
    widths = [sp["layout"]["width"] for sp in specs]
    first = specs[0]["layout"]
    ml, mr = first["margin"]["l"], first["margin"]["r"]
    plot_w = sum(widths) - ml - mr
    data, layout, spans, offsets, x, pictures = [], {}, [], [], 0.0, []
    for i, (sp, w) in enumerate(zip(specs, widths)):
        shift = AXES_PER_PANEL * i
        start, width = x / plot_w, (w - ml - mr) / plot_w
        spans.append((start, start + width))
        offsets.append(len(data))
        x += w
        for im in images[i]:
            pictures.append(
                {**im, "xref": _axis_ref(im["xref"], shift), "yref": _axis_ref(im["yref"], shift)}
            )
        for d in sp["data"]:
            d["xaxis"] = _axis_ref(d.get("xaxis", "x"), shift)
            d["yaxis"] = _axis_ref(d.get("yaxis", "y"), shift)
            data.append(d)
        for n in range(1, AXES_PER_PANEL + 1):
            for letter in "xy":
                ax = sp["layout"].get(_axis_key(letter, n), {})
                for ref in ("anchor", "matches", "scaleanchor"):
                    if ax.get(ref) not in (None, "free"):
                        ax[ref] = _axis_ref(ax[ref], shift)
                if letter == "x" and "domain" in ax:
                    d0, d1 = ax["domain"]
                    ax["domain"] = [start + width * d0, start + width * d1]
                layout[_axis_key(letter, n + shift)] = ax
    layout.update(
        template=first.get("template"),
        font=first["font"],
        plot_bgcolor="white",
        showlegend=False,
        bargap=0,
        width=sum(widths),
        margin=first["margin"],
        height=max(sp["layout"]["height"] for sp in specs),
        images=pictures,
    )
    return {"data": data, "layout": layout}, spans, offsets


def _lighten(fig: go.Figure, max_grid: int = 50) -> list[dict]:
    """The static form's fixed traces: the density as a layout image (returned; the heatmap
    and contour traces stay, hidden, so the traces match the live figure's), grids at most
    ``max_grid`` a side, the exact samples left out (their toggle needs a kernel)."""
    images = []
    for tr in fig.data:
        if tr.type in ("heatmap", "contour"):
            step = -(-len(tr.x) // max_grid)
            tr.update(
                x=f32(tr.x[::step]), y=f32(tr.y[::step]), z=f32(tr.z[::step, ::step]), visible=False
            )
            if tr.type == "heatmap":
                images.append(density_image.layout_image(tr.x, tr.y, tr.z, plots.DENSITY_SCALE))
        if tr.name == "exact":
            tr.update(x=tr.x[:0], y=tr.y[:0])
    return images


def static_animation(
    panels: list[TrajectoryPanel], n_frames: int, align: str, budget: Budget, interval_ms: int
) -> dict:
    """The panels' shared frames, downsampled to ``budget``: one plotly figure spec with frames."""
    particles = min(budget.max_particles, panels[0].opts.max_points)
    view = View(particles, budget.trail, min(100, particles))
    figs = [p.figure() for p in panels]
    for p, f in zip(panels, figs):  # the trace strip drawn whole once, not regrown per frame
        whole = p.patch(len(p.traj) - 1, View(particles, view.trail, 0, strip_points=300))
        for name, i in p.idx.items():
            if name.startswith("trace"):
                f.data[i].update(whole.traces[i])
    base, spans, offsets = merge_panels(figs)
    keep = pick_frames(n_frames, budget.max_frames)
    below = base["layout"]["margin"]["b"]
    patches = []
    for k in keep:
        merged, notes = Patch(), []
        for p, off, (s0, _) in zip(panels, offsets, spans):
            pp = p.patch(frame_index(n_frames, len(p.traj), k, align), view)
            ix = p.idx
            pp.traces[ix["hist_x"]].pop("x")  # the bar positions never change: sent once
            pp.traces[ix["hist_y"]].pop("y")
            for name, i in ix.items():
                if name.startswith("trace"):
                    del pp.traces[i]
            merged.traces.update(pp.shifted(off).traces)
            notes.append(render_static.readout_annotation(pp.readout, x=s0, below_px=below))
        merged.layout["annotations"] = notes
        patches.append(merged)
    most = max(p.traj.n_particles for p in panels)
    notice = downsample_notice(most, min(most, particles), n_frames, len(keep))
    return render_static.static_spec(
        base,
        patches,
        [str(k) for k in keep],
        notice=notice,
        interval_ms=interval_ms,
        slider_prefix="frame ",
    )
