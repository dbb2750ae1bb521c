"""Where a live animation frame's time goes, on genmod's real panel (issue 17, "Also measure").

    python benchmarks/frame_profile.py          # prints the tables (needs /usr/bin/chromium)

1. The kernel side: what one ``show_frame`` sends to the browser (the comm message of
   plotly's FigureWidget: traces restyled, JSON bytes, binary-buffer bytes).
2. The browser side, in headless Chromium (no GPU: WebGL runs in software): the panel of
   ``widgets.animate`` (density heatmap, contours, trails, particles, histograms, trace
   plot) is drawn from its own figure JSON, then the recorded frame messages are replayed
   with each of three plotly calls, each timed until the next painted animation frame:
   ``update`` (what the widget does: one Plotly.update of every restyled trace),
   ``particles`` (one Plotly.restyle of the particle trace only) and ``react`` (a new
   figure diffed against the old); WebGL traces (``scattergl``, the default) and SVG
   (``scatter``); and the particle trace restyled in a figure of that trace alone (same
   layout): what plotly needs for the particles with nothing else to redraw. Chrome's own
   counters (CDP Performance.getMetrics: TaskDuration, the main thread's busy time;
   LayoutDuration; RecalcStyleDuration) split each frame.
3. References: an empty animation frame, and a bare canvas-2D page drawing the same
   number of points per frame (what the browser itself needs to paint them).
Times are wall milliseconds per frame, the mean over 30 frames; the load average is
printed beside them (the machine is shared).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import numpy as np
import torch
from frame_time import CHROMIUM, CHROMIUM_ARGS

from genmod import targets, widgets
from genmod.trajectory import Trajectory

ARGS = [*CHROMIUM_ARGS, "--disable-renderer-backgrounding", "--disable-background-timer-throttling"]
PARTICLES_TRACE = "x"  # the particle trace's name in a panel of one trajectory labelled "x"


def recorded_frames(n: int, n_frames: int = 30):
    """The panel's figure JSON, the frame messages show_frame sends, and their sizes."""
    g = torch.Generator().manual_seed(0)
    steps = 0.05 * torch.randn(n_frames, n, 2, generator=g)
    anim = widgets.animate(
        Trajectory(torch.cumsum(steps, 0), kind="map", label=PARTICLES_TRACE),
        target=targets.get("gaussian"),
        max_points=n,
    )
    fig = anim.figures[0]
    msgs, sizes = [], []
    send = fig._send_update_msg

    def spy(restyle_data, relayout_data, trace_indexes=None, source_view_id=None):
        arrays = [v for vs in restyle_data.values() for v in vs if isinstance(v, np.ndarray)]
        # the JSON part of the message (arrays travel as binary buffers) and the arrays' bytes
        rest = {k: [_drop(v) for v in vs] for k, vs in restyle_data.items()}
        text = json.dumps([rest, relayout_data, trace_indexes], default=str)
        sizes.append((len(trace_indexes), len(text), sum(a.nbytes for a in arrays)))
        data = {k: [_listed(v) for v in vs] for k, vs in restyle_data.items()}
        msgs.append({"data": data, "layout": relayout_data, "traces": list(trace_indexes)})
        return send(restyle_data, relayout_data, trace_indexes, source_view_id)

    fig._send_update_msg = spy
    for k in range(1, n_frames):
        anim.show_frame(k)
    figure = json.loads(fig.to_json())
    index = next(i for i, t in enumerate(figure["data"]) if t.get("name") == PARTICLES_TRACE)
    return figure, msgs, sizes, index


def _drop(v):
    return None if isinstance(v, np.ndarray) else v


def _listed(v):
    return v.astype(float).round(4).tolist() if isinstance(v, np.ndarray) else v


_PANEL = """<!doctype html><html><head><meta charset="utf-8"><script>%s</script></head>
<body><div id="gd"></div><script>
const FIG = %s, MSGS = %s, PART = %d;
function typed(d) {
  const o = {};
  for (const k in d) o[k] = d[k].map(v => Array.isArray(v) ? new Float32Array(v) : v);
  return o;
}
const PRE = MSGS.map(m => ({data: typed(m.data), layout: m.layout, traces: m.traces}));
window.ready = Plotly.newPlot("gd", FIG.data, FIG.layout);
const raf = () => new Promise(r => requestAnimationFrame(r));
window.run = async (variant, k) => {
  const gd = document.getElementById("gd"), t0 = performance.now();
  for (let i = 0; i < k; i++) {
    const m = PRE[i %% PRE.length];
    if (variant === "update") await Plotly.update(gd, m.data, m.layout, m.traces);
    else if (variant === "particles") {
      const j = m.traces.indexOf(PART);
      await Plotly.restyle(gd, {x: [m.data.x[j]], y: [m.data.y[j]]}, [PART]);
    } else {
      const data = gd.data.map((t, ti) => { const j = m.traces.indexOf(ti); if (j < 0) return t;
        const x = m.data.x[j], y = m.data.y[j];
        return {...t, x: x === undefined ? t.x : x, y: y === undefined ? t.y : y}; });
      await Plotly.react(gd, data, gd.layout);
    }
    await raf();
  }
  return (performance.now() - t0) / k;
};
</script></body></html>"""

