"""Drive a notebook's widgets in the page and check that they redraw (tests/test_browser.py).

Two kinds, told apart by what the page shows (``browser_support.JS_REPORT`` marks widget
output k with ``data-genmod-widget="k"``):

- an *animation* has a Play button: Play, then a click on its frame slider, must each move
  every panel. A panel is one plotly figure; it moved when its particle trace (the trace
  with ``meta="particles"``, genmod.trajectory_panel and genmod.widgets_maps.gan_replay) shows
  other points AND its readout (the nearest ``.genmod-readout`` element) shows other text;
- an *explorer* has controls but no Play (target, step-size, noise, guidance, showdown
  explorers): its slider is moved once (or, without a slider, its dropdown or toggle changed)
  and some plotted data of its figures must change.

A frame change goes browser -> kernel (slider observer) -> FigureWidget update -> browser,
so every check polls until the change shows or ``timeout_s`` passes.
"""

from __future__ import annotations

import time

# Per figure of widget output k: its particle trace (evenly spaced sample of x and y), its
# readout text and a fingerprint of every trace's x, y and z (_fullData holds decoded arrays).
# Non-finite numbers become strings so that NaN compares equal to itself in Python.
JS_WIDGET_STATE = """(k) => {
  const el = document.querySelector(`[data-genmod-widget="${k}"]`);
  if (!el) return null;
  const pick = (a) => {
    if (a === undefined || a === null) return null;
    if (typeof a !== 'object' || typeof a.length !== 'number') return String(a);
    const n = a.length, m = Math.min(n, 48), out = [n];
    for (let i = 0; i < m; i++) {
      const v = a[Math.floor(i * n / m)];
      out.push(v && typeof v === 'object' ? pick(v)
               : (typeof v === 'number' && Number.isFinite(v)) ? v : String(v));
    }
    return out;
  };
  return Array.from(el.querySelectorAll('.js-plotly-plot')).map(p => {
    const data = p.data || [], full = p._fullData || [];
    const fullOf = (j) => full.find(t => t.index === j) || data[j];
    const j = data.findIndex(t => t.meta === 'particles');
    let readout = null;
    for (let node = p.parentElement; node && el.contains(node); node = node.parentElement) {
      const r = node.querySelector('.genmod-readout');
      if (r) { readout = r.innerText; break; }
    }
    return {
      particles: j < 0 ? null : [pick(fullOf(j).x), pick(fullOf(j).y)],
      readout,
      data: data.map((t, i) => {
        const f = fullOf(i);
        return [f.type, pick(f.x), pick(f.y), pick(f.z)];
      }),
    };
  });
}"""


def widget_state(page, k: int) -> list[dict]:
    return page.evaluate(JS_WIDGET_STATE, k) or []


def watch(
    page, k: int, before: list[dict], changed, timeout_s: float, need=all
) -> tuple[list, float]:
    """Poll widget k until ``changed(before_panel, now_panel)`` holds for ``need`` (all or
    any) of its panels.

    ``changed`` returns a tuple of booleans per panel (e.g. particles moved, readout moved);
    an entry counts once it was true at any poll (a Play loop may come back to frame 0).
    Returns (per panel: the tuple of ever-true flags, seconds until all held or timeout).
    """
    seen, t0 = None, time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        page.wait_for_timeout(300)
        now = widget_state(page, k)
        if len(now) != len(before):  # the widget re-created its figures: compare afresh
            before, seen = now, None
            continue
        flags = [tuple(changed(b, a)) for b, a in zip(before, now)]
        seen = (
            flags
            if seen is None
            else [tuple(x or y for x, y in zip(s, f)) for s, f in zip(seen, flags)]
        )
        if seen and need(all(s) for s in seen):
            break
    return seen or [], round(time.monotonic() - t0, 1)


def panel_moved(before: dict, after: dict) -> tuple[bool, bool]:
    """(particle trace changed, readout text changed); a missing one never counts."""
    return (
        before["particles"] is not None and before["particles"] != after["particles"],
        before["readout"] is not None and before["readout"] != after["readout"],
    )


def data_changed(before: dict, after: dict) -> tuple[bool]:
    return (before["data"] != after["data"],)


def click_slider(page, slider) -> None:
    """Click a noUiSlider's track far from its handle (a quarter from the far end), as a
    reader jumps to another value."""
    track = slider.locator(".noUi-target").first
    handle = slider.locator(".noUi-handle").first
    track.scroll_into_view_if_needed()
    bb, hb = track.bounding_box(), handle.bounding_box()
    at = (hb["x"] + hb["width"] / 2 - bb["x"]) / max(bb["width"], 1)
    frac = 0.25 if at > 0.5 else 0.75
    page.mouse.click(bb["x"] + frac * bb["width"], bb["y"] + bb["height"] / 2)


