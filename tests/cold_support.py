"""Kernel-free animations in a browser: shared by tests/test_cold_open.py, tests/test_site.py
and benchmarks/cold_open.py.

The contract (issue 14): the stored output of every animation or explorer cell carries, next to
its widget view (``application/vnd.jupyter.widget-view+json``) and text repr, a plotly figure
(``application/vnd.plotly.v1+json``) with ``frames``, a Play button in ``layout.updatemenus``
and a frame slider in ``layout.sliders``; arrays as base64 typed arrays. JupyterLab shows that
figure when it cannot show the widget (the notebook is not trusted, or no widget model exists),
and so does the static site (tools/build_site.py).

The in-page JavaScript here reads plotly graph divs: which traces the frames give new x or y
(``frame.traces``, or the first ``len(frame.data)`` traces), which panel (x axis) each sits on,
and their decoded values from ``gd._fullData`` (``gd.data`` may still hold ``{dtype, bdata}``).
A panel "moves" when any of its animated traces shows other values than before Play.
Browser start-up reuses tests/browser_support.py (not edited here: another change owns it).
"""

from __future__ import annotations

import base64
import contextlib
import tempfile
import time
from pathlib import Path

import numpy as np

PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"
# what a widget output looks like when a page shows its text repr instead of the widget
WIDGET_REPRS = (
    "Animation(children=",
    "VBox(children=",
    "HBox(children=",
    "FigureWidget(",
    "Explorer(",
)


def typed(a: np.ndarray) -> dict:
    """plotly's base64 typed-array encoding of a float32 array."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode()}


def animated_bundle(
    n_panels: int = 2, n_frames: int = 6, n: int = 50, seed: int = 0, kind: str = "scattergl"
) -> dict:
    """A display_data output as the contract describes: plotly figure with frames (one moving
    particle trace of plotly type ``kind`` per panel, over a static line), a fake widget view
    and the widget's text repr. For tests of the site builder, the browser checks and
    benchmarks/cold_open.py."""
    rng = np.random.default_rng(seed)
    data, moving = [], []
    for p in range(n_panels):
        axes = {"xaxis": f"x{p + 1 if p else ''}", "yaxis": f"y{p + 1 if p else ''}"}
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": typed([-2, 2]),
                "y": typed([0, 0]),
                "name": "static",
                **axes,
            }
        )
        moving.append(len(data))
        data.append(
            {
                "type": kind,
                "mode": "markers",
                "name": f"particles {p}",
                "x": typed(rng.normal(size=n)),
                "y": typed(rng.normal(size=n)),
                **axes,
            }
        )
    frames = [
        {
            "name": str(k),
            "traces": moving,
            "data": [
                {"x": typed(rng.normal(size=n)), "y": typed(rng.normal(size=n))} for _ in moving
            ],
        }
        for k in range(n_frames)
    ]
    layout = {
        "height": 320,
        **{
            f"xaxis{p + 1 if p else ''}": {"domain": [p / n_panels, (p + 0.9) / n_panels]}
            for p in range(n_panels)
        },
        **{
            f"yaxis{p + 1 if p else ''}": {"anchor": f"x{p + 1 if p else ''}"}
            for p in range(n_panels)
        },
        "updatemenus": [
            {
                "type": "buttons",
                "showactive": False,
                "buttons": [
                    {
                        "label": "Play",
                        "method": "animate",
                        "args": [
                            None,
                            {"frame": {"duration": 120, "redraw": True}, "fromcurrent": True},
                        ],
                    },
                    {
                        "label": "Pause",
                        "method": "animate",
                        "args": [[None], {"frame": {"duration": 0}, "mode": "immediate"}],
                    },
                ],
            }
        ],
        "sliders": [
            {
                "steps": [
                    {
                        "label": str(k),
                        "method": "animate",
                        "args": [[str(k)], {"mode": "immediate"}],
                    }
                    for k in range(n_frames)
                ]
            }
        ],
        "annotations": [
            {
                "text": f"{n} particles, {n_frames} frames (static form)",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 1.1,
            }
        ],
    }
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            PLOTLY: {"data": data, "layout": layout, "frames": frames, "config": {}},
            WIDGET: {"model_id": "0" * 32, "version_major": 2, "version_minor": 0},
            "text/plain": "Animation(children=(HBox(children=(VBox(children=(StagedFigure(...",
        },
    }


def require_browser() -> None:
    """Skip without Chromium and playwright; fail instead under CI=true (as test_browser.py)."""
    import os

    import browser_support as bs
    import pytest

    reason = bs.missing_requirements()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@contextlib.contextmanager
def chromium():
    """browser_support's Chromium (a persistent context) with a throwaway profile."""
    import browser_support as bs
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="genmod-chromium-") as profile:
        with sync_playwright() as p:
            context = bs.open_browser(p, Path(profile))
            try:
                yield context
            finally:
                context.close()


