"""Re-execute notebooks in place so their stored outputs are what nbval checks against.

    python tools/refresh_notebooks.py                 # every notebook
    python tools/refresh_notebooks.py notebooks/01_mcmc.ipynb

Runs each notebook top to bottom in its own folder (as nbval does), without saving
widget state (a FigureWidget's state embeds all of plotly.js) or timing metadata,
then checks the notebook is under 2 MB and has no error outputs.
"""

from __future__ import annotations

import glob
import os
import sys
import time

import nbformat
from nbclient import NotebookClient

MAX_BYTES = 2_000_000


def refresh(path: str, timeout: int = 300) -> tuple[float, int]:
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=False,
        record_timing=False,
        resources={"metadata": {"path": os.path.dirname(path) or "."}},
    )
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    nbformat.write(nb, path)
    size = os.path.getsize(path)
    if errors:
        raise SystemExit(f"{path}: {len(errors)} error outputs")
    if size > MAX_BYTES:
        raise SystemExit(f"{path}: {size / 1e6:.2f} MB, over the 2 MB budget")
    return seconds, size


def main(paths: list[str]) -> None:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = paths or sorted(glob.glob(os.path.join(here, "notebooks", "[0-9]*.ipynb")))
    for p in paths:
        seconds, size = refresh(p)
        print(f"{os.path.basename(p):36s} {seconds:6.1f} s  {size / 1e3:7.0f} kB")


if __name__ == "__main__":
    main(sys.argv[1:])
