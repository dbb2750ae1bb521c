"""The look and the layout of an animation panel (:mod:`genmod.trajectory_panel`).

The overlay traces' styles, the target's fixed layers (density heatmap and contours,
hidden exact samples, true marginals), and the pixel layout: the main plot, marginals on
top and right, the trace strip below.
"""

from __future__ import annotations

import plotly.graph_objects as go

from genmod import drawing, plots


def _xy(points) -> dict:
    x, y = drawing.xy(points)
    return {"x": x, "y": y}


OVERLAY_LOOK = {
    "circles": dict(mode="lines", line=dict(color=plots.COLORS["proposal"], width=1, dash="dot")),
    "drift": dict(mode="lines", line=dict(color=plots.COLORS["score"], width=2)),
    "leapfrog": dict(
        mode="lines+markers",
        marker=dict(size=4),
        line=dict(color=plots.COLORS["proposal"], width=1.5),
    ),
    "accepted": dict(mode="lines", line=dict(color=plots.COLORS["accepted"], width=2)),
    "rejected": dict(mode="lines", line=dict(color=plots.COLORS["rejected"], width=2)),
}


def add_target_layers(add, dens: dict, exact) -> None:
    """Density heatmap and contours, hidden exact samples, the true marginals."""
    heat = dict(x=dens["x"], y=dens["y"], z=dens["z"], showscale=False, hoverinfo="skip")
    add("density", go.Heatmap(**heat, colorscale=plots.DENSITY_SCALE, name="density"))
    contours = dict(coloring="lines", start=0.1, end=0.9, size=0.2)
    dark = [[0, "#08306b"], [1, "#08306b"]]
    add(
        "contours",
        go.Contour(**heat, opacity=0.45, contours=contours, colorscale=dark, line=dict(width=0.6)),
    )
    marker = dict(size=3, color=plots.COLORS["exact"], opacity=0.5)
    add(
        "exact",
        go.Scattergl(**_xy(exact), mode="markers", visible=False, name="exact", marker=marker),
    )
    line = dict(color=plots.COLORS["exact"], width=1.5)
    add(
        "true_x",
        go.Scatter(x=dens["x"], y=dens["px"], mode="lines", line=line, xaxis="x2", yaxis="y2"),
    )
    add(
        "true_y",
        go.Scatter(x=dens["py"], y=dens["y"], mode="lines", line=line, xaxis="x3", yaxis="y3"),
    )


def _domains(size: int, aspect: float):
    """Pixel layout: main plot size x size*aspect, marginals on top/right, trace strip below."""
    ml, mr, mt, mb, marg, gap, strip, strip_gap = 45, 10, 36, 30, 56, 6, 80, 42
    main_h = int(size * aspect)
    w = ml + size + gap + marg + mr
    h = mt + marg + gap + main_h + strip_gap + strip + mb
    ph, pw = h - mt - mb, w - ml - mr
    y_strip = (0, strip / ph)
    y_main = ((strip + strip_gap) / ph, (strip + strip_gap + main_h) / ph)
    y_top = (y_main[1] + gap / ph, 1)
    x_main, x_right = (0, size / pw), ((size + gap) / pw, 1)
    return w, h, dict(l=ml, r=mr, t=mt, b=mb), x_main, x_right, y_main, y_top, y_strip


def panel_layout(fig: go.Figure, panel) -> None:
    (x0, x1), (y0, y1) = panel.bounds
    aspect = min(2.0, max(0.5, (y1 - y0) / (x1 - x0)))
    w, h, margin, xm, xr, ym, yt, ys = _domains(panel.opts.size, aspect)
    plots.layout(fig, height=h, width=w, showlegend=False, bargap=0)
    t0, t1 = float(panel.times[0]), float(panel.times[-1])
    dens = panel.dens
    top = 1.3 * max(float(dens["px"].max()), float(dens["py"].max())) if dens is not None else None
    hide = dict(showticklabels=False, ticks="")
    label = panel.traj.label or panel.traj.kind
    fig.update_layout(
        margin=margin,
        title=dict(text=label, x=0.02, y=0.99, yanchor="top", font=dict(size=13)),
        xaxis=dict(domain=xm, range=[x0, x1], anchor="y"),
        yaxis=dict(domain=ym, range=[y0, y1], anchor="x"),
        xaxis2=dict(domain=xm, matches="x", anchor="y2", **hide),
        yaxis2=dict(domain=yt, anchor="x2", range=[0, top], autorange=top is None, **hide),
        xaxis3=dict(domain=xr, anchor="y3", range=[0, top], autorange=top is None, **hide),
        yaxis3=dict(domain=ym, matches="y", anchor="x3", **hide),
        xaxis4=dict(
            domain=(0, 1),
            anchor="y4",
            range=[t0, t1 if t1 > t0 else t0 + 1],
            title=dict(text="step" if panel.chain else "time", standoff=2),
        ),
        yaxis4=dict(domain=ys, anchor="x4", range=[x0, x1], title=dict(text="x", standoff=2)),
    )
