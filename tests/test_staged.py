"""genmod.staged.StagedFigure without a browser: what it ships and when.

That the wrapper module really makes a page import plotly once, and that every panel then
animates, is checked in Chromium by tests/test_browser.py.
"""

import json
import re

import plotly.graph_objects as go

from genmod import staged


def _literal(esm: str) -> str:
    """The bundle source embedded in a wrapper module (its one JSON string literal)."""
    m = re.search(r"^const SOURCE = (.*);$", esm, flags=re.M)
    assert m, "no SOURCE line in the wrapper"
    return json.loads(m.group(1))


def _key(esm: str) -> str:
    return re.search(r'^const ID = "(\w+)";$', esm, flags=re.M).group(1)


def test_wrapper_embeds_plotlys_bundle_exactly():
    assert staged.SHARED_ESM is not None, "plotly's widgetbundle.js was not found"
    assert _literal(staged.SHARED_ESM) == staged._BUNDLE.read_text(encoding="utf-8")
    # one import per page: the module is cached on globalThis and re-exported
    assert "globalThis[KEY]" in staged.SHARED_ESM
    assert staged.SHARED_ESM.rstrip().endswith("export default (await cache[ID]).default;")
    # ASCII only: no line or paragraph separators that would end the JS string literal early
    assert staged.SHARED_ESM.isascii()


def test_cache_key_follows_the_bundle(tmp_path):
    a, b, c = (tmp_path / n for n in "abc")
    a.write_text("export default () => ({});\n")
    b.write_text("export default () => ({});\n")
    c.write_text("export default () => ({render() {}});\n")
    ka, kb, kc = (_key(staged.shared_esm(p)) for p in (a, b, c))
    assert ka == kb and ka != kc
    # quotes, backslashes and newlines in the source survive the round trip
    tricky = tmp_path / "t.js"
    tricky.write_text('const s = "a\\"b\\\\c\u2028";\nexport default s;\n', encoding="utf-8")
    assert _literal(staged.shared_esm(tricky)) == tricky.read_text(encoding="utf-8")


def test_every_figure_ships_the_wrapper_not_the_bundle():
    f, g = staged.StagedFigure(), staged.StagedFigure(go.Figure(go.Scatter(x=[0], y=[1])))
    assert f._esm == g._esm == staged.SHARED_ESM
    plain = go.FigureWidget()._esm
    assert plain != staged.SHARED_ESM and plain == staged._BUNDLE.read_text(encoding="utf-8")


def test_no_comm_until_publish_then_the_finished_figure():
    fig = staged.StagedFigure(go.Figure(go.Scatter(x=[0, 1], y=[2, 3])))
    fig.add_scatter(x=[5], y=[6])
    fig.update_layout(title_text="done")
    assert fig.comm is None  # nothing sent while the figure is built
    assert fig.publish() is fig
    assert fig.comm is not None
    assert [list(t["x"]) for t in fig._widget_data] == [[0, 1], [5]]
    assert fig._widget_layout["title"]["text"] == "done"
    assert fig._last_trace_edit_id == fig._last_layout_edit_id == 0
    comm = fig.comm
    fig.publish()  # a second publish is a no-op
    assert fig.comm is comm


def test_setup_preloads_plotly_once_without_waiting_for_it():
    import genmod

    genmod.setup(seed=0)
    first = staged._preloader
    assert first is not None and first.comm is not None
    # the preloader starts the shared import and returns at once (its own 2 s limit never
    # matters); it caches under the same key as the figures' wrapper
    assert first._esm.rstrip().endswith("export default {initialize() {}};")
    assert not re.search(r"^export default \(await", first._esm, flags=re.M)
    assert _key(first._esm) == _key(staged.SHARED_ESM)
    assert _literal(first._esm) == _literal(staged.SHARED_ESM)
    genmod.setup(seed=0)
    assert staged._preloader is first  # one per kernel
