"""Animation frame cost: Python-side (widget update) and in the browser (plotly.js redraw).

Python side: ``Animation.show_frame(k)`` of ``genmod.widgets`` over a trajectory of
N particles, median over frames. Browser side: a page with plotly.js (from the
installed plotly package, no network) draws the same kind of trace (``Scattergl``
and, for contrast, SVG ``Scatter``) in headless Chromium; we time
``Plotly.restyle`` with new x, y until the next painted animation frame, which is
what a widget frame costs the browser after the kernel's message arrives.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time

import torch

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _trajectory(n: int, frames: int = 30):
    from genmod.trajectory import Trajectory

    g = torch.Generator().manual_seed(0)
    steps = 0.05 * torch.randn(frames, n, 2, generator=g)
    return Trajectory(torch.cumsum(steps, 0), kind="map", label=f"{n} particles")


def python_frame_ms(n: int, frames: int = 30) -> float:
    """Median milliseconds of one ``show_frame`` call at n particles (all drawn)."""
    from genmod import targets, widgets

    anim = widgets.animate(_trajectory(n, frames), target=targets.get("gaussian"), max_points=n)
    times = []
    for k in range(1, frames):
        t0 = time.perf_counter()
        anim.show_frame(k)
        times.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(times)


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><script>%s</script></head>
<body><div id="gd" style="width:500px;height:500px"></div><script>
const N = %d, TYPE = "%s";
function rnd() { return Array.from({length: N}, () => Math.random() * 4 - 2); }
Plotly.newPlot("gd", [{type: TYPE, mode: "markers", x: rnd(), y: rnd(), marker: {size: 4}}],
               {width: 500, height: 500, xaxis: {range: [-3, 3]}, yaxis: {range: [-3, 3]}});
async function frame() {
  const x = new Float32Array(rnd()), y = new Float32Array(rnd());
  const t0 = performance.now();
  await Plotly.restyle("gd", {x: [x], y: [y]});
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}
window.bench = async (k) => {
  const out = [];
  for (let i = 0; i < k; i++) out.push(await frame());
  return out;
};
</script></body></html>"""


def browser_frame_ms(sizes=(1000, 10000), frames: int = 15) -> dict | None:
    """Median ms per redraw for Scattergl and SVG Scatter at each size; None without Chromium."""
    if not os.path.exists(CHROMIUM):
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    out = {}
    tmp = tempfile.mkdtemp(prefix="genmod-bench-")
    try:
        with sync_playwright() as p:
            # launch() makes a fresh temporary profile itself (no --user-data-dir allowed)
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for kind in ("scattergl", "scatter"):
                for n in sizes:
                    path = os.path.join(tmp, f"{kind}-{n}.html")
                    with open(path, "w") as f:
                        f.write(_PAGE % (js, n, kind))
                    page = browser.new_page()
                    page.goto(f"file://{path}")
                    page.wait_for_function("document.querySelector('#gd .main-svg') !== null")
                    page.evaluate("bench(3)")  # warm-up
                    ms = json.loads(json.dumps(page.evaluate(f"bench({frames})")))
                    out[(kind, n)] = statistics.median(ms)
                    page.close()
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


if __name__ == "__main__":
    torch.set_num_threads(1)
    for n in (1000, 10000):
        print(f"python show_frame at {n:>6} particles: {python_frame_ms(n):6.1f} ms")
    res = browser_frame_ms()
    if res is None:
        print("browser: Chromium or Playwright missing")
    else:
        for (kind, n), ms in res.items():
            print(f"browser {kind:9s} redraw at {n:>6} particles: {ms:6.1f} ms")