# --- in-page JavaScript ---------------------------------------------------------------------

# For every plotly graph div in the page: its frames and, per animated trace, the panel (x axis)
# and a digest of its decoded x/y values (length, sum, 64 evenly spaced values). Animated traces:
# those a frame gives new x or y (frame.traces[j], else trace j, for frame.data[j]: plotly's
# rule); a trace a frame only names, with no data, is static (e.g. a trace plot drawn once).
JS_FIGURES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd, i) => {
  gd.setAttribute('data-genmod-fig', String(i));
  const frames = (gd._transitionData && gd._transitionData._frames) || [];
  const animated = new Set();
  frames.forEach(f => (f.data || []).forEach((d, j) => {
    if (d && (d.x !== undefined || d.y !== undefined)) animated.add(f.traces ? f.traces[j] : j);
  }));
  const digest = (a) => {
    if (!a || a.length === undefined) return [];
    const n = a.length, step = Math.max(1, Math.floor(n / 64)), out = [n];
    let sum = 0;
    for (let k = 0; k < n; k++) sum += Number(a[k]) || 0;
    out.push(sum);
    for (let k = 0; k < n; k += step) out.push(Number(a[k]));
    return out;
  };
  const full = gd._fullData || [];
  const traces = Array.from(animated).filter(t => full[t]).map(t => ({
    index: t, type: full[t].type, panel: full[t].xaxis || 'x',
    x: digest(full[t].x), y: digest(full[t].y)}));
  const buttons = Array.from(gd.querySelectorAll('.updatemenu-button')).map(b => b.textContent);
  return {fig: i, frames: frames.length, traces, buttons,
          sliders: gd.querySelectorAll('.slider-container').length,
          drawn: (full.length > 0) && gd.getBoundingClientRect().height > 50};
})"""


def panels(fig: dict) -> dict[str, list]:
    """Animated traces of one figure (a JS_FIGURES entry), grouped by panel."""
    out: dict[str, list] = {}
    for t in fig["traces"]:
        out.setdefault(t["panel"], []).append((t["index"], t["x"], t["y"]))
    return out


def moved_panels(before: dict, after: dict) -> dict[str, bool]:
    """Per panel of ``before``: does any of its animated traces show other values now?"""
    a, b = panels(before), panels(after)
    return {p: traces != b.get(p) for p, traces in a.items()}


JS_PLAYING = """(i) => {
  const t = document.querySelector(`[data-genmod-fig="${i}"]`)._transitionData || {};
  return (t._frameQueue || []).length > 0 || !!t._animationRaf;
}"""


# Click figure i's Pause button (plotly's updatemenu listens for the click on the button)
JS_PAUSE = """(i) => {
  const gd = document.querySelector(`[data-genmod-fig="${i}"]`);
  const pause = Array.from(gd.querySelectorAll('.updatemenu-button'))
    .find(b => b.textContent.trim() === 'Pause');
  if (pause) pause.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  return !!pause;
}"""


def play_and_watch(page, fig: int, timeout_s: float = 45.0) -> tuple[dict[str, bool], float]:
    """Click figure ``fig``'s Play button (a real click on plotly's SVG button) and poll until
    every panel's particles moved. Returns (moved per panel, seconds from click to all moved).

    Then Pause, and wait until the animation has stopped, so the next figure's Play does not
    share the CPU with this one (two animations at once on a busy machine stalled both)."""
    before = page.evaluate(JS_FIGURES)[fig]
    gd = page.locator(f'[data-genmod-fig="{fig}"]')
    gd.scroll_into_view_if_needed()
    play = gd.locator(".updatemenu-button", has_text="Play").first
    if not play.count():
        play = gd.locator(".updatemenu-button").first
    t0 = time.monotonic()
    play.click()
    moved = {p: False for p in panels(before)}
    while time.monotonic() - t0 < timeout_s:
        now = page.evaluate(JS_FIGURES)[fig]
        moved = {p: m or moved_panels(before, now).get(p, False) for p, m in moved.items()}
        if moved and all(moved.values()):
            break
        page.wait_for_timeout(50)
    elapsed = round(time.monotonic() - t0, 3)
    # Pause is cleanup, not a check: dispatched in the page, where Playwright's click would
    # first wait for the button to hold still over animation frames the page is busy drawing
    page.evaluate(JS_PAUSE, fig)
    t1 = time.monotonic()
    while page.evaluate(JS_PLAYING, fig) and time.monotonic() - t1 < timeout_s:
        page.wait_for_timeout(100)
    return moved, elapsed
