"""2D toy target distributions, by name.

Every target has a normalized ``log_prob``, a ``score`` (closed form where one
exists, autograd otherwise), ``sample(n, seed)`` and plot ``bounds``. The
concrete toys live in :mod:`genmod.toys`; this module holds the base class,
the analytic Gaussian mixture, custom densities and the registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Bounds = tuple[tuple[float, float], tuple[float, float]]


def as_points(x, name: str = "x") -> torch.Tensor:
    """Check that ``x`` is an (n, 2) array of points and return it as a float tensor."""
    x = torch.as_tensor(x)
    if not torch.is_floating_point(x):
        x = x.to(torch.get_default_dtype())
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {tuple(x.shape)}")
    return x


def check_n(n) -> int:
    """A positive whole number of samples, or a clear error."""
    if isinstance(n, bool) or int(n) != n or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return int(n)


def generator(seed: int | None) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (fresh entropy if None)."""
    g = torch.Generator()
    if seed is None:
        g.seed()
    else:
        g.manual_seed(int(seed))
    return g


def grid(bounds: Bounds, n: int = 200, dtype=torch.float64):
    """Cell centres of an n x n grid over ``bounds``.

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


class Target:
    """A 2D density. Subclasses implement ``_log_prob`` and, if they can, ``_sample``."""

    name: str = "target"
    bounds: Bounds = ((-4.0, 4.0), (-4.0, 4.0))
    #: True when ``sample`` draws exact iid samples; False: a fine-grid approximation.
    exact_sampler: bool = True

    def log_prob(self, x) -> torch.Tensor:
        """Normalized log density. x: (n, 2) -> (n,) tensor."""
        return self._log_prob(as_points(x))

    def score(self, x) -> torch.Tensor:
        """Gradient of log density, ``grad_x log p(x)``. x: (n, 2) -> (n, 2)."""
        x = as_points(x)
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(self._log_prob(xg).sum(), xg)
        return g

    def sample(self, n: int, seed: int | None = 0) -> torch.Tensor:
        """n iid draws as an (n, 2) float32 tensor; the same seed gives the same draws."""
        n = check_n(n)
        if self.exact_sampler:
            return self._sample(n, generator(seed)).float()
        return grid_sample(self, n, seed=seed)

    def _log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _sample(self, n: int, g: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def grid_sample(
    target: Target,
    n: int,
    seed: int | None = 0,
    resolution: int = 512,
    bounds: Bounds | None = None,
) -> torch.Tensor:
    """Approximate iid draws from any density: pick grid cells by mass, then jitter uniformly.

    Exact up to the grid (cell width = bounds / resolution) and the mass outside ``bounds``.
    """
    n = check_n(n)
    bounds = bounds or target.bounds
    _, _, pts, _ = grid(bounds, resolution)
    logp = target.log_prob(pts).double()
    w = torch.softmax(torch.nan_to_num(logp, nan=-math.inf), dim=0)
    g = generator(seed)
    idx = torch.multinomial(w, n, replacement=True, generator=g)
    (x0, x1), (y0, y1) = bounds
    cell = torch.tensor([(x1 - x0) / resolution, (y1 - y0) / resolution], dtype=torch.float64)
    jitter = (torch.rand(n, 2, generator=g, dtype=torch.float64) - 0.5) * cell
    return (pts[idx] + jitter).float()


class GaussianMixture(Target):
    """Mixture of isotropic Gaussians: sum_k w_k N(mean_k, std_k^2 I). Everything is exact.

    Parameters
    ----------
    means: (k, 2) component means.
    stds: (k,) component standard deviations (a scalar is broadcast).
    weights: (k,) mixture weights (normalized here); equal if None.
    """

    def __init__(
        self,
        means,
        stds,
        weights=None,
        name: str = "gaussian_mixture",
        bounds: Bounds | None = None,
    ):
        self.means = torch.as_tensor(means, dtype=torch.float64).reshape(-1, 2)
        k = self.means.shape[0]
        self.stds = torch.as_tensor(stds, dtype=torch.float64).reshape(-1).expand(k).clone()
        w = torch.ones(k) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
        w = w.to(torch.float64).reshape(-1)
        if w.shape[0] != k:
            raise ValueError(f"{k} means but {w.shape[0]} weights")
        if (self.stds <= 0).any() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("stds must be positive and weights non-negative with a positive sum")
        self.weights = w / w.sum()
        self.name = name
        if bounds is None:
            pad = 3.5 * float(self.stds.max()) + 0.5
            lo = self.means.min(0).values - pad
            hi = self.means.max(0).values + pad
            c, r = (lo + hi) / 2, float((hi - lo).max()) / 2
            bounds = ((float(c[0]) - r, float(c[0]) + r), (float(c[1]) - r, float(c[1]) + r))
        self.bounds = bounds

    def perturbed(self, sigma: float, scale: float = 1.0) -> GaussianMixture:
        """The law of ``scale * X + sigma * Z`` with X from this mixture, Z ~ N(0, I).

        ``scale=1`` is the noise-perturbed density p_sigma of score matching (VE);
        ``scale=alpha_t`` with ``sigma=sigma_t`` is a VP diffusion marginal.
        """
        sigma, scale = float(sigma), float(scale)
        if not math.isfinite(sigma) or sigma < 0:
            raise ValueError(f"sigma must be a finite number >= 0, got {sigma}")
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError(f"scale must be a finite number > 0, got {scale}")
        stds = torch.sqrt((scale * self.stds) ** 2 + sigma**2)
        (x0, x1), (y0, y1) = self.bounds
        grow = scale * max(x1 - x0, y1 - y0) / 2 + 3 * sigma
        cx, cy = scale * (x0 + x1) / 2, scale * (y0 + y1) / 2
        return GaussianMixture(
            scale * self.means,
            stds,
            self.weights,
            name=f"{self.name} (sigma={sigma:g})",
            bounds=((cx - grow, cx + grow), (cy - grow, cy + grow)),
        )

    def component_log_probs(self, x) -> torch.Tensor:
        """log w_k + log N(x; mean_k, std_k^2 I) for each component. x: (n, 2) -> (n, k)."""
        x = as_points(x)
        d2 = ((x.double()[:, None, :] - self.means[None]) ** 2).sum(-1)
        var = self.stds**2
        return self.weights.log() - d2 / (2 * var) - torch.log(2 * math.pi * var)

    def responsibilities(self, x) -> torch.Tensor:
        """Posterior probability of each component given x. (n, 2) -> (n, k)."""
        return torch.softmax(self.component_log_probs(x), dim=1)

    def _chunks(self, x):
        # keep n x k work arrays near 1M entries (8 MB in float64; curve targets have 256
        # components): larger ones fall under glibc's dynamic mmap threshold and fragment
        # the heap, and a kernel kept several hundred MB after one grid of log densities
        step = max(1, 1_000_000 // len(self.weights))
        return x.split(step)

    def _log_prob(self, x):
        # results go into one preallocated tensor (small per-chunk results kept in a list
        # would sit between the large temporaries and fragment the heap)
        out = torch.empty(len(x), dtype=torch.float64)
        i = 0
        for c in self._chunks(x):
            out[i : i + len(c)] = torch.logsumexp(self.component_log_probs(c), dim=1)
            i += len(c)
        return out.to(x.dtype)

    def score(self, x):
        # grad log p = sum_k r_k(x) (mean_k - x) / std_k^2
        x = as_points(x)
        out = torch.empty(len(x), 2, dtype=torch.float64)
        i = 0
        for c in self._chunks(x):
            r = self.responsibilities(c)
            diff = self.means[None] - c.double()[:, None, :]
            out[i : i + len(c)] = (r[..., None] * diff / (self.stds**2)[None, :, None]).sum(1)
            i += len(c)
        return out.to(x.dtype)

    def _sample(self, n, g):
        k = torch.multinomial(self.weights, n, replacement=True, generator=g)
        z = torch.randn(n, 2, generator=g, dtype=torch.float64)
        return self.means[k] + self.stds[k, None] * z


class CustomTarget(Target):
    """A user density from a log-density function; see :func:`from_log_prob`."""

    def __init__(
        self,
        fn: Callable[[torch.Tensor], torch.Tensor],
        bounds: Bounds,
        name: str,
        normalize: bool = True,
        resolution: int = 400,
    ):
        self.fn, self.bounds, self.name = fn, _check_bounds(bounds), name
        self.exact_sampler = False
        self.log_z = 0.0
        if normalize:
            _, _, pts, area = grid(self.bounds, resolution)
            logp = self._raw(pts).double()
            if not torch.isfinite(logp).any():
                raise ValueError(f"log density of {name!r} is not finite anywhere in bounds")
            self.log_z = float(torch.logsumexp(logp, 0) + math.log(area))

    def _raw(self, x):
        out = self.fn(x)
        out = torch.as_tensor(out)
        if out.shape != (x.shape[0],):
            raise ValueError(
                f"log density must return shape ({x.shape[0]},), got {tuple(out.shape)}"
            )
        return out

    def _log_prob(self, x):
        return self._raw(x) - self.log_z


def _check_bounds(bounds) -> Bounds:
    try:
        (x0, x1), (y0, y1) = bounds
        b = ((float(x0), float(x1)), (float(y0), float(y1)))
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be ((xmin, xmax), (ymin, ymax)), got {bounds!r}") from None
    if not (b[0][0] < b[0][1] and b[1][0] < b[1][1]) or not all(map(math.isfinite, sum(b, ()))):
        raise ValueError(f"bounds must be finite with min < max, got {bounds!r}")
    return b


def from_log_prob(
    fn: Callable[[torch.Tensor], torch.Tensor],
    bounds: Bounds,
    name: str = "custom",
    normalize: bool = True,
) -> Target:
    """Wrap any (unnormalized) 2D log density as a Target.

    Parameters
    ----------
    fn: maps an (n, 2) tensor to (n,) log densities; written in torch so the score
        can come from autograd.
    bounds: ((xmin, xmax), (ymin, ymax)), the box to plot, normalize and grid-sample on.
    normalize: subtract log Z computed numerically on a 400 x 400 grid over ``bounds``
        (mass outside the box is ignored).

    ``sample`` draws from a 512 x 512 grid over ``bounds`` (``exact_sampler`` is False).
    """
    return CustomTarget(fn, bounds, name, normalize)


_REGISTRY: dict[str, Callable[[], Target]] = {}


def register(name: str):
    """Decorator adding a zero-argument target factory to the registry."""

    def deco(factory):
        _REGISTRY[name] = factory
        return factory

    return deco


def names() -> list[str]:
    """Names of the built-in targets, in gallery order."""
    import genmod.toys  # noqa: F401  (fills the registry)

    return list(_REGISTRY)


def get(name: str) -> Target:
    """A built-in target by name; ValueError listing the valid names otherwise."""
    valid = names()
    if name not in _REGISTRY:
        raise ValueError(f"unknown target {name!r}; valid names: {', '.join(valid)}")
    target = _REGISTRY[name]()
    target.name = name
    return target
