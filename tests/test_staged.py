"""genmod.staged.StagedFigure without a browser: what it ships and when.

That the wrapper module really makes a page import plotly once, and that every panel then
animates, is checked in Chromium by tests/test_browser.py.
"""

import json
import re
import tempfile
from pathlib import Path

import browser_support as bs  # tests/ is on sys.path (pytest rootdir-relative import)
import plotly.graph_objects as go
import pytest
from ci_support import skip_or_fail

from genmod import staged


def _key(esm: str) -> str:
    return re.search(r'^const ID = "(\w+)";$', esm, flags=re.M).group(1)


def test_wrapper_is_small_and_the_bundle_comes_with_the_state():
    assert staged.SHARED_ESM is not None, "plotly's widgetbundle.js was not found"
    # anywidget's 2 s cover loading this module: a few kB, not plotly's 4.9 MB
    assert len(staged.SHARED_ESM) < 10_000
    assert 'model.get("_plotly_source")' in staged.SHARED_ESM
    # one import per page: the module is cached on globalThis under the bundle's hash
    assert "globalThis[KEY]" in staged.SHARED_ESM
    # nothing at the top level waits for the bundle
    assert not re.search(r"^export default \(?await", staged.SHARED_ESM, flags=re.M)
    assert "const UPDATES = " + json.dumps(staged.PY2JS_TRAITS) + ";" in staged.SHARED_ESM


def test_cache_key_follows_the_bundle(tmp_path):
    a, b, c = (tmp_path / n for n in "abc")
    a.write_text("export default () => ({});\n")
    b.write_text("export default () => ({});\n")
    c.write_text("export default () => ({render() {}});\n")
    ka, kb, kc = (_key(staged.shared_esm(p)) for p in (a, b, c))
    assert ka == kb and ka != kc


def test_every_figure_ships_the_wrapper_and_the_bundle_as_state():
    f, g = staged.StagedFigure(), staged.StagedFigure(go.Figure(go.Scatter(x=[0], y=[1])))
    assert f._esm == g._esm == staged.SHARED_ESM
    bundle = staged._BUNDLE.read_text(encoding="utf-8")
    state = g.get_state()
    assert state["_plotly_source"] == bundle and state["_esm"] == staged.SHARED_ESM
    plain = go.FigureWidget()._esm
    assert plain != staged.SHARED_ESM and plain == bundle


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
    assert first._esm.rstrip().endswith(
        "export default {initialize({model}) { startImport(model); }};"
    )
    assert not re.search(r"^export default \(?await", first._esm, flags=re.M)
    assert _key(first._esm) == _key(staged.SHARED_ESM)
    assert first._plotly_source == staged._BUNDLE.read_text(encoding="utf-8")
    genmod.setup(seed=0)
    assert staged._preloader is first  # one per kernel


def test_traits_recorded_are_plotlys_update_traits():
    # the wrapper records these; plotly's browser model listens to exactly these changes
    assert "_py2js_restyle" in staged.PY2JS_TRAITS and "_py2js_update" in staged.PY2JS_TRAITS
    source = staged._BUNDLE.read_text(encoding="utf-8")
    listened = set(re.findall(r'model\.on\("change:(_py2js_\w+)"', source))
    assert listened and listened <= set(staged.PY2JS_TRAITS), listened - set(staged.PY2JS_TRAITS)