def check_animation(page, k: int, timeout_s: float) -> list[dict]:
    """Play, then a slider click, in widget output k; one record per action."""
    out = page.locator(f'[data-genmod-widget="{k}"]')
    out.scroll_into_view_if_needed()
    records = []
    before = widget_state(page, k)
    out.locator(".widget-play button").first.click()
    records.append(_record(k, "Play", before, *watch(page, k, before, panel_moved, timeout_s)))
    _evidence(records[-1], before, widget_state(page, k))
    # pause (second button of the Play widget) so the slider check does not race frames
    buttons = out.locator(".widget-play button")
    if buttons.count() > 1:
        buttons.nth(1).click()
    page.wait_for_timeout(500)
    row = out.locator(".widget-play").first.locator("xpath=..")  # Play's own row
    before = widget_state(page, k)
    click_slider(page, row.locator(".widget-slider").first)
    records.append(_record(k, "slider", before, *watch(page, k, before, panel_moved, timeout_s)))
    _evidence(records[-1], before, widget_state(page, k))
    return records


def _evidence(record: dict, before: list[dict], after: list[dict]) -> None:
    """For a failed check: each panel's readout and first particles before and after."""
    if record["moved"]:
        return
    head = lambda p: p["particles"] and [v[:4] for v in p["particles"]]  # noqa: E731
    record["evidence"] = [
        {"readout": [b["readout"], a["readout"]], "particles": [head(b), head(a)]}
        for b, a in zip(before, after)
    ]


def _record(k: int, how: str, before: list[dict], seen: list, seconds: float) -> dict:
    return {
        "widget": k,
        "kind": "animation",
        "how": how,
        "moved": bool(seen) and all(all(s) for s in seen),
        "after_s": seconds,
        "panels": [{"particles": s[0], "readout": s[1]} for s in seen],
        "without_particle_trace": sum(p["particles"] is None for p in before),
        "without_readout": sum(p["readout"] is None for p in before),
    }


def drive_explorer(page, k: int, timeout_s: float) -> dict | None:
    """Move widget k's slider once (else change its dropdown, else its toggle buttons) and
    wait for its plotted data to change; None if it has no control to drive."""
    out = page.locator(f'[data-genmod-widget="{k}"]')
    out.scroll_into_view_if_needed()
    before = widget_state(page, k)
    sliders = out.locator(".widget-slider:has(.noUi-target)")
    selects = out.locator(".widget-dropdown select")
    toggles = out.locator(".widget-toggle-button:not(.mod-active)")
    if sliders.count():
        how = "slider"
        click_slider(page, sliders.first)
    elif selects.count():
        how = "dropdown"
        select = selects.first
        values = select.locator("option").evaluate_all("os => os.map(o => o.value)")
        current = select.input_value()
        others = [v for v in values if v != current]
        if not others:
            return {
                "widget": k,
                "kind": "explorer",
                "how": how,
                "moved": False,
                "note": "a dropdown with one option",
            }
        select.select_option(others[0])
    elif toggles.count():
        how = "toggle"
        toggles.first.click()
    else:
        return None
    seen, seconds = watch(page, k, before, data_changed, timeout_s, need=any)
    return {
        "widget": k,
        "kind": "explorer",
        "how": how,
        "moved": bool(seen) and any(s[0] for s in seen),
        "after_s": seconds,
        "figures_changed": [s[0] for s in seen],
    }


def check_widgets(page, widgets: list[dict], timeout_s: float = 20) -> list[dict]:
    """Every animation (Play and slider) and every explorer (one control) of the page."""
    records = []
    for k, wd in enumerate(widgets):
        if not wd.get("plots") or wd.get("missing"):
            continue
        if wd["play"]:
            records += check_animation(page, k, timeout_s)
        else:
            rec = drive_explorer(page, k, timeout_s)
            if rec is not None:
                records.append(rec)
    return records


def interaction_problems(records: list[dict]) -> list[str]:
    """What a reader would see as broken: a panel or an explorer that did not redraw."""
    out = []
    for r in records:
        if r["kind"] == "animation":
            if r["without_particle_trace"] or r["without_readout"]:
                out.append(
                    f"animation in widget {r['widget']}: {r['without_particle_trace']} panel(s)"
                    f" without a particle trace, {r['without_readout']} without a readout"
                )
            if not r["moved"]:
                out.append(
                    f"animation in widget {r['widget']}: {r['how']} did not move every panel"
                    f" (particles and readout per panel: {r['panels']})"
                )
        elif not r["moved"]:
            out.append(
                f"explorer in widget {r['widget']}: its {r['how']} changed nothing plotted"
                f" ({r.get('note') or r.get('figures_changed')})"
            )
    return out
