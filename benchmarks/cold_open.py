"""The notes without a kernel: how fast a cold notebook moves, and what the static forms cost.

- Cold open in JupyterLab (headless Chromium, the reader's default server: the kernel starts,
  no cell runs): seconds from navigating to the notebook until its first figure with frames is
  drawn, and until its particles have moved after a click on Play (goal <= 3 s). The same for
  the notebook's page of the static site, opened from disk.
- The size of each notebook, and how much of it is kernel-free figures (plotly outputs with
  frames).
- The size of the static site (goal <= 30 MB), with its shares.
- The static frame time at 1,000 particles: a plotly figure with 30 frames (one panel), each
  frame shown with ``Plotly.animate`` (no transition), until the next painted frame; median.

Usage: ``python benchmarks/cold_open.py [NOTEBOOK_DIR]`` (default notebooks/); prints a
markdown section (run.py includes it in results.md).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tools")]

import browser_support as bs  # noqa: E402
import build_site  # noqa: E402
import cold_support as cs  # noqa: E402
import nbformat  # noqa: E402

GOAL_S, SITE_GOAL_MB = 3.0, 30.0

# the first figure with frames in the page: its index among .js-plotly-plot, or -1
JS_FIRST_ANIMATED = """() => {
  const all = Array.from(document.querySelectorAll('.js-plotly-plot'));
  return all.findIndex(gd => ((gd._transitionData || {})._frames || []).length >= 2
    && (gd._fullData || []).length > 0);
}"""

JS_FRAME_MS = """async () => {
  const gd = document.querySelector('.js-plotly-plot');
  const names = gd._transitionData._frames.map(f => f.name);
  const paint = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const ms = [];
  for (const name of names.concat(names)) {
    const t = performance.now();
    await Plotly.animate(gd, [name], {frame: {duration: 0, redraw: true},
                                      transition: {duration: 0}, mode: 'immediate'});
    await paint();
    ms.push(performance.now() - t);
  }
  return ms.slice(names.length);  // the second pass: warm
}"""


def first_motion(page, url: str, timeout_s: float = 60) -> tuple[float | None, float | None]:
    """(s until the first figure with frames is drawn, s until its panels moved after Play),
    from navigation; None when the page has no such figure."""
    t0 = time.monotonic()
    page.goto(url)
    fig = -1
    while fig < 0 and time.monotonic() - t0 < timeout_s:
        page.wait_for_timeout(25)
        fig = page.evaluate(JS_FIRST_ANIMATED)
    if fig < 0:
        return None, None
    drawn = time.monotonic() - t0
    page.evaluate(cs.JS_FIGURES)  # tag the figures
    moved, _ = cs.play_and_watch(page, fig, timeout_s=timeout_s)
    moving = time.monotonic() - t0 if moved and all(moved.values()) else None
    return round(drawn, 2), (round(moving, 2) if moving else None)


def notebook_sizes(notebooks: list[Path]) -> list[dict]:
    rows = []
    for p in notebooks:
        nb = nbformat.read(p, as_version=4)
        figs = [
            out["data"][cs.PLOTLY]
            for c in nb.cells
            for out in c.get("outputs", [])
            if len(out.get("data", {}).get(cs.PLOTLY, {}).get("frames", [])) >= 2
        ]
        fallback = sum(len(json.dumps(f)) for f in figs)
        rows.append(
            {
                "notebook": p.name,
                "kb": p.stat().st_size / 1e3,
                "animated": len(figs),
                "animated_kb": fallback / 1e3,
            }
        )
    return rows


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def measure(source: Path) -> dict:
    notebooks = sorted(source.glob("*.ipynb"))
    out = {"source": str(source), "load": os.getloadavg()[0], "sizes": notebook_sizes(notebooks)}
    with tempfile.TemporaryDirectory(prefix="genmod-bench-") as tmp:
        tmp = Path(tmp)
        site, root = tmp / "site", tmp / "lab"
        build_site.build(site, notebooks)
        static = site / "static"
        out["site_mb"] = {
            "total": folder_mb(site),
            "mathjax": folder_mb(static / "mathjax"),
            "plotly.js": (static / "plotly.min.js").stat().st_size / 1e6,
        }
        out["site_mb"]["pages"] = out["site_mb"]["total"] - folder_mb(static)
        root.mkdir()
        for p in notebooks:
            shutil.copy2(p, root)
        # the frame-time page: 1,000 particles, 30 frames, one panel, both trace types
        frames = {}
        for kind in ("scattergl", "scatter"):
            nb = nbformat.v4.new_notebook(
                cells=[
                    nbformat.v4.new_code_cell(
                        "x",
                        outputs=[
                            nbformat.from_dict(
                                cs.animated_bundle(1, n_frames=30, n=1000, kind=kind)
                            )
                        ],
                    )
                ]
            )
            nbformat.write(nb, tmp / f"frames_{kind}.ipynb")
            build_site.build(tmp / "frames", [tmp / f"frames_{kind}.ipynb"])
        with bs.JupyterLab(root, tmp / "lab.log") as lab, cs.chromium() as browser:
            rows = []
            stored = {s["notebook"]: s["animated"] for s in out["sizes"]}
            for nb in notebooks:
                if not stored[nb.name]:  # nothing to wait for
                    rows.append({"notebook": nb.name, "lab": (None, None), "site": (None, None)})
                    continue
                page = browser.new_page()
                lab_t = first_motion(page, f"{lab.url}/lab/tree/{nb.name}?token={lab.token}&reset")
                bs.shutdown_kernels(page, lab.proc.pid)
                page.close()
                page = browser.new_page()
                site_t = first_motion(page, (site / f"{nb.stem}.html").as_uri())
                page.close()
                rows.append({"notebook": nb.name, "lab": lab_t, "site": site_t})
            out["cold"] = rows
            for kind in ("scattergl", "scatter"):
                page = browser.new_page()
                page.goto((tmp / "frames" / f"frames_{kind}.html").as_uri())
                page.wait_for_function(f"() => ({JS_FIRST_ANIMATED})() >= 0", timeout=60_000)
                frames[kind] = statistics.median(page.evaluate(JS_FRAME_MS))
                page.close()
        out["frame_ms_1000"] = frames
    return out


def fmt(x, spec=".1f") -> str:
    return "-" if x is None else format(x, spec)


def table(r: dict) -> str:
    lines = [
        f"Notebooks from `{r['source']}`; load average {r['load']:.1f} at the start.",
        "",
        f"### Cold open: seconds from navigation (goal: moving within {GOAL_S:.0f} s)",
        "",
        "(- : no figure with frames stored in that notebook, or none moved.)",
        "",
        "| notebook | JupyterLab: figure drawn | JupyterLab: moving after Play"
        " | site page: drawn | site page: moving |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in r["cold"]:
        (ld, lm), (sd, sm) = row["lab"], row["site"]
        lines.append(f"| {row['notebook']} | {fmt(ld)} | {fmt(lm)} | {fmt(sd)} | {fmt(sm)} |")
    lines += [
        "",
        "### Notebook sizes",
        "",
        "| notebook | kB | figures with frames | their kB |",
        "|---|---:|---:|---:|",
    ]
    for s in r["sizes"]:
        lines.append(
            f"| {s['notebook']} | {s['kb']:.0f} | {s['animated']} | {s['animated_kb']:.0f} |"
        )
    m = r["site_mb"]
    lines += [
        "",
        f"### Static site: {m['total']:.1f} MB (goal <= {SITE_GOAL_MB:.0f} MB)",
        "",
        f"pages {m['pages']:.1f} MB, MathJax {m['mathjax']:.1f} MB,"
        f" plotly.js {m['plotly.js']:.1f} MB.",
        "",
        "### Static frame time at 1,000 particles (one panel, 30 frames, median)",
        "",
        "| trace type | ms per frame |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v:.0f} |" for k, v in r["frame_ms_1000"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    if bs.missing_requirements():
        sys.exit(f"cannot run: {bs.missing_requirements()}")
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "notebooks"
    result = measure(src)
    print(json.dumps(result, indent=1), file=sys.stderr)
    print(table(result))
