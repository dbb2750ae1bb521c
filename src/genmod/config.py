"""Notebook configuration: ``genmod.setup()`` seeds, fixes the thread count and the renderer."""

import functools
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

#: One thread makes every result bit-identical run to run (and lets the test
#: suite run two notebooks at once on two cores).
DEFAULT_THREADS = 1
#: Environment variable that overrides the default thread count (an opt-in; the notebooks'
#: outputs under GENMOD_THREADS=2 are checked by hand with tests/cross_machine.py).
THREADS_ENV = "GENMOD_THREADS"


def default_threads() -> int:
    """``$GENMOD_THREADS`` if set (a positive integer), else :data:`DEFAULT_THREADS`."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return DEFAULT_THREADS
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{THREADS_ENV} must be a positive integer, got {raw!r}")
    return int(raw)


@contextmanager
def torch_threads(threads: int | None = None) -> Iterator[int]:
    """Run a block with ``threads`` torch threads (default :func:`default_threads`), then
    restore the caller's count. Model fitting uses it: the notes' nets are small, so a
    second thread saves little and costs a lot when another process holds the other core.
    """
    n = default_threads() if threads is None else int(threads)
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def fitting_threads(fit):
    """Decorator: run a model-fitting function under :func:`torch_threads` (the default count)."""

    @functools.wraps(fit)
    def wrapped(*args, **kwargs):
        with torch_threads():
            return fit(*args, **kwargs)

    return wrapped


def setup(seed: int = 0, threads: int | None = None, renderer: str = "plotly_mimetype") -> None:
    """Seed python, numpy and torch, fix the thread count and the plotly renderer, and
    let a connected browser start loading plotly's widget module (``staged.preload``).

    Parameters
    ----------
    seed: global seed (every genmod call also takes its own ``seed``).
    threads: torch intra-op threads; fixed so outputs are reproducible. ``None``: the
        ``GENMOD_THREADS`` environment variable if set, else 1.
    renderer: plotly renderer; ``plotly_mimetype`` stores figure JSON only
        (no plotly.js, no CDN), which JupyterLab renders offline.
    """
    import plotly.io as pio

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (the global state user code may rely on)
    torch.manual_seed(seed)
    torch.set_num_threads(default_threads() if threads is None else int(threads))
    pio.renderers.default = renderer
    from genmod import staged

    staged.preload()  # a browser starts importing plotly's widget module now
