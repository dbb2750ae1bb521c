"""``StagedFigure``: the FigureWidget every genmod widget uses, made safe to start in a browser.

Two problems of plotly's FigureWidget in JupyterLab, both met in the browser tests:

1. A plain FigureWidget opens its comm empty and sends data and layout in later messages;
   under load JupyterLab sometimes draws a view before they arrive and the plot stays blank.
   Here the comm stays closed while the figure is built and updated, and ``publish()`` opens
   it with the current data and layout as the initial state.
2. plotly 7's FigureWidget is an anywidget, and anywidget gives each widget model 2 s to
   load its ES module and initialize; a model that misses that silently drops every later
   message (its view keeps its first frame). plotly's module is a 4.9 MB bundle and
   anywidget imports it from a fresh blob URL for every figure, so the browser parses and
   runs all of plotly.js once per figure: two figures started together (the two panels of a
   race, or "Run All") take turns on the page's one thread and one of them misses 2 s.
   ``StagedFigure`` ships a small wrapper module instead (:data:`SHARED_ESM`) that imports
   the bundle once per page and hands the same module to every later figure. Nor does the
   wrapper wait for that import to start: its ``initialize()`` returns at once and records
   the updates Python sends until plotly's own model takes over (they are then replayed to
   it in order), and its ``render()`` draws when the bundle is in. So no figure, the page's
   first included, depends on how fast the browser imports plotly.
"""

from __future__ import annotations

import functools
import hashlib
import json
from copy import deepcopy
from pathlib import Path

import plotly
import plotly.graph_objects as go
import traitlets

# plotly's widget bundle: the file BaseFigureWidget ships as its _esm
_BUNDLE = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"

# the traits through which Python sends a FigureWidget's updates (plotly's browser model
# applies each on its change event; the wrapper records those that arrive before plotly does)
PY2JS_TRAITS = sorted(n for n in go.FigureWidget.class_trait_names() if n.startswith("_py2js_"))

# starts the page's one import of the bundle (cached on globalThis, keyed by its hash); the
# bundle's source is the model's _plotly_source trait, not part of the module: the module
# anywidget loads within its 2 s stays a few kB, and the 4.9 MB come with the model's state
_START_IMPORT = """\
const KEY = "__genmod_plotly_widget__";
const ID = "BUNDLE_ID";
const cache = (globalThis[KEY] = globalThis[KEY] || {});
const startImport = (model) => {
  if (!cache[ID]) {
    const source = model.get("_plotly_source");
    const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
    cache[ID] = import(/* webpackIgnore: true */ url);
    cache[ID].finally(() => URL.revokeObjectURL(url));
  }
  return cache[ID];
};
"""

_WRAPPER = (
    """\
// genmod.staged: plotly's FigureWidget module, imported once per page and shared by every
// figure (anywidget imports each widget's _esm from its own blob URL, so each figure would
// otherwise parse and run all of plotly.js again).
"""
    + _START_IMPORT
    + """\
// anywidget gives a model 2 s to load this module and run initialize(), then drops all its
// messages for good; plotly's bundle can take longer than that to import on a busy machine.
// So nothing here waits for it: initialize() records the updates Python sends meanwhile and
// hands them to plotly's own initialize() once the bundle is in; render() waits for it.
const UPDATES = PY2JS_TRAITS;
export default () => {
  let plotly = null;  // plotly's widget for this model (its factory is called once per model)
  let loaded = null;
  return {
    initialize({model}) {
      const pending = [];
      const recorders = UPDATES.map((name) => {
        const record = () => pending.push([name, model.get(name)]);
        model.on("change:" + name, record);
        return [name, record];
      });
      loaded = startImport(model).then((mod) => {
        // one synchronous block: no update can arrive between the replay and plotly's own
        for (const [name, record] of recorders) model.off("change:" + name, record);
        const listeners = {};
        let replaying = null;
        const proxy = {
          ...model,
          get: (name) => (replaying && name in replaying ? replaying[name] : model.get(name)),
          on: (event, callback) => {
            (listeners[event] = listeners[event] || []).push(callback);
            model.on(event, callback);
          },
        };
        plotly = mod.default();
        plotly.initialize({model: proxy});
        for (const [name, value] of pending) {
          replaying = {[name]: value};  // plotly reads each update as it was when it arrived
          for (const callback of listeners["change:" + name] || []) callback();
        }
        replaying = null;
      });
    },
    async render(context) {
      await loaded;
      return plotly.render(context);
    },
  };
};
"""
)

