"""Inverse transform sampling: the exact noise-to-sample map, in 1D and on a 2D grid.

1D: u ~ U(0, 1) and x = F^{-1}(u), with F the CDF of the density. We tabulate F on a
fine grid (the density is taken constant in each cell, so F is piecewise linear) and
invert it by linear interpolation: exact for that piecewise-constant density.

2D: p(x, y) = p(x) p(y | x). Draw (u1, u2) uniform, set x = F_x^{-1}(u1) with the
marginal CDF of x, then y = F_{y|x}^{-1}(u2) with the conditional CDF of y in the grid
column that x fell in. A deterministic map from the unit square to samples: the purest
example of the ML way (noise in, independent sample out, nothing to converge).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from genmod.arrays import Bounds, check_bounds, check_n, generator, grid
from genmod.densities import Target, require_2d
from genmod.guards import grid_log_density
from genmod.trajectory import Trajectory


def _cdf_from_mass(mass: torch.Tensor) -> torch.Tensor:
    """CDF at the cell edges from per-cell masses (..., R) -> (..., R + 1), ending exactly at 1."""
    total = mass.sum(-1, keepdim=True).clamp(min=1e-300)
    cdf = torch.cumsum(mass / total, dim=-1)
    cdf = torch.cat([torch.zeros_like(cdf[..., :1]), cdf], dim=-1)
    cdf[..., -1] = 1.0
    return cdf


def _invert(cdf: torch.Tensor, edges: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Solve F(x) = u by linear interpolation of a tabulated CDF.

    cdf: (R + 1,) or (n, R + 1) non-decreasing from 0 to 1 (one row per u if 2D);
    edges: (R + 1,) cell edges; u: (n,) in [0, 1). Returns (n,).
    """
    u = u.to(cdf.dtype).clamp(0.0, 1.0 - 1e-12)
    r = edges.shape[0] - 1
    if cdf.ndim == 1:
        idx = torch.searchsorted(cdf, u, right=True)
    else:
        idx = torch.searchsorted(cdf, u[:, None], right=True)[:, 0]
    idx = idx.clamp(1, r)  # cdf[idx - 1] <= u < cdf[idx]: that cell has positive mass
    if cdf.ndim == 1:
        lo, hi = cdf[idx - 1], cdf[idx]
    else:
        rows = torch.arange(u.shape[0])
        lo, hi = cdf[rows, idx - 1], cdf[rows, idx]
    frac = ((u - lo) / (hi - lo).clamp(min=1e-300)).clamp(0.0, 1.0)
    return edges[idx - 1] + frac * (edges[idx] - edges[idx - 1])


class InverseCDF1D:
    """The inverse CDF of a 1D density, tabulated on ``resolution`` cells of [lo, hi].

    Parameters
    ----------
    log_prob: maps an (m,) tensor of points to (m,) (unnormalized) log densities.
    lo, hi: the interval; mass outside it is ignored.
    """

    def __init__(
        self,
        log_prob: Callable[[torch.Tensor], torch.Tensor],
        lo: float,
        hi: float,
        resolution: int = 2000,
    ):
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"need finite lo < hi, got {lo}, {hi}")
        resolution = check_n(resolution, "resolution")
        self.edges = torch.linspace(lo, hi, resolution + 1, dtype=torch.float64)
        self.centres = (self.edges[1:] + self.edges[:-1]) / 2
        logp = torch.as_tensor(log_prob(self.centres)).double().reshape(-1)
        if logp.shape[0] != resolution:
            raise ValueError(f"log_prob must return shape ({resolution},), got {tuple(logp.shape)}")
        logp = grid_log_density(logp, "inverse CDF on the interval")
        mass = torch.softmax(logp, 0)
        self.cdf = _cdf_from_mass(mass)
        #: normalized density at the cell centres, (resolution,)
        self.density = mass / (self.edges[1] - self.edges[0])

    def __call__(self, u) -> torch.Tensor:
        """x = F^{-1}(u). u: (n,) in [0, 1) -> (n,) float64."""
        return _invert(self.cdf, self.edges, torch.as_tensor(u, dtype=torch.float64))

    def sample(self, n: int, seed: int | None = 0) -> torch.Tensor:
        """n independent draws: uniform noise through the inverse CDF. -> (n,)"""
        u = torch.rand(check_n(n), generator=generator(seed), dtype=torch.float64)
        return self(u)


