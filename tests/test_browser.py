"""Every notebook, run in JupyterLab in a real (headless) browser: nbval runs kernels, not the
browser, so a widget or figure that never renders would pass it. This test does not.

Per notebook in notebooks/ (globbed, so new notebooks are covered automatically): open it in
JupyterLab, wait for its kernel, "Run All" (every cell queued at once, as a reader starts the
notes), and require no error output, every plotly figure drawn (SVG and traces, or a WebGL
canvas), every widget rendered, and in every animation widget Play and a slider step each
moving the plotted points of every panel. Screenshots: tests/artifacts/browser/.

Needs Debian's Chromium (/usr/bin/chromium) and the playwright package (never a downloaded
browser). Without them the tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import browser_support as bs  # tests/ is on sys.path (pytest rootdir-relative import)
import pytest
from ci_support import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
NOTEBOOK_TIMEOUT_S = 300  # one notebook: open, kernel, run all, render (about 30-60 s unloaded)
KERNEL_RSS_LIMIT_MB = 1024  # Binder kills a session past 2 GB; the kernel gets half

pytestmark = pytest.mark.browser


def _unavailable() -> None:
    reason = bs.missing_requirements()
    if reason is not None:
        skip_or_fail(f"browser tests: {reason}")


@pytest.fixture(scope="module")
def lab():
    _unavailable()
    with bs.JupyterLab(ROOT, ARTIFACTS / "jupyter-lab.log") as server:
        yield server


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="genmod-chromium-") as profile:
        with sync_playwright() as p:
            context = bs.open_browser(p, Path(profile))
            yield context
            context.close()


# Two attempts per notebook, the retry recorded in its summary ("attempt"). A page's first
# figure still has to import plotly's widget module within anywidget's 2 s (genmod.staged;
# genmod.setup() starts that import early). Here the browser shares 2 cores with the other
# test worker, and one CI run lost a first figure that way; a second fresh page decides.
# The retry makes the test weaker against the bug it was written for (figures starting
# together froze): the old code froze a panel in each of 6 runs of notebooks 00, 01 and 05
# here, but in a given notebook only in about half of them, so a retry lets some such runs
# pass (roughly one in three, estimated from those rates).
ATTEMPTS = 2


def _attempt(notebook: Path, rel: str, lab, browser, attempt: int) -> list[str]:
    page = browser.new_page()
    memory = bs.KernelMemory(lab.proc.pid).start()
    try:
        result = bs.run_notebook(page, lab, rel, timeout_s=NOTEBOOK_TIMEOUT_S)
        bs.check_animations(page, result)
        peak_mb = memory.stop()
        tiles = bs.screenshot_tiles(page, ARTIFACTS, notebook.stem)
        problems = result.problems()
        if peak_mb > KERNEL_RSS_LIMIT_MB:
            problems.append(f"kernel peak RSS {peak_mb:.0f} MB > {KERNEL_RSS_LIMIT_MB} MB")
        summary = {
            "notebook": rel,
            "attempt": attempt,
            "problems": problems,
            "run_seconds": round(result.seconds, 1),
            "kernel_peak_rss_mb": round(peak_mb),
            "plotly_outputs": result.report["plotlyOutputs"],
            "widget_outputs": result.report["widgetOutputs"],
            "figures_in_widgets": sum(len(w.get("plots", [])) for w in result.report["widgets"]),
            "shared_plotly_modules": result.report["sharedPlotlyModules"],
            "animations": result.animations,
            "console_errors": result.console_errors[:20],
            "screenshots": [t.name for t in tiles],
            "load_average": os.getloadavg()[0],
        }
        (ARTIFACTS / f"{notebook.stem}.json").write_text(json.dumps(summary, indent=1))
        print(json.dumps(summary))
        if problems:
            page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}-failure-{attempt}.png"))
        return problems
    except Exception:
        try:
            page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}-failure-{attempt}.png"))
        except Exception:  # noqa: BLE001 (best effort: the page may be gone)
            pass
        raise
    finally:
        memory.stop()
        try:
            bs.shutdown_kernels(page, lab.proc.pid)
        finally:
            page.close()


@pytest.mark.timeout(ATTEMPTS * (NOTEBOOK_TIMEOUT_S + 180))
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_in_jupyterlab(notebook: Path, lab, browser):
    rel = notebook.relative_to(ROOT).as_posix()
    for attempt in range(1, ATTEMPTS + 1):
        problems = _attempt(notebook, rel, lab, browser, attempt)
        if not problems:
            break
        print(f"{rel}: attempt {attempt} of {ATTEMPTS} failed: {problems}")
    assert not problems, f"{rel} in JupyterLab (attempt {attempt}):\n" + "\n".join(problems)
    # autosave is off (browser_support.LAB_SETTINGS): the server must never have saved it
    saves = [ln for ln in lab.log(tail=None).splitlines() if "Saving file at" in ln and rel in ln]
    assert not saves, f"JupyterLab saved {rel}: {saves}"


def test_notebooks_found():
    assert NOTEBOOKS, "no notebooks/*.ipynb to run"