_PRELOAD = (
    """\
// genmod.staged.preload: start importing plotly's widget module now, without waiting for it
// (this widget's own 2 s start-up limit then never matters); figures wait on the same import.
"""
    + _START_IMPORT
    + "export default {initialize({model}) { startImport(model); }};\n"
)


def shared_esm(bundle: Path = _BUNDLE) -> str:
    """The wrapper module for ``bundle`` (a figure's ``_plotly_source`` carries its source).

    The cache key is a hash of the bundle, so two plotly versions in one page never mix.
    Raises FileNotFoundError when plotly has no bundle there (``StagedFigure`` then keeps
    plotly's own module).
    """
    return _fill(_WRAPPER, bundle)


def _fill(template: str, bundle: Path) -> str:
    key = _bundle_key(Path(bundle))
    template = template.replace("PY2JS_TRAITS", json.dumps(PY2JS_TRAITS))
    return template.replace("BUNDLE_ID", key)


@functools.cache
def _bundle_key(bundle: Path) -> str:
    """A hash of the bundle's source, read once per process (it is 4.9 MB)."""
    return hashlib.sha1(bundle.read_bytes()).hexdigest()[:16]


@functools.cache
def _bundle_source(bundle: Path = _BUNDLE) -> str:
    return bundle.read_text(encoding="utf-8")


try:
    SHARED_ESM: str | None = shared_esm()
except OSError:  # a plotly without the bundle file: keep its own _esm
    SHARED_ESM = None


class StagedFigure(go.FigureWidget):
    """A FigureWidget that starts from the finished figure and shares plotly's browser module.

    Build and update it like any FigureWidget; nothing reaches a browser until
    ``publish()``, which opens the comm with the figure as it is then. Later edits are sent
    as usual.
    """

    if SHARED_ESM is not None:
        _esm = SHARED_ESM
        _plotly_source = traitlets.Unicode(_bundle_source()).tag(sync=True)

    def __init__(self, *args, **kwargs):
        self._staged = True
        super().__init__(*args, **kwargs)

    def open(self):
        if not getattr(self, "_staged", False):
            super().open()

    def publish(self) -> StagedFigure:
        """Open the comm with the figure as it is now; later edits are sent as usual."""
        if self._staged:
            self._staged = False
            # edits made while staged are in the initial state: none is pending in a browser
            self._last_layout_edit_id = self._last_trace_edit_id = 0
            self._layout_edit_in_process = self._trace_edit_in_process = False
            self._widget_layout = deepcopy(self._layout_obj._props)
            self._widget_data = deepcopy(self._data)
            self.open()
        return self


_preloader = None  # kept alive: the browser's import goes on either way


def preload() -> None:
    """Make a connected browser start importing plotly's widget module now.

    Importing the 4.9 MB bundle takes about 1.3 s in headless Chromium (more on a busy
    machine), and a figure draws once it is in. ``genmod.setup()`` calls this at the top of
    every notebook, so the import runs while the first cells compute and the first figure
    usually finds it done. It opens an invisible widget's comm (no output, nothing in the
    notebook file); without a browser nothing happens.
    """
    global _preloader
    if SHARED_ESM is None or _preloader is not None:
        return
    import anywidget

    class _Preload(anywidget.AnyWidget):
        _esm = _fill(_PRELOAD, _BUNDLE)
        _plotly_source = traitlets.Unicode(_bundle_source()).tag(sync=True)

    _preloader = _Preload()
