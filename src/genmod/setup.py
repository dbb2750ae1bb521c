"""One call at the top of every notebook: seeds, thread count, plot renderer."""

import random

import numpy as np
import torch

#: One thread makes every result bit-identical run to run (and lets the test
#: suite run two notebooks at once on two cores).
DEFAULT_THREADS = 1


def setup(seed: int = 0, threads: int = DEFAULT_THREADS, renderer: str = "plotly_mimetype") -> None:
    """Seed python, numpy and torch, fix the thread count and the plotly renderer, and
    let a connected browser start loading plotly's widget module (``staged.preload``).

    Parameters
    ----------
    seed: global seed (every genmod call also takes its own ``seed``).
    threads: torch intra-op threads; fixed so outputs are reproducible.
    renderer: plotly renderer; ``plotly_mimetype`` stores figure JSON only
        (no plotly.js, no CDN), which JupyterLab renders offline.
    """
    import plotly.io as pio

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (the global state user code may rely on)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    pio.renderers.default = renderer
    from genmod import staged

    staged.preload()  # a browser starts importing plotly's widget module now
