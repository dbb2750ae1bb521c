"""The notes opened cold: every animation plays in JupyterLab before any cell runs (issue 14).

A reader who opens a clone (or Binder) sees the stored outputs of a notebook that is not
trusted and has no widget models. JupyterLab then cannot show a widget view and picks the
richest safe mime type of the output: the plotly figure stored beside it (see
tests/cold_support.py for the contract). Here:

- in the files: every widget output carries a plotly figure with frames, a Play button and a
  frame slider, arrays as base64 typed arrays;
- in JupyterLab in headless Chromium, no cell run: no widget output shows its text repr, every
  widget output shows a plotly figure with frames, and a click on its Play button changes the
  particles of every panel (decoded values from ``gd._fullData``), with no kernel at all: the
  server offers no kernel spec, the notebook opens with "No Kernel", and the test records that
  the page opened no kernel websocket and started no session.

The notebooks come from notebooks/, or from the folder in GENMOD_COLD_NOTEBOOKS; they are
copied into a temporary folder that JupyterLab serves, so nothing is written to the repository.
Needs Debian's Chromium: without it the browser test skips locally and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import browser_support as bs  # tests/ is on sys.path (pytest rootdir-relative import)
import cold_support as cs
import nbformat
import no_kernel_lab as nk
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402 (tools/ is not a package; its progress-bar rule)

SOURCE = Path(os.environ.get("GENMOD_COLD_NOTEBOOKS", ROOT / "notebooks"))
NOTEBOOKS = sorted(SOURCE.glob("*.ipynb"))
ARTIFACTS = ROOT / "tests" / "artifacts" / "cold"
OPEN_TIMEOUT_S = 120


def widget_outputs(path: Path) -> list[tuple[int, dict]]:
    """(cell index, output) for every stored output holding a widget view other than a
    training progress bar (tqdm's bar needs no figure: there is nothing to animate)."""
    nb = nbformat.read(path, as_version=4)
    return [
        (i, out)
        for i, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if cs.WIDGET in out.get("data", {}) and not build_site.is_progress_bar(out["data"])
    ]


def fallback_problems(out: dict) -> list[str]:
    """What the plotly figure beside a widget view lacks for the contract (empty if none)."""
    fig = out["data"].get(cs.PLOTLY)
    if fig is None:
        return ["no plotly figure beside the widget view"]
    layout, problems = fig.get("layout", {}), []
    if len(fig.get("frames", [])) < 2:
        problems.append(f"{len(fig.get('frames', []))} frames (need at least 2)")
    buttons = [b for m in layout.get("updatemenus", []) for b in m.get("buttons", [])]
    if not any(b.get("method") == "animate" and b.get("args", [1])[0] is None for b in buttons):
        problems.append("no Play button (an updatemenus button animating all frames)")
    if not layout.get("sliders"):
        problems.append("no frame slider (layout.sliders)")
    plain = [
        k
        for f in fig.get("frames", [])
        for t in f.get("data", [])
        for k in ("x", "y")
        if isinstance(t.get(k), list) and len(t[k]) > 16
    ]
    if plain:
        problems.append(f"{len(plain)} frame arrays stored as JSON lists, not typed arrays")
    return problems


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_widget_output_carries_a_kernel_free_figure(notebook: Path):
    problems = [
        f"cell {i}: {p}" for i, out in widget_outputs(notebook) for p in fallback_problems(out)
    ]
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems)


def test_contract_check_catches_a_bare_widget():
    """The file check fails on today's kind of output: a widget view with its text repr only."""
    good = cs.animated_bundle()
    bare = {**good, "data": {k: v for k, v in good["data"].items() if k != cs.PLOTLY}}
    assert fallback_problems(good) == []
    assert fallback_problems(bare) == ["no plotly figure beside the widget view"]


#: widest figure that fits JupyterLab's output area beside the open file browser in a
#: 1280 px window (about 845 px there; screenshots of 06 showed a 990 px figure cut off)
MAX_FIGURE_WIDTH = 830


def too_wide(notebook: Path) -> list[str]:
    """Every stored plotly figure (static or a widget's fallback) wider than the output area."""
    nb = nbformat.read(notebook, as_version=4)
    return [
        f"cell {i}: width {w}"
        for i, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if (w := out.get("data", {}).get(cs.PLOTLY, {}).get("layout", {}).get("width"))
        and w > MAX_FIGURE_WIDTH
    ]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_figure_fits_the_output_area(notebook: Path):
    assert not too_wide(notebook), f"{notebook.name}: {too_wide(notebook)}"


