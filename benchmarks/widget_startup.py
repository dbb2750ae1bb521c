"""How long a plotly FigureWidget's browser module takes to start: the number anywidget limits.

anywidget gives every widget model 2,000 ms to import its ES module and initialize; a model
that misses it drops every later update (the figure keeps its first frame). anywidget
imports each widget's module from a fresh blob URL, so without help every plotly figure
parses and runs plotly's 4.9 MB bundle again. ``genmod.staged`` ships a wrapper instead that
imports the bundle once per page. This times, in headless Chromium on an empty page:

- plotly's bundle from a fresh blob URL: the first figure, a second one, and two at once
  (what two panels of a race cost without the wrapper);
- genmod's wrapper: the page's first figure, a later one, and two at once after the first.

Median over ``launches`` fresh browsers. Usage: ``python benchmarks/widget_startup.py``.
"""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

# same folder: run.py and running this file both have benchmarks/ on sys.path
from frame_time import CHROMIUM, CHROMIUM_ARGS

LIMIT_MS = 2000  # anywidget 0.11: AbortSignal.timeout(2000) per model

# each import gets its own blob URL, as anywidget does; a trailing comment makes the two
# "at once" sources distinct, like two figures' modules
_JS = """async ([bundle, wrapper]) => {
  const load = async (src) => {
    const url = URL.createObjectURL(new Blob([src], {type: 'text/javascript'}));
    try { return await import(url); } finally { URL.revokeObjectURL(url); }
  };
  const time = async (f) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const two = (src) => Promise.all([load(src + '//a'), load(src + '//b')]);
  return {
    bundle_first: await time(() => load(bundle)),
    bundle_second: await time(() => load(bundle + '\\n//2')),
    bundle_two_at_once: await time(() => two(bundle)),
    wrapper_first: await time(() => load(wrapper)),
    wrapper_second: await time(() => load(wrapper + '\\n//2')),
    wrapper_two_at_once: await time(() => two(wrapper)),
  };
}"""

ROWS = [
    ("plotly's bundle, page's first figure", "bundle_first"),
    ("plotly's bundle, a second figure", "bundle_second"),
    ("plotly's bundle, two figures at once", "bundle_two_at_once"),
    ("genmod.staged wrapper, page's first figure", "wrapper_first"),
    ("genmod.staged wrapper, a later figure", "wrapper_second"),
    ("genmod.staged wrapper, two later figures at once", "wrapper_two_at_once"),
]


def startup_ms(launches: int = 3) -> dict[str, float] | None:
    """Median milliseconds per case (keys of ``ROWS``); None without Chromium or Playwright."""
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    from genmod import staged

    if staged.SHARED_ESM is None:
        return None
    bundle = staged._BUNDLE.read_text(encoding="utf-8")
    runs = []
    with sync_playwright() as p:
        for _ in range(launches):
            # launch() makes a fresh temporary profile itself
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto("about:blank")
            runs.append(page.evaluate(_JS, [bundle, staged.SHARED_ESM]))
            browser.close()
    return {k: statistics.median(r[k] for r in runs) for _, k in ROWS}


def table(ms: dict[str, float]) -> str:
    lines = ["| case | ms | within anywidget's 2,000 ms |", "|---|---:|:---:|"]
    for label, key in ROWS:
        lines.append(f"| {label} | {ms[key]:.0f} | {'yes' if ms[key] < LIMIT_MS else 'no'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    res = startup_ms()
    print("Chromium or Playwright missing" if res is None else table(res))
