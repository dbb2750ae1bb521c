"""Drive JupyterLab in Debian's headless Chromium with Playwright (used by tests/test_browser.py).

``JupyterLab`` starts a throwaway ``jupyter lab`` server (free port, token, temporary config,
runtime, settings and workspace dirs, checkpoints outside the repository, autosave off so the
committed notebooks are never rewritten). ``open_browser`` launches /usr/bin/chromium with
flags that keep it off the network. ``run_notebook`` opens one notebook, waits for its kernel,
runs all cells and returns what the page shows (``NotebookReport``), ``capture_console``
records a page's console errors and uncaught exceptions, ``split_console`` sorts them against
an allow-list, ``screenshot_tiles`` saves the notebook as scrolled PNG tiles. Driving the
widgets (Play, sliders, explorers) is in ``browser_widgets``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # keep the page's renderer at full priority and its timers unthrottled (headless tabs can
    # count as background)
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
]

# JupyterLab user settings written into the temporary settings dir
LAB_SETTINGS = {
    # never write the notebooks under test back to disk (autosave runs every 120 s by default)
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # no update check or news toast (no network, and a toast covers the screenshots)
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
}


def missing_requirements() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    chromium = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if chromium is None:
        return "Debian's Chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -r requirements.txt)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """A ``jupyter lab`` server on 127.0.0.1 serving ``root``; use as a context manager."""

    def __init__(self, root: Path, log_path: Path, startup_timeout: float = 120):
        self.root = Path(root)
        self.port = free_port()
        self.token = uuid.uuid4().hex
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.startup_timeout = startup_timeout
        self.tmp = Path(tempfile.mkdtemp(prefix="genmod-lab-"))
        self.proc: subprocess.Popen | None = None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        dirs = {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTER_DATA_DIR": "data",  # no user kernelspecs: the server's own python3 kernel
            "JUPYTERLAB_SETTINGS_DIR": "settings",
            "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        }
        for var, sub in dirs.items():
            (self.tmp / sub).mkdir(parents=True, exist_ok=True)
            env[var] = str(self.tmp / sub)
        for plugin, values in LAB_SETTINGS.items():
            path = self.tmp / "settings" / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env.pop("JUPYTER_PATH", None)
        return env

    def start(self) -> JupyterLab:
        checkpoints = self.tmp / "checkpoints"
        checkpoints.mkdir()
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.extension_manager=readonly",
            "--LabApp.expose_app_in_browser=True",
            f"--FileContentsManager.checkpoints_kwargs={{'root_dir': {str(checkpoints)!r}}}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=self._env(), cwd=self.root
        )
        self._log = log
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({self.proc.returncode}): {self.log()}")
            try:
                with urllib.request.urlopen(
                    f"{self.url}/api/status?token={self.token}", timeout=5
                ) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer in {self.startup_timeout} s: {self.log()}")

    def log(self, tail: int | None = 3000) -> str:
        try:
            text = self.log_path.read_text()
            return text if tail is None else text[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # jupyter shuts its kernels down on SIGTERM
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class KernelMemory:
    """Peak RSS of everything the server started (its kernels, one at a time here), sampled
    every 0.1 s in a thread between ``start()`` and ``stop()``; Binder's budget is per session."""

    def __init__(self, server_pid: int, interval: float = 0.1):
        import threading

        self.server_pid, self.interval = server_pid, interval
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        try:
            children = psutil.Process(self.server_pid).children(recursive=True)
        except psutil.Error:
            return 0
        total = 0
        for p in children:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self._sample())
            self._done.wait(self.interval)

    def start(self) -> KernelMemory:
        self._thread.start()
        return self

    def stop(self) -> float:
        """Stop sampling; the peak in MB."""
        self._done.set()
        self._thread.join(timeout=5)
        return self.peak / 2**20


def open_browser(playwright, user_data_dir: Path):
    """Debian's Chromium, headless, off the network, with a fresh profile (a persistent context).

    The browser gets CPU priority over the kernels (see ``prioritize_browser``).
    """
    context = playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=shutil.which("chromium") or CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    prioritize_browser()
    return context


