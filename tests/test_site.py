"""The static site (tools/build_site.py): built into a temporary folder with the README's
command, then checked as files and opened from disk (file://) in headless Chromium.

Files: one page per notebook plus the index (the README's notes table, in its order), plotly.js
byte-identical to the installed package's, links between notebooks pointing at pages that exist,
no src/href to another host (plain links in prose excepted), a widget's plotly fallback shown
instead of its text repr. In the browser, every page: no console error, every request stays on
the machine (file:, data:, blob:, about: or loopback; anything else is aborted and reported),
every stored plotly figure drawn, maths typeset, and Play moving the points of every panel of
every animation. The checker itself is tested on a synthetic page with a frozen animation.

Built from notebooks/, or from the folder in GENMOD_COLD_NOTEBOOKS (as tests/test_cold_open.py).
"""

from __future__ import annotations

import filecmp
import os
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import cold_support as cs
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path(os.environ.get("GENMOD_COLD_NOTEBOOKS", ROOT / "notebooks"))
NOTEBOOKS = sorted(SOURCE.glob("*.ipynb"))
PAGES = ["index"] + [p.stem for p in NOTEBOOKS]
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}

sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402 (tools/ is not a package)


def build(out: Path, notebooks: list[Path]) -> None:
    """The README's command, as a reader runs it."""
    cmd = [sys.executable, str(ROOT / "tools" / "build_site.py"), str(out), "--notebooks"]
    subprocess.run(cmd + [str(p) for p in notebooks], check=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def site():
    with tempfile.TemporaryDirectory(prefix="genmod-site-") as out:
        build(Path(out), NOTEBOOKS)
        yield Path(out)


class Links(HTMLParser):
    """(tag, attribute, value) of every src and href in a page."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.found += [(tag, k, v or "") for k, v in attrs if k in ("src", "href")]


def links(page: Path) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.found


def leaves_machine(url: str) -> bool:
    u = urlparse(url)
    return bool(u.scheme) and u.scheme not in LOCAL_SCHEMES and u.hostname not in LOOPBACK


def frame_figures(path: Path) -> int:
    """Stored plotly outputs with frames in a notebook: the animations its page must play."""
    nb = nbformat.read(path, as_version=4)
    return sum(
        len(out.get("data", {}).get(cs.PLOTLY, {}).get("frames", [])) >= 2
        for cell in nb.cells
        for out in cell.get("outputs", [])
    )


# --- the files -------------------------------------------------------------------------------


def test_one_page_per_notebook_and_local_assets(site):
    import plotly

    assert sorted(p.stem for p in site.glob("*.html")) == sorted(PAGES)
    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert filecmp.cmp(site / "static" / "plotly.min.js", bundled, shallow=False)
    assert (site / "static" / "mathjax" / "MathJax.js").is_file()


@pytest.mark.parametrize("name", PAGES)
def test_no_src_or_href_leaves_the_machine(site, name):
    page = site / f"{name}.html"
    remote = [(t, a, v) for t, a, v in links(page) if leaves_machine(v) and t != "a"]
    assert not remote, f"{name}.html loads from other hosts: {remote}"
    local = [v.split("?")[0].split("#")[0] for t, a, v in links(page) if not urlparse(v).scheme]
    missing = [v for v in local if v and not (site / v).exists()]
    assert not missing, f"{name}.html links to files the site lacks: {missing}"
    assert not [v for _, _, v in links(page) if ".ipynb" in v], "links to notebooks, not pages"


def test_index_follows_the_talk_outline(site):
    readme = (ROOT / "README.md").read_text()
    outline = re.findall(r"^\|[^|]+\| \[\w+\]\(notebooks/(\w+)\.ipynb\)", readme, flags=re.M)
    assert outline, "README.md's notes table lists no notebook"
    pages = [v[: -len(".html")] for t, _, v in links(site / "index.html") if t == "a"]
    pages = [p for p in pages if p in outline]
    assert pages == outline, "index.html does not list the notebooks in the README's order"
    if SOURCE == ROOT / "notebooks":
        assert sorted(outline) == [p.stem for p in NOTEBOOKS], "notes table != notebooks/"


def synthetic_notebook(folder: Path) -> Path:
    """A notebook with an animation (widget + plotly fallback), a frozen animation (frames that
    repeat the first data), a bare widget, a progress bar and a link to another notebook."""
    moving = cs.animated_bundle(n_panels=2)
    frozen = cs.animated_bundle(n_panels=1, seed=1)
    fig = frozen["data"][cs.PLOTLY]
    fig["frames"] = [
        {"name": f["name"], "traces": f["traces"], "data": [fig["data"][i] for i in f["traces"]]}
        for f in fig["frames"]
    ]
    bare, bar = (
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {cs.WIDGET: moving["data"][cs.WIDGET], "text/plain": text},
        }
        for text in ("VBox(children=(Play(),))", "GAN:   0%|          | 0/1500 [00:00<?, ?it/s]")
    )
    cells = [nbformat.v4.new_markdown_cell("Maths $x^2$; next: [MCMC](01_mcmc.ipynb#top).")]
    for out in (moving, frozen, bare, bar):
        cells.append(nbformat.v4.new_code_cell("x", outputs=[nbformat.from_dict(out)]))
    path = folder / "00_synthetic.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


@pytest.fixture(scope="module")
def synthetic_site():
    with tempfile.TemporaryDirectory(prefix="genmod-site-synthetic-") as out:
        build_site.build(Path(out), [synthetic_notebook(Path(out))])
        yield Path(out)


def test_builder_shows_fallbacks_not_widget_reprs(synthetic_site):
    html = (synthetic_site / "00_synthetic.html").read_text()
    assert html.count('class="jp-OutputArea-output genmod-plotly"') == 2
    assert not [r for r in cs.WIDGET_REPRS if r in html]
    assert html.count("genmod-needs-kernel") == 1  # the bare widget; the progress bar is gone
    assert "0/1500" not in html
    assert 'href="01_mcmc.html#top"' in html


# --- in the browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    cs.require_browser()
    with cs.chromium() as context:
        yield context


def open_page(browser, path: Path) -> tuple[object, dict]:
    """Open a page from disk; record console errors and every request; abort and record any
    request to another host. Returns (page, log) once figures and maths are drawn."""
    page = browser.new_page()
    log = {"errors": [], "requests": [], "remote": []}
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log["errors"].append(f"page error: {e}"))
    page.on("request", lambda r: log["requests"].append(r.url))
    page.on("requestfailed", lambda r: log["errors"].append(f"failed: {r.url} {r.failure}"))

    def guard(route):
        if leaves_machine(route.request.url):
            log["remote"].append(route.request.url)
            return route.abort()
        return route.continue_()

    page.route(re.compile(r"^(https?|wss?|ftp)://"), guard)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.genmod-plotly')).every(b => {"
        " const gd = b.querySelector('.js-plotly-plot');"
        " return gd && (gd._fullData || []).length > 0; })",
        timeout=60_000,
    )
    page.evaluate("() => new Promise(r => MathJax.Hub.Queue(() => r(true)))")
    return page, log


def check_page(page, log: dict, expected_animations: int) -> list[str]:
    figures = page.evaluate(cs.JS_FIGURES)
    loaded = len(log["errors"])
    problems = [f"console: {e}" for e in log["errors"]]
    problems += [f"request left the machine: {u}" for u in log["remote"]]
    problems += [f"request: {u}" for u in log["requests"] if leaves_machine(u)]
    problems += [f"figure {f['fig']} not drawn" for f in figures if not f["drawn"]]
    animated = [f for f in figures if f["frames"] >= 2]
    if len(animated) != expected_animations:
        problems.append(f"{len(animated)} figures with frames, {expected_animations} stored")
    for f in animated:
        moved, seconds = cs.play_and_watch(page, f["fig"])
        if not moved or not all(moved.values()):
            problems.append(f"figure {f['fig']}: Play did not move every panel: {moved}")
    problems += [f"console after Play: {e}" for e in log["errors"][loaded:]]
    return problems


@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", PAGES)
def test_site_page_in_browser(site, browser, name):
    source = {p.stem: p for p in NOTEBOOKS}.get(name)
    page, log = open_page(browser, site / f"{name}.html")
    try:
        problems = check_page(page, log, frame_figures(source) if source else 0)
        if source and "$" in "".join(c.source for c in nbformat.read(source, 4).cells):
            if not page.locator('script[type^="math/tex"]').count():
                problems.append("maths not typeset (no MathJax output)")
        assert not problems, f"{name}.html:\n" + "\n".join(problems)
    finally:
        page.close()


@pytest.mark.browser
def test_play_check_catches_a_frozen_animation(synthetic_site, browser):
    page, log = open_page(browser, synthetic_site / "00_synthetic.html")
    try:
        figures = page.evaluate(cs.JS_FIGURES)
        assert [f["frames"] for f in figures] == [6, 6]
        moving, frozen = (cs.play_and_watch(page, f["fig"], timeout_s=3)[0] for f in figures)
        assert moving == {"x": True, "x2": True}
        assert frozen == {"x": False}
        assert page.locator('script[type^="math/tex"]').count() == 1
        assert not log["errors"] and not log["remote"]
    finally:
        page.close()