class InverseCDF2D:
    """Marginal-then-conditional inverse CDF of a 2D density on a ``resolution``^2 grid.

    Building it costs ``resolution**2`` density evaluations once; every sample after that
    is two table look-ups.
    """

    def __init__(self, target: Target, resolution: int = 400, bounds: Bounds | None = None):
        require_2d(target, "the grid inverse transform")
        self.resolution = r = check_n(resolution, "resolution")
        self.bounds = check_bounds(bounds or target.bounds)
        _, _, pts, _ = grid(self.bounds, r)
        with torch.no_grad():
            logp = target.log_prob(pts).double().reshape(r, r)  # [i (y), j (x)]
        logp = grid_log_density(logp, f"inverse CDF of {target.name!r}")
        mass = torch.softmax(logp.reshape(-1), 0).reshape(r, r)
        (x0, x1), (y0, y1) = self.bounds
        self.x_edges = torch.linspace(x0, x1, r + 1, dtype=torch.float64)
        self.y_edges = torch.linspace(y0, y1, r + 1, dtype=torch.float64)
        self.cdf_x = _cdf_from_mass(mass.sum(0))  # marginal of x: sum over y
        self.cdf_y_given_col = _cdf_from_mass(mass.T)  # (r columns, r + 1)
        self.n_evals = r * r

    def transform_x(self, u1: torch.Tensor) -> torch.Tensor:
        """x = F_x^{-1}(u1), the first half of the map. (n,) -> (n,)"""
        return _invert(self.cdf_x, self.x_edges, u1)

    def transform_y(self, x: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
        """y = F_{y|x}^{-1}(u2), using the conditional CDF of the grid column holding x."""
        (x0, x1), _ = self.bounds
        col = ((x - x0) / (x1 - x0) * self.resolution).long().clamp(0, self.resolution - 1)
        return _invert(self.cdf_y_given_col[col], self.y_edges, u2)

    def __call__(self, u) -> torch.Tensor:
        """The map from the unit square to samples. u: (n, 2) in [0, 1)^2 -> (n, 2) float64."""
        u = torch.as_tensor(u, dtype=torch.float64)
        if u.ndim != 2 or u.shape[1] != 2:
            raise ValueError(f"u must have shape (n, 2), got {tuple(u.shape)}")
        x = self.transform_x(u[:, 0])
        return torch.stack([x, self.transform_y(x, u[:, 1])], 1)


def _ease(s: torch.Tensor) -> torch.Tensor:
    return s * s * (3 - 2 * s)  # smoothstep: particles start and stop gently


def sample(
    target: Target,
    n: int = 2000,
    seed: int | None = 0,
    resolution: int = 400,
    frames_per_stage: int = 12,
    bounds: Bounds | None = None,
) -> Trajectory:
    """Inverse transform sampling on a grid, as a map trajectory from noise to samples.

    Three stages: uniform noise spread over the plot box, then x moved through the
    marginal inverse CDF, then y through the conditional inverse CDF. ``frames_per_stage``
    interpolated frames between stages make the animation smooth.

    Parameters
    ----------
    target: any Target with a log_prob (built-in or ``from_log_prob``).
    n: number of samples (particles); seed: seeds the uniform noise.
    resolution: grid cells per axis (the map is exact for the gridded density).

    Returns
    -------
    Trajectory of kind "map", ``xs`` (2 * frames_per_stage + 1, n, 2) float32, times in
    [0, 2] (0 noise, 1 after the x-transform, 2 samples); ``extras["u"]`` is the noise.
    """
    n, frames_per_stage = check_n(n), check_n(frames_per_stage, "frames_per_stage")
    inv = InverseCDF2D(target, resolution, bounds)
    u = torch.rand(n, 2, generator=generator(seed), dtype=torch.float64)
    (x0, x1), (y0, y1) = inv.bounds
    start = torch.stack([x0 + (x1 - x0) * u[:, 0], y0 + (y1 - y0) * u[:, 1]], 1)
    x = inv.transform_x(u[:, 0])
    mid = torch.stack([x, start[:, 1]], 1)
    end = torch.stack([x, inv.transform_y(x, u[:, 1])], 1)
    s = _ease(torch.linspace(0, 1, frames_per_stage + 1, dtype=torch.float64))
    frames = [start + si * (mid - start) for si in s[:-1]]
    frames += [mid + si * (end - mid) for si in s]
    times = torch.linspace(0, 2, len(frames), dtype=torch.float64)
    return Trajectory(
        torch.stack(frames).float(),
        times,
        kind="map",
        label="inverse CDF",
        n_evals=inv.n_evals,
        extras={"u": u.float(), "resolution": resolution},
    )
