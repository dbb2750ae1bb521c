"""JupyterLab with no kernel at all, for tests/test_cold_open.py.

``no_kernel_lab`` is tests/browser_support.py's ``JupyterLab`` whose server offers no kernel
spec; ``open_without_kernel`` opens a notebook there and answers JupyterLab's "Select Kernel"
dialog with "No Kernel". A figure that moves on that page does it without any kernel.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import browser_support as bs

# Notebook-side state of the open notebook's session: a cold reader's page with "No Kernel"
JS_NO_KERNEL_READY = """(path) => {
  const w = window.jupyterapp && jupyterapp.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.sessionContext) return null;
  const s = w.sessionContext;
  return {ready: s.isReady, noKernel: s.hasNoKernel, name: s.kernelDisplayName,
          kernel: s.session && s.session.kernel ? s.session.kernel.name : null,
          dialogs: document.querySelectorAll('.jp-Dialog').length,
          cells: w.content.widgets.length};
}"""


def no_kernel_lab(root, log_path):
    """A ``browser_support.JupyterLab`` whose server offers no kernel at all.

    ``KernelSpecManager.allowed_kernelspecs`` names none that exists, so JupyterLab cannot
    start the notebook's python3 kernel and asks which kernel to use; ``open_without_kernel``
    answers "No Kernel". Nothing can then reach a kernel: a figure that moves does it alone.
    """

    class NoKernelLab(bs.JupyterLab):
        def _env(self):
            env = super()._env()
            config = Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json"
            config.write_text(
                json.dumps({"KernelSpecManager": {"allowed_kernelspecs": ["genmod-no-kernel"]}})
            )
            return env

    return NoKernelLab(root, log_path)


def open_without_kernel(page, lab, path: str, timeout_s: float = 120) -> float:
    """Open ``path`` in ``no_kernel_lab``'s JupyterLab and answer "No Kernel"; the seconds from
    navigation until the notebook's session is ready without a kernel."""
    t0, answered = time.monotonic(), False
    page.goto(f"{lab.url}/lab/tree/{path}?token={lab.token}&reset", timeout=timeout_s * 1e3)
    while time.monotonic() - t0 < timeout_s:
        state = page.evaluate(JS_NO_KERNEL_READY, path)
        dialog = page.locator(".jp-Dialog")
        if state and state["kernel"] is not None:
            raise RuntimeError(f"{path} opened with kernel {state['kernel']!r}")
        if dialog.count():
            select = dialog.locator("select")
            if select.count():
                select.first.select_option("null")  # "No Kernel"
            dialog.locator(".jp-mod-accept").first.click()
            answered = True
        elif answered and state and state["noKernel"] and state["name"] == "No Kernel":
            return time.monotonic() - t0
        page.wait_for_timeout(100)
    raise TimeoutError(f"{path}: no kernel-less session after {timeout_s} s: {state}")