# In a page: the wrapper module with a bundle import the test holds back (a deferred promise
# under the wrapper's cache key), as on a machine where importing plotly takes longer than
# anywidget's 2 s. A Backbone-like model stands in for anywidget's; anywidget's own runtime is
# driven in JupyterLab by test_browser.py.
_HELD_BACK_JS = """async ([bundle, wrapper, key, id, hold_ms]) => {
  const blob = (src) => URL.createObjectURL(new Blob([src], {type: "text/javascript"}));
  const plotlyModule = await import(blob(bundle));
  let release;
  (globalThis[key] = {})[id] = new Promise((resolve) => { release = () => resolve(plotlyModule); });
  const handlers = {};
  const state = {_widget_data: [{type: "scatter", x: [0, 1], y: [1, 2]}],
                 _widget_layout: {}, _config: {}, _last_layout_edit_id: 0,
                 _last_trace_edit_id: 0};
  const model = {
    get: (k) => state[k] ?? null,
    set: (k, v) => { state[k] = v; (handlers["change:" + k] || []).slice().forEach((f) => f()); },
    on: (e, f) => { (handlers[e] = handlers[e] || []).push(f); },
    off: (e, f) => { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
    save_changes: () => {}, send: () => {}, widget_manager: null,
  };
  const timeout = (ms) => new Promise((r) => setTimeout(() => r("timed out"), ms));
  const module = await Promise.race([import(blob(wrapper)), timeout(hold_ms)]);
  if (module === "timed out") return {module: "waited for the bundle"};
  const widget = module.default();
  const init = Promise.resolve(widget.initialize({model}));
  const started = await Promise.race([init, timeout(hold_ms)]);
  if (started === "timed out") return {module: "loaded", initialize: "waited for the bundle"};
  // updates Python sends before the bundle is in
  model.set("_py2js_restyle", {restyle_data: {y: [[5, 6]]}, restyle_traces: [0]});
  model.set("_py2js_relayout", {relayout_data: {title: {text: "early"}}});
  model.set("_py2js_restyle", {restyle_data: {x: [[3, 4]]}, restyle_traces: [0]});
  const el = document.createElement("div");
  document.body.appendChild(el);
  const rendering = widget.render({model, el});
  const waitedForBundle = (await Promise.race([rendering.then(() => "done"), timeout(200)]));
  release();
  await rendering;
  const drawn = {x: Array.from(el.data[0].x), y: Array.from(el.data[0].y),
                 title: el.layout.title.text};
  model.set("_py2js_restyle", {restyle_data: {y: [[7, 8]]}, restyle_traces: [0]});
  await new Promise((r) => setTimeout(r, 300));
  // a page where nothing imported plotly yet: the figure imports it from its own state
  delete globalThis[key][id];
  const withSource = (k) => (k === "_plotly_source" ? bundle : model.get(k));
  const fresh = Object.assign({}, model, {get: withSource});
  const el2 = document.createElement("div");
  document.body.appendChild(el2);
  const second = module.default();
  second.initialize({model: fresh});
  await second.render({model: fresh, el: el2});
  const fromState = Array.from(el2.data[0].y);
  return {module: "loaded", initialize: "returned", render_before_bundle: waitedForBundle,
          from_state: fromState,
          drawn, later_y: Array.from(el.data[0].y), model_y: state._widget_data[0].y};
}"""


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_figure_starts_before_plotly_arrives_and_keeps_its_updates():
    reason = bs.missing_requirements()
    if reason is not None:
        skip_or_fail(f"browser test: {reason}")
    from playwright.sync_api import sync_playwright

    bundle = staged._BUNDLE.read_text(encoding="utf-8")
    key = re.search(r'^const KEY = "(\w+)";$', staged.SHARED_ESM, flags=re.M).group(1)
    with tempfile.TemporaryDirectory(prefix="genmod-chromium-") as profile:
        with sync_playwright() as p:
            context = bs.open_browser(p, Path(profile))
            try:
                page = context.new_page()
                page.goto("about:blank")
                args = [bundle, staged.SHARED_ESM, key, _key(staged.SHARED_ESM), 3000]
                out = page.evaluate(_HELD_BACK_JS, args)
            finally:
                context.close()
    # anywidget's 2 s cover loading the module and initialize(): neither may wait for plotly
    assert out["module"] == "loaded", out
    assert out["initialize"] == "returned", out
    assert out["render_before_bundle"] == "timed out", out  # the view does wait for it
    # the updates sent meanwhile are all drawn, in order, once plotly is in
    assert out["drawn"] == {"x": [3, 4], "y": [5, 6], "title": "early"}, out
    # and plotly's own listeners take the later ones
    assert out["later_y"] == [7, 8] and out["model_y"] == [7, 8], out
    # with no import under way, a figure starts it from its _plotly_source
    assert out["from_state"] == [7, 8], out
