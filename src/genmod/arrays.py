"""Small array and seed helpers every module shares (the notes rarely need them).

``as_points`` checks an (n, d) point array (d = 2 unless told), ``check_n`` a positive count,
``check_dim`` a dimension, ``generator``
makes the local seeded generator every sampler draws from (never the global one),
``grid`` lays cell centres over 2D plot bounds, ``uniform_box`` draws uniform points in a box.
"""

from __future__ import annotations

import math

import torch

Bounds = tuple[tuple[float, float], tuple[float, float]]


def as_points(
    x, name: str = "x", dim: int | None = 2, finite: bool = False, min_n: int = 0
) -> torch.Tensor:
    """Check that ``x`` is an (n, dim) array of points and return it as a float tensor.

    dim: the width the caller needs (2 for the 2D-only helpers: grids, heatmaps, plots);
    None accepts any width d >= 1 (the samplers and models that run in d dimensions).
    finite: also require every value finite (data, start points); min_n: at least that many
    points. Errors name ``name``, the value's shape or count, and what is allowed.
    """
    want = "(n, d)" if dim is None else f"(n, {dim})"
    try:
        x = torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as e:
        msg = f"{name} must be an {want} array of numbers, got {type(x).__name__}: {e}"
        raise TypeError(msg) from None
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if not torch.is_floating_point(x):
        x = x.to(torch.get_default_dtype())
    if x.ndim != 2 or x.shape[1] < 1 or (dim is not None and x.shape[1] != dim):
        hint = ""
        if dim == 2 and x.ndim == 2 and x.shape[1] != 2:
            hint = " (a 2D-only helper: show d-dimensional points through a 2D view)"
        raise ValueError(f"{name} must have shape {want}, got {tuple(x.shape)}{hint}")
    if x.shape[0] < min_n:
        raise ValueError(f"{name} must hold at least {min_n} points, got {x.shape[0]}")
    if finite and not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(1).sum())
        raise ValueError(
            f"{name} has {bad} of {x.shape[0]} points with NaN or inf coordinates; "
            "all values must be finite"
        )
    return x


def check_dim(d, name: str = "d") -> int:
    """A dimension d >= 1 (a whole number, numpy integers too), or a clear error naming it."""
    try:
        ok = not isinstance(d, bool | str) and int(d) == d and d >= 1
    except (TypeError, ValueError, OverflowError):  # None, NaN, inf, arrays, objects
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an integer >= 1, got {d!r}")
    return int(d)


def check_n(n, name: str = "n", allow_zero: bool = False) -> int:
    """A positive whole number (of samples, steps, ...), or a clear error naming it.

    Python and numpy integers (and whole floats such as 1e3) are accepted; allow_zero:
    0 too (a warm-up of no steps).
    """
    try:
        ok = not isinstance(n, bool | str) and int(n) == n and (n >= 0 if allow_zero else n > 0)
    except (TypeError, ValueError, OverflowError):  # None, NaN, inf, arrays, objects
        ok = False
    if not ok:
        allowed = "an integer >= 0" if allow_zero else "a positive integer"
        raise ValueError(f"{name} must be {allowed}, got {n!r}")
    return int(n)


def generator(seed: int | None) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (fresh entropy if None)."""
    g = torch.Generator()
    if seed is None:
        g.seed()
    else:
        g.manual_seed(int(seed))
    return g


def check_bounds(bounds) -> Bounds:
    """``((xmin, xmax), (ymin, ymax))`` as floats, finite with min < max, or a clear error."""
    try:
        (x0, x1), (y0, y1) = bounds
        b = ((float(x0), float(x1)), (float(y0), float(y1)))
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be ((xmin, xmax), (ymin, ymax)), got {bounds!r}") from None
    if not (b[0][0] < b[0][1] and b[1][0] < b[1][1]) or not all(map(math.isfinite, sum(b, ()))):
        raise ValueError(f"bounds must be finite with min < max, got {bounds!r}")
    return b


def grid(bounds: Bounds, n: int = 200, dtype=torch.float64):
    """Cell centres of an n x n grid over ``bounds`` (2D only).

    Returns
    -------
    xs, ys: (n,) tensors of centres; points: (n*n, 2) tensor, row-major in y
    (``points.reshape(n, n, 2)[i, j] == (xs[j], ys[i])``); cell_area: float.
    """
    (x0, x1), (y0, y1) = bounds
    hx, hy = (x1 - x0) / n, (y1 - y0) / n
    xs = torch.linspace(x0 + hx / 2, x1 - hx / 2, n, dtype=dtype)
    ys = torch.linspace(y0 + hy / 2, y1 - hy / 2, n, dtype=dtype)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1), hx * hy


def uniform_box(bounds, n: int, seed: int | torch.Generator = 0) -> torch.Tensor:
    """(n, d) float32 points uniform over a box: the uninformed start of a sampler.

    bounds: d pairs (lo, hi), one per coordinate (plot bounds are the 2D case).
    seed: an integer, or the generator of the sampler that draws them.
    """
    box = [(float(lo), float(hi)) for lo, hi in bounds]
    g = seed if isinstance(seed, torch.Generator) else generator(seed)
    u = torch.rand(check_n(n), len(box), generator=g)
    return torch.stack([lo + (hi - lo) * u[:, j] for j, (lo, hi) in enumerate(box)], 1)
