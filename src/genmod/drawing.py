"""Drawing primitives of the animations: paths, arrows, circles, marginals.

Everything here is plain numpy on float32 arrays, fast enough to run once per
animation frame: line paths with NaN breaks (one plotly trace draws many segments),
proposal circles and arrows, the density grid with its true marginals, histograms.
"""

from __future__ import annotations

import math

import numpy as np

from genmod import plots
from genmod.targets import Target

_NAN2 = np.full((1, 2), np.nan, dtype=np.float32)


def xy(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous float32 x and y columns of (m, 2) points (plotly refuses strided arrays)."""
    p = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    return np.ascontiguousarray(p[:, 0]), np.ascontiguousarray(p[:, 1])


def finite_rows(points: np.ndarray) -> np.ndarray:
    """(m,) True where both coordinates are finite."""
    return np.isfinite(points).all(-1)


def segments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Segments a_i -> b_i as one path (3m, 2): a, b, NaN break; non-finite ones dropped."""
    keep = finite_rows(a) & finite_rows(b)
    a, b = a[keep], b[keep]
    out = np.empty((a.shape[0], 3, 2), dtype=np.float32)
    out[:, 0], out[:, 1], out[:, 2] = a, b, np.nan
    return out.reshape(-1, 2)


def arrows(a: np.ndarray, b: np.ndarray, head: float = 0.25) -> np.ndarray:
    """Arrows a_i -> b_i (shaft and two head strokes) as one NaN-broken path (6m, 2).

    head: head length as a fraction of the arrow length.
    """
    keep = finite_rows(a) & finite_rows(b)
    a, b = a[keep].astype(np.float32), b[keep].astype(np.float32)
    d = b - a
    ang = np.arctan2(d[:, 1], d[:, 0])
    length = head * np.hypot(d[:, 0], d[:, 1])
    strokes = [
        b + length[:, None] * np.stack([np.cos(ang + s), np.sin(ang + s)], 1) for s in (2.6, -2.6)
    ]
    nan = np.full_like(a, np.nan)
    return np.stack([a, b, strokes[0], b, strokes[1], nan], 1).reshape(-1, 2)


def ellipses(centers: np.ndarray, std, k_sigmas=(1.0, 2.0), n_pts: int = 33) -> np.ndarray:
    """Circles/ellipses of k sigma around each center, axis-aligned, as one NaN-broken path.

    centers: (m, 2); std: scalar or (m, 2) per-axis standard deviations.
    """
    t = np.linspace(0, 2 * math.pi, n_pts, dtype=np.float32)
    unit = np.stack([np.cos(t), np.sin(t)], 1)  # (n_pts, 2)
    std = np.broadcast_to(np.asarray(std, dtype=np.float32), centers.shape)
    parts = []
    for k in k_sigmas:
        ring = centers[:, None, :] + k * std[:, None, :] * unit[None]  # (m, n_pts, 2)
        parts.append(np.concatenate([ring, np.full((len(centers), 1, 2), np.nan)], 1))
    out = np.concatenate(parts, 0).reshape(-1, 2).astype(np.float32)
    return out[np.isnan(out).any(1) | finite_rows(out)]


def polylines(paths: np.ndarray) -> np.ndarray:
    """Paths (L, m, 2) (L points of m polylines) as one NaN-broken path ((L + 1) m, 2)."""
    p = np.concatenate([paths, np.full((1, *paths.shape[1:]), np.nan)], 0)
    return np.ascontiguousarray(p.transpose(1, 0, 2).reshape(-1, 2), dtype=np.float32)


def density_layers(target: Target, resolution: int = 100, log: bool = False):
    """One log_prob pass on a grid: the heatmap and both true marginals.

    Returns a dict: ``x``, ``y`` (resolution,) grid centres; ``z`` (resolution, resolution)
    p / max p (or log p clipped 12 nats below its max with ``log=True``), rows along y;
    ``px``, ``py`` (resolution,) marginal densities of x and y, each integrating to 1 over
    the target's bounds (mass outside ignored). All float32.
    """
    xs, ys, lz = plots.density_grid(target, resolution, log=True)
    p = np.exp(lz.astype(np.float64) - lz.max())
    hx, hy = float(xs[1] - xs[0]), float(ys[1] - ys[0])
    px, py = p.sum(0), p.sum(1)  # z rows are y, columns x
    px, py = px / (px.sum() * hx), py / (py.sum() * hy)
    z = lz if log else p
    f = lambda v: np.asarray(v, dtype=np.float32)  # noqa: E731
    return dict(x=f(xs), y=f(ys), z=f(z), px=f(px), py=f(py))


def hist_density(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram of finite values as a density (integrates to 1 over the bins they fall in)."""
    v = values[np.isfinite(values)]
    counts, _ = np.histogram(v, bins=edges)
    total = counts.sum()
    width = edges[1] - edges[0]
    return (counts / max(total, 1) / width).astype(np.float32)


def running_mean(flags: np.ndarray) -> np.ndarray:
    """(n_steps + 1,) mean of (n_steps, n) flags over steps < k and all particles; [0] = NaN."""
    per_step = flags.reshape(flags.shape[0], -1).mean(1)
    out = np.full(flags.shape[0] + 1, np.nan)
    out[1:] = np.cumsum(per_step) / np.arange(1, flags.shape[0] + 1)
    return out