def prioritize_browser(niceness: int = -10) -> int:
    """Raise the priority of the Chromium processes this test started; how many were changed.

    On a reader's machine the browser has the CPU to itself; here it shares 2 cores with the
    kernels and the nbval worker, and the animation checks time frames. Renderers forked later
    inherit the priority from the zygote. Needs root (CI and this machine); otherwise nothing
    changes.
    """

    import psutil

    changed = 0
    for proc in psutil.Process().children(recursive=True):
        try:
            if "chrom" in proc.name():
                proc.nice(niceness)
                changed += 1
        except psutil.Error:
            pass
    return changed


# --- in-page JavaScript ---------------------------------------------------------------------

JS_KERNEL_READY = """(path) => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.sessionContext) return false;
  const s = w.sessionContext;
  const k = s.session && s.session.kernel;
  return s.isReady && !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""

JS_SESSION_STATE = """() => {
  const w = window.jupyterapp && jupyterapp.shell.currentWidget;
  if (!w || !w.sessionContext) return {widget: w ? w.constructor.name : null};
  const s = w.sessionContext, k = s.session && s.session.kernel;
  return {path: w.context && w.context.path, ready: s.isReady, kernel: k ? k.name : null,
          connection: k ? k.connectionStatus : null, status: k ? k.status : null,
          dialogs: document.querySelectorAll('.jp-Dialog').length};
}"""

# "Run All", as a reader starting the notes does: every cell is queued at once, so the
# FigureWidgets of a notebook start in the browser while later cells still run. (Before
# genmod.staged, figures started together could miss anywidget's 2 s start-up limit and
# freeze, which this is the test for.)
JS_RUN_ALL = """() => {
  window.__genmodRun = {done: false, ok: null, error: null};
  jupyterapp.commands.execute('notebook:run-all-cells').then(
    () => { window.__genmodRun = {done: true, ok: true, error: null}; },
    (e) => { window.__genmodRun = {done: true, ok: false, error: String(e)}; });
  // not awaited: the test polls JS_RUN_DONE with its own timeout
}"""

# done when the command resolved, the kernel is idle and no cell waits to run ([*])
JS_RUN_DONE = """() => {
  const w = jupyterapp.shell.currentWidget;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  if (!window.__genmodRun.done || !k || k.status !== 'idle') return false;
  return w.content.widgets.every(
    c => c.model.type !== 'code' || c.model.executionState !== 'running');
}"""

JS_REPORT = """() => {
  const w = jupyterapp.shell.currentWidget;
  const cells = w.content.widgets;
  const errors = [], unexecuted = [], plotly = [], widgets = [];
  let plotlyOutputs = 0, widgetOutputs = 0;
  const describePlot = (el) => {
    const r = el.getBoundingClientRect();
    const full = el._fullData || [];
    return {
      width: Math.round(r.width), height: Math.round(r.height),
      svg: !!el.querySelector('svg.main-svg'),
      traces: full.length,
      types: full.map(t => t.type),
      drawn: el.querySelectorAll('.scatterlayer .trace, .heatmaplayer .hm, ' +
               '.contourlayer .contour, .barlayer .trace, .imagelayer image, image.hm').length +
             el.querySelectorAll('canvas').length,
    };
  };
  cells.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    const source = cell.model.sharedModel.getSource().trim();
    if (source && cell.model.executionCount === null) unexecuted.push(i);
    // model outputs and their DOM children come in the same order
    const children = cell.outputArea ? Array.from(
      cell.outputArea.node.querySelectorAll(':scope > .jp-OutputArea-child')) : [];
    cell.model.outputs.toJSON().forEach((out, j) => {
      if (out.output_type === 'error') errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
      const data = out.data || {};
      const node = children[j];
      if (data['application/vnd.jupyter.widget-view+json']) {
        const k = widgetOutputs++;
        if (!node) { widgets.push({cell: i, missing: true}); return; }
        node.setAttribute('data-genmod-widget', String(k));
        widgets.push({
          cell: i,
          rendered: !!node.querySelector('.jupyter-widgets'),
          text: node.innerText.slice(0, 200),
          error: /Error displaying widget|Failed to load model|model not found|Loading widget/i
            .test(node.innerText),
          play: node.querySelectorAll('.widget-play').length,
          sliders: node.querySelectorAll('.widget-slider .noUi-handle').length,
          plots: Array.from(node.querySelectorAll('.js-plotly-plot')).map(describePlot),
        });
      } else if (data['application/vnd.plotly.v1+json']) {
        plotlyOutputs++;
        const el = node && node.querySelector('.js-plotly-plot');
        plotly.push({cell: i, ...(el ? describePlot(el) : {missing: true})});
      }
    });
  });
  const stderr = Array.from(w.content.node.querySelectorAll(
      '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'))
    .map(el => el.innerText).filter(t => /Traceback|Error/.test(t)).map(t => t.slice(0, 300));
  // genmod.staged's wrapper caches plotly's widget module here: one entry per bundle
  const shared = Object.keys(globalThis.__genmod_plotly_widget__ || {}).length;
  return {cells: cells.length, errors, unexecuted, plotlyOutputs, widgetOutputs,
          plotly, widgets, stderr, sharedPlotlyModules: shared};
}"""

JS_SHUTDOWN = """async () => {
  const w = jupyterapp.shell.currentWidget;
  if (w && w.context) w.context.model.dirty = false;
  await jupyterapp.serviceManager.sessions.shutdownAll();
}"""


@dataclass
class NotebookReport:
    """What the page showed after running every cell of one notebook."""

    name: str
    seconds: float
    report: dict
    console_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        r, out = self.report, []
        out += [f"error output: {e}" for e in r["errors"]]
        out += [f"traceback in stderr: {e}" for e in r["stderr"]]
        if r["unexecuted"]:
            out.append(f"cells never executed: {r['unexecuted']}")
        for p in r["plotly"]:
            if not plot_drawn(p):
                out.append(f"plotly figure in cell {p['cell']} not rendered: {p}")
        for k, wd in enumerate(r["widgets"]):
            if wd.get("missing") or not wd["rendered"] or wd["error"]:
                out.append(f"widget {k} (cell {wd['cell']}) not rendered: {wd.get('text')!r}")
                continue
            for p in wd["plots"]:
                if not plot_drawn(p):
                    # seen: a FigureWidget drawn with its layout but no traces (its data
                    # arrived after the view rendered); a reader would see empty axes too
                    out.append(f"figure in widget {k} (cell {wd['cell']}) not rendered: {p}")
        if any(wd.get("plots") for wd in r["widgets"]) and r["sharedPlotlyModules"] != 1:
            out.append(
                "figure widgets did not load plotly through genmod.staged's shared module"
                f" ({r['sharedPlotlyModules']} cached modules, expected 1)"
            )
        return out


def capture_console(page) -> list[str]:
    """A list that fills with the page's console errors ("console error: ...", with the
    source location when there is one) and uncaught exceptions ("page error: ...")."""
    found: list[str] = []

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        loc = msg.location or {}
        where = f" ({loc.get('url')}:{loc.get('lineNumber')})" if loc.get("url") else ""
        found.append(f"console error: {msg.text}{where}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: found.append(f"page error: {e}"))
    return found


def split_console(errors: list[str], allow) -> tuple[list[str], list[dict]]:
    """(errors no entry of ``allow`` matches, [{error, reason}] for the allowed ones).

    ``allow``: (compiled regex, reason) pairs; an entry matches with ``re.search``.
    """
    unexpected, allowed = [], []
    for e in errors:
        hit = next((reason for rx, reason in allow if rx.search(e)), None)
        if hit is None:
            unexpected.append(e)
        else:
            allowed.append({"error": e[:300], "reason": hit})
    return unexpected, allowed


def plot_drawn(p: dict) -> bool:
    """A plotly div with its SVG, at least one trace and something drawn (SVG marks or WebGL)."""
    return (
        not p.get("missing")
        and p["svg"]
        and p["traces"] > 0
        and p["drawn"] > 0
        and p["width"] > 50
        and p["height"] > 50
    )


def run_notebook(page, lab: JupyterLab, path: str, timeout_s: float) -> NotebookReport:
    """Open ``path`` (relative to the server root) in JupyterLab, run all cells, report."""
    console = capture_console(page)
    t0 = time.monotonic()
    page.goto(f"{lab.url}/lab/tree/{path}?token={lab.token}&reset", timeout=timeout_s * 1000)
    prioritize_browser()  # the page's renderer process is new
    wait_for_kernel(page, path, timeout_s=min(timeout_s, 180))
    page.evaluate(JS_RUN_ALL)
    left = max(10.0, timeout_s - (time.monotonic() - t0))
    page.wait_for_function(JS_RUN_DONE, timeout=left * 1000, polling=500)
    seconds = time.monotonic() - t0
    # widgets and plotly render asynchronously after the last reply: let them settle
    settle_rendering(page)
    report = page.evaluate(JS_REPORT)
    return NotebookReport(Path(path).name, seconds, report, console)


def wait_for_kernel(page, path: str, timeout_s: float) -> None:
    """Wait until the notebook's kernel session is ready, connected and idle.

    A notebook without kernelspec metadata opens a "Select Kernel" dialog: accept its default
    (the server's python3) as a user would.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.evaluate(JS_KERNEL_READY, path):
            return
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count():
            accept.first.click()
        page.wait_for_timeout(250)
    state = page.evaluate(JS_SESSION_STATE)
    raise TimeoutError(f"kernel for {path} not ready after {timeout_s:.0f} s: {state}")


def settle_rendering(page, timeout_s: float = 30) -> None:
    """Scroll every output into view once (content-visibility skips offscreen work) and wait
    until the number of rendered plotly figures stops changing."""
    scroll_all(page)
    deadline, last, stable = time.monotonic() + timeout_s, -1, 0
    while time.monotonic() < deadline and stable < 3:
        # (figures drawn, figures with traces): a blank FigureWidget view may be replaced by
        # the kernel (genmod.widgets re-creates figures whose view rendered too early)
        n = page.evaluate(
            "() => { const p = Array.from(document.querySelectorAll('.js-plotly-plot'));"
            " return [p.length, p.filter(el => (el._fullData || []).length > 0).length]; }"
        )
        stable = stable + 1 if n == last and n[0] == n[1] else 0
        last = n
        page.wait_for_timeout(500)
    scroll_to(page, 0)


def scroller(page):
    return page.evaluate_handle(
        "() => jupyterapp.shell.currentWidget.content.node.querySelector('.jp-WindowedPanel-outer')"
        " || jupyterapp.shell.currentWidget.content.node"
    )


def scroll_to(page, y: float) -> None:
    page.evaluate("([el, y]) => { el.scrollTop = y; }", [scroller(page), y])
    page.wait_for_timeout(150)


def scroll_all(page) -> None:
    height = page.evaluate("(el) => el.scrollHeight", scroller(page))
    step = page.evaluate("(el) => el.clientHeight", scroller(page)) or 800
    y = 0
    while y < height:
        scroll_to(page, y)
        y += step
        height = page.evaluate("(el) => el.scrollHeight", scroller(page))


def screenshot_tiles(page, out_dir: Path, stem: str, max_tiles: int = 40) -> list[Path]:
    """Scroll the notebook top to bottom, one PNG per screenful: out_dir/stem-NN.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{stem}-*.png"):
        old.unlink()
    el = scroller(page)
    height = page.evaluate("(el) => el.scrollHeight", el)
    step = max(200, page.evaluate("(el) => el.clientHeight", el) - 60)
    paths, y = [], 0
    while y < height and len(paths) < max_tiles:
        scroll_to(page, y)
        page.wait_for_timeout(250)
        path = out_dir / f"{stem}-{len(paths):02d}.png"
        page.screenshot(path=str(path))
        paths.append(path)
        y += step
    scroll_to(page, 0)
    return paths


def shutdown_kernels(page, server_pid: int | None = None, timeout_s: float = 30) -> None:
    """Shut the page's kernels down and wait until the server has no child process left, so
    the next notebook's memory is not measured together with a kernel still exiting."""
    import psutil

    page.evaluate(JS_SHUTDOWN)
    deadline = time.monotonic() + timeout_s
    while server_pid is not None and time.monotonic() < deadline:
        try:
            if not psutil.Process(server_pid).children(recursive=True):
                return
        except psutil.Error:
            return
        time.sleep(0.2)