_CANVAS = """<canvas id=c width=820 height=500></canvas><script>
const ctx = document.getElementById("c").getContext("2d");
const raf = () => new Promise(r => requestAnimationFrame(r));
window.run = async (k, n) => { const t0 = performance.now();
  for (let i = 0; i < k; i++) { ctx.clearRect(0, 0, 820, 500);
    for (let j = 0; j < n; j++) {
      ctx.beginPath(); ctx.arc(Math.random() * 820, Math.random() * 500, 2, 0, 6.3); ctx.fill();
    }
    await raf(); }
  return (performance.now() - t0) / k; };
</script>"""

METRICS = ("TaskDuration", "LayoutDuration", "RecalcStyleDuration")
CALLS = ("update", "particles", "react")


def _particles_alone(figure: dict, msgs: list, part: int) -> tuple:
    """The same figure with its particle trace only, and its frames: plotly's own floor."""
    fig = {"data": [figure["data"][part]], "layout": figure["layout"]}
    frames = [
        {
            "data": {k: [v[m["traces"].index(part)]] for k, v in m["data"].items()},
            "layout": m["layout"],
            "traces": [0],
        }
        for m in msgs
    ]
    return fig, frames, 0


def browser_table(n: int = 1000, k: int = 30) -> list[tuple]:
    """Rows (renderer, call, ms per frame, main-thread busy ms, layout ms, style ms)."""
    from playwright.sync_api import sync_playwright
    from plotly.offline import get_plotlyjs

    figure, msgs, _, part = recorded_frames(n)
    js, tmp, rows = get_plotlyjs(), tempfile.mkdtemp(prefix="genmod-frames-"), []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            alone = _particles_alone(figure, msgs, part)
            for renderer in ("webgl", "svg", "webgl, particle trace alone"):
                fig, frames, index = json.loads(json.dumps(figure)), msgs, part
                if renderer == "svg":
                    for t in fig["data"]:
                        t["type"] = "scatter" if t["type"] == "scattergl" else t["type"]
                elif renderer.endswith("alone"):
                    fig, frames, index = alone
                path = os.path.join(tmp, "panel.html")
                with open(path, "w") as f:
                    f.write(_PANEL % (js, json.dumps(fig), json.dumps(frames), index))
                page = browser.new_page()
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                page.goto(f"file://{path}")
                page.evaluate("window.ready.then(() => 1)")
                for call in ("particles",) if renderer.endswith("alone") else CALLS:
                    page.evaluate(f"run('{call}', 5)")  # warm-up
                    m0 = _metrics(cdp)
                    ms = page.evaluate(f"run('{call}', {k})")
                    m1 = _metrics(cdp)
                    rows.append((renderer, call, ms, *(1e3 * (m1[x] - m0[x]) / k for x in METRICS)))
                page.close()
            path = os.path.join(tmp, "canvas.html")
            with open(path, "w") as f:
                f.write(_CANVAS)
            page = browser.new_page()
            page.goto(f"file://{path}")
            page.evaluate("run(5, 0)")
            rows.append(
                ("canvas 2D", "empty frame", page.evaluate(f"run({k}, 0)"), None, None, None)
            )
            rows.append(
                ("canvas 2D", f"{n:,} points", page.evaluate(f"run({k}, {n})"), None, None, None)
            )
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def _metrics(cdp) -> dict:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def _fmt(v) -> str:
    return "" if v is None else f"{v:.1f}"


def main() -> int:
    torch.set_num_threads(1)
    load = open("/proc/loadavg").read().split()[0]
    print(f"Load average at start: {load} on {os.cpu_count()} cores.\n")
    print("| particles | traces restyled per frame | JSON bytes | array bytes |")
    print("|---:|---:|---:|---:|")
    for n in (1000, 10000):
        _, _, sizes, _ = recorded_frames(n, 10)
        traces, js, binary = (int(np.median([s[i] for s in sizes])) for i in range(3))
        print(f"| {n:,} | {traces} | {js:,} | {binary:,} |")
    if not os.path.exists(CHROMIUM):
        print("\nbrowser: /usr/bin/chromium missing")
        return 0
    print("\n| renderer | call | ms per frame | main thread busy ms | layout ms | style ms |")
    print("|---|---|---:|---:|---:|---:|")
    for row in browser_table():
        print("| " + " | ".join([row[0], row[1], *map(_fmt, row[2:])]) + " |")
    print(f"\nLoad average at the end: {open('/proc/loadavg').read().split()[0]}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