# --- in JupyterLab ---------------------------------------------------------------------------

# per widget output of the open notebook: its rendered text and the plotly figures inside it
JS_COLD_REPORT = """(reprs) => {
  const w = jupyterapp.shell.currentWidget;
  const out = {widgets: [], reprs: []};
  w.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    const children = cell.outputArea ? Array.from(
      cell.outputArea.node.querySelectorAll(':scope > .jp-OutputArea-child')) : [];
    cell.model.outputs.toJSON().forEach((o, j) => {
      const node = children[j];
      const text = node ? node.innerText : '';
      if (reprs.some(r => text.includes(r))) out.reprs.push(`cell ${i}: ${text.slice(0, 80)}`);
      if (!(o.data || {})['application/vnd.jupyter.widget-view+json']) return;
      const plots = node ? Array.from(node.querySelectorAll('.js-plotly-plot')) : [];
      out.widgets.push({cell: i, missing: !node, plain: String(o.data['text/plain'] || ''),
        figs: plots.map(gd => gd.getAttribute('data-genmod-fig')),
        frames: plots.map(gd => ((gd._transitionData || {})._frames || []).length)});
    });
  });
  return out;
}"""


@pytest.fixture(scope="module")
def lab():
    cs.require_browser()
    with tempfile.TemporaryDirectory(prefix="genmod-cold-") as root:
        for nb in NOTEBOOKS:
            shutil.copy2(nb, root)
        with nk.no_kernel_lab(Path(root), ARTIFACTS / "jupyter-lab.log") as server:
            yield server


@pytest.fixture(scope="module")
def browser(lab):
    with cs.chromium() as context:
        yield context


class KernelTraffic:
    """Every websocket the page opens to a kernel and every session it asks the server for."""

    def __init__(self, page):
        self.seen: list[str] = []
        page.on("websocket", lambda ws: self._add("websocket", ws.url, "/api/kernels/"))
        page.on("request", lambda r: self._add(r.method, r.url, "/api/kernels", "POST"))
        page.on("request", lambda r: self._add(r.method, r.url, "/api/sessions", "POST"))

    def _add(self, what: str, url: str, part: str, method: str | None = None) -> None:
        if part in url and (method is None or what == method):
            self.seen.append(f"{what} {url.split('?')[0]}")


def open_cold(page, lab, name: str) -> dict:
    """Open notebook ``name`` with no kernel and no cell run; wait for its figures."""
    nk.open_without_kernel(page, lab, name, timeout_s=OPEN_TIMEOUT_S)
    bs.settle_rendering(page)
    page.evaluate(cs.JS_FIGURES)  # tags every figure with data-genmod-fig
    return page.evaluate(JS_COLD_REPORT, list(cs.WIDGET_REPRS))


@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_cold_notebook_plays_without_a_kernel(notebook: Path, lab, browser):
    page = browser.new_page()
    traffic = KernelTraffic(page)
    try:
        report = open_cold(page, lab, notebook.name)
        problems = [f"widget text repr shown: {r}" for r in report["reprs"]]
        animations = []
        for w in report["widgets"]:
            if build_site.is_progress_bar({cs.WIDGET: {}, "text/plain": w["plain"]}):
                continue
            animated = [f for f, n in zip(w["figs"], w["frames"]) if n >= 2]
            if not animated:
                problems.append(f"cell {w['cell']}: no plotly figure with frames shown")
                continue
            moved, seconds = cs.play_and_watch(page, int(animated[0]))
            animations.append({"cell": w["cell"], "moved": moved, "seconds": seconds})
            if not moved or not all(moved.values()):
                problems.append(f"cell {w['cell']}: Play did not move every panel: {moved}")
        problems += [f"kernel traffic: {t}" for t in traffic.seen]
        state = page.evaluate(nk.JS_NO_KERNEL_READY, notebook.name)
        if state["kernel"] is not None:
            problems.append(f"a kernel is attached: {state}")
        summary = {"notebook": notebook.name, "problems": problems, "animations": animations}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"{notebook.stem}.json").write_text(json.dumps(summary, indent=1))
        if problems:
            page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}-failure.png"))
        assert not problems, f"{notebook.name} opened cold:\n" + "\n".join(problems)
    finally:
        bs.shutdown_kernels(page, lab.proc.pid)
        page.close()
