"""What a target is: the base class, the analytic Gaussian mixture, custom densities.

Every target has a dimension ``dim`` (2 for the toys of the notes), a normalized
``log_prob``, a ``score`` (closed form where one exists, autograd otherwise),
``sample(n, seed)``, plot ``bounds`` (of the first two coordinates) and a start ``box``
(one (lo, hi) per coordinate). Grid-based helpers are 2D only and say so
(:func:`require_2d`). The built-in toys are in :mod:`genmod.toys`; the registry by name in
:mod:`genmod.targets`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from genmod.arrays import Bounds, as_points, check_bounds, check_n, generator, grid
from genmod.guards import grid_log_density, mixture_params


def require_2d(target, what: str) -> None:
    """A clear error when a 2D-only helper (grid, heatmap, ...) gets a d-dimensional target."""
    d = getattr(target, "dim", 2)
    if d != 2:
        raise ValueError(
            f"{what} is 2D only (a grid of r cells per axis has r^d cells), but "
            f"{getattr(target, 'name', target)!r} has d = {d}; use a 2D view of its samples"
        )


class Target:
    """A density in ``dim`` dimensions (2 unless a subclass says otherwise).

    Subclasses implement ``_log_prob`` and, if they can, ``_sample``.
    """

    name: str = "target"
    dim: int = 2
    bounds: Bounds = ((-4.0, 4.0), (-4.0, 4.0))
    #: True when ``sample`` draws exact iid samples; False: a fine-grid approximation.
    exact_sampler: bool = True

    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        """One (lo, hi) per coordinate: where an uninformed sampler starts (2D: ``bounds``)."""
        return self.bounds

    def log_prob(self, x) -> torch.Tensor:
        """Normalized log density. x: (n, dim) -> (n,) tensor.

        Non-finite points are passed through (NaN or -inf out): a sampler's divergent
        proposal is counted, not raised.
        """
        return self._log_prob(as_points(x, dim=self.dim))

    def score(self, x) -> torch.Tensor:
        """Gradient of log density, ``grad_x log p(x)``. x: (n, dim) -> (n, dim)."""
        x = as_points(x, dim=self.dim)
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            lp = self._log_prob(xg)
            if not lp.requires_grad:
                raise TypeError(
                    f"the log density of {self.name!r} does not depend on x through torch "
                    "operations, so autograd cannot give its score; write fn in torch"
                )
            (g,) = torch.autograd.grad(lp.sum(), xg)
        return g

    def sample(self, n: int, seed: int | None = 0) -> torch.Tensor:
        """n iid draws as an (n, dim) float32 tensor; the same seed gives the same draws."""
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
    2D only.
    """
    require_2d(target, "grid sampling")
    n, resolution = check_n(n), check_n(resolution, "resolution")
    bounds = bounds or target.bounds
    _, _, pts, _ = grid(bounds, resolution)
    logp = target.log_prob(pts).double()
    logp = grid_log_density(logp, f"cannot sample {target.name!r} over bounds={bounds}")
    w = torch.softmax(logp, dim=0)
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
    means: (k, d) component means (a flat (d,) list is one component); d = ``dim``.
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
        self.means, self.stds, w = mixture_params(means, stds, weights)
        k, self.dim = self.means.shape
        self.weights = w / w.sum()
        self.name = name
        pad = 3.5 * float(self.stds.max()) + 0.5
        lo = self.means.min(0).values - pad
        hi = self.means.max(0).values + pad
        c, r = (lo + hi) / 2, float((hi - lo).max()) / 2
        # a square box around all modes; bounds: the plot box of the first two coordinates
        self._box = tuple((float(ci) - r, float(ci) + r) for ci in c)
        if bounds is None:
            bounds = (self._box + self._box)[:2] if self.dim == 1 else self._box[:2]
        self.bounds = bounds

    @property
    def box(self):
        return self.bounds if self.dim == 2 else self._box

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

    def _table(self, x: torch.Tensor, scale, sigma):
        """The (n, k) table c_k = log w_k + log N(x; scale m_k, var_k I) and var_k.

        var_k = scale^2 s_k^2 + sigma^2 (the law of scale X + sigma Z); |x - m|^2 is
        expanded as |x|^2 - 2 x.m + |m|^2 (a matmul, no (n, k, 2) array).
        scale, sigma: floats, or (n, 1) tensors (one diffusion time per point).
        """
        xd = x.double()
        if isinstance(scale, float):
            means = scale * self.means
            d2 = (xd * xd).sum(1, keepdim=True) - 2 * xd @ means.T + (means**2).sum(1)
        else:
            means = self.means
            cross = (2 * xd @ means.T) * scale
            d2 = (xd * xd).sum(1, keepdim=True) - cross + scale**2 * (means**2).sum(1)
        var = scale**2 * self.stds**2 + sigma**2
        log_norm = 0.5 * self.dim * torch.log(2 * math.pi * var)  # N(x; m, var I) in d dims
        c = (self.weights.log() - log_norm) - d2.clamp_min(0) / (2 * var)
        return c, var, means

    def log_prob_and_score(self, x, scale=1.0, sigma=0.0, with_score: bool = True):
        """log p and grad log p of the law of ``scale * X + sigma * Z`` in one pass.

        The one Gaussian-mixture formula of the package: log p = logsumexp_k c_k and
        score = sum_k r_k (scale m_k - x) / var_k, r = softmax(c). ``scale``, ``sigma``:
        floats, or (n,) tensors (a diffusion time per point, as in training).
        x: (n, d) -> (n,), (n, d) (the score None without ``with_score``).
        """
        x = as_points(x, dim=self.dim)
        per_point = not (isinstance(scale, float) and isinstance(sigma, float))
        if not per_point:
            return self._fixed_law(x, scale, sigma, with_score)
        scale = torch.as_tensor(scale, dtype=torch.float64).reshape(-1, 1).expand(len(x), 1)
        sigma = torch.as_tensor(sigma, dtype=torch.float64).reshape(-1, 1).expand(len(x), 1)
        logp = torch.empty(len(x), dtype=torch.float64)
        score = torch.empty(len(x), self.dim, dtype=torch.float64) if with_score else None
        for rows in _chunks(len(x), len(self.weights)):
            a, s = scale[rows], sigma[rows]
            c, var, means = self._table(x[rows], a, s)
            lp = torch.logsumexp(c, dim=1)
            logp[rows] = lp
            if with_score:
                r = torch.exp(c - lp[:, None]) / var
                score[rows] = (r @ means) * a - r.sum(1, keepdim=True) * x[rows].double()
        return logp.to(x.dtype), None if score is None else score.to(x.dtype)

    def _fixed_law(self, x, scale: float, sigma: float, with_score: bool):
        """log p and score at one (scale, sigma): two matrix products per chunk.

        With var_k = scale^2 s_k^2 + sigma^2 and mu_k = scale m_k, the table is linear in
        the features (x, |x|^2, 1): c_k = x . mu_k / var_k - |x|^2 / (2 var_k) + b_k, with
        b_k = log w_k - (d / 2) log(2 pi var_k) - |mu_k|^2 / (2 var_k) computed once
        (:meth:`_linear_table`). Every c_k is at most U = max_k (log w_k - (d / 2) log(2 pi
        var_k)) (the peak of the highest component), so e_k = exp(c_k - U) never overflows;
        U rides in the bias, and one product [mu / var, 1 / var, 1]^T e gives
        S1 = sum e_k mu_k / var_k, S0 = sum e_k / var_k and W = sum e_k:
        log p = U + log W and score = (S1 - S0 x) / W.
        Points far from every mode (W below ``_TINY``: the largest e_k near underflow) are
        redone with their own shift max_k c_k, so none loses precision.
        The samplers' hot path: no (n, k, d) array, three passes over the table, which is
        laid out (k, n) (the faster orientation of both products here).
        """
        weights, sums, top = self._linear_table(scale, sigma)
        d, n = x.shape[1], len(x)
        feats = _features(x)  # (d + 2, n): x^T, |x|^2, 1
        xt = feats[:d]
        chunks = _chunks(n, len(self.weights))
        if len(chunks) == 1:  # the samplers' case: no copies into preallocated outputs
            return self._fixed_chunk(x.dtype, xt, feats, weights, sums, top, with_score)
        logp = torch.empty(n, dtype=x.dtype)
        score = torch.empty(n, d, dtype=x.dtype) if with_score else None
        for cols in chunks:
            lp, sc = self._fixed_chunk(
                x.dtype, xt[:, cols], feats[:, cols], weights, sums, top, with_score
            )
            logp[cols] = lp
            if with_score:
                score[cols] = sc
        return logp, score

    @staticmethod
    def _fixed_chunk(dtype, xt, feats, weights, sums, top, with_score):
        """:meth:`_fixed_law` on points xt (d, n) with features (d + 2, n)."""
        d, n = xt.shape
        out = sums @ (weights @ feats).exp_()  # (d + 2, n): S1, S0, W
        total = out[d + 1]
        # W is never +inf (each e_k <= 1, about); NaN (a non-finite point) is redone too
        near = total > _TINY
        # the samplers' case (no autograd graph): results written straight into outputs
        diff = feats.requires_grad and torch.is_grad_enabled()
        if near.all():
            into = None if diff else feats.new_empty(n, dtype=dtype)
            logp = torch.add(total.log(), top, out=into)
        else:  # rare: the far points again, shifted by their own max_k c_k - U
            far = ~near
            e = weights @ feats[:, far]
            shift = e.amax(0)
            out[:, far] = sums @ e.sub_(shift).exp_()
            logp = top + torch.zeros_like(total).index_put_((far,), shift) + total.log()
        logp = logp.to(dtype)
        if not with_score:
            return logp, None
        # score = (S1 - S0 x) / W (d, n), returned (n, d)
        if diff:
            score = ((out[:d] - out[d] * xt) / total).T
            return logp, score.to(dtype, memory_format=torch.contiguous_format).contiguous()
        score = torch.empty(n, d, dtype=dtype)
        torch.div(out[:d].sub_(out[d] * xt), total, out=score.T)  # written through the transpose
        return logp, score

    def _linear_table(self, scale: float, sigma: float):
        """Cached (weights (k, d + 2), sums (d + 2, k), U) of :meth:`_fixed_law`."""
        key = (scale, sigma)
        cache = self.__dict__.setdefault("_linear_cache", {})
        if key not in cache:
            mu = scale * self.means
            var = scale**2 * self.stds**2 + sigma**2
            d = mu.shape[1]
            bias = self.weights.log() - 0.5 * d * torch.log(2 * math.pi * var)
            top = bias.max()  # U: no c_k exceeds it
            bias = bias - (mu * mu).sum(1) / (2 * var) - top
            weights = torch.cat([mu / var[:, None], -0.5 / var[:, None], bias[:, None]], 1)
            sums = torch.cat([(mu / var[:, None]).T, 1 / var[None], torch.ones_like(var)[None]])
            if len(cache) > 8:  # a noise-level slider visits many laws: keep a few
                cache.clear()
            cache[key] = (weights.contiguous(), sums.contiguous(), float(top))
        return cache[key]

    def component_log_probs(self, x) -> torch.Tensor:
        """log w_k + log N(x; mean_k, std_k^2 I) for each component. x: (n, d) -> (n, k)."""
        return self._table(as_points(x, dim=self.dim), 1.0, 0.0)[0]

    def responsibilities(self, x) -> torch.Tensor:
        """Posterior probability of each component given x. (n, d) -> (n, k)."""
        return torch.softmax(self.component_log_probs(x), dim=1)

    def _log_prob(self, x):
        return self.log_prob_and_score(x, with_score=False)[0]

    def score(self, x):
        return self.log_prob_and_score(x)[1]

    def _sample(self, n, g):
        k = torch.multinomial(self.weights, n, replacement=True, generator=g)
        z = torch.randn(n, self.dim, generator=g, dtype=torch.float64)
        return self.means[k] + self.stds[k, None] * z


def _features(x: torch.Tensor) -> torch.Tensor:
    """The mixture's features (d + 2, n) in float64 of points x (n, d): x^T, |x|^2 and 1
    (the linear table of :meth:`GaussianMixture._fixed_law`), written into one array."""
    n, d = x.shape
    if x.requires_grad and torch.is_grad_enabled():  # differentiable: no writes into arrays
        xt = x.double().T
        return torch.cat([xt, (xt * xt).sum(0, keepdim=True), xt.new_ones(1, n)])
    feats = torch.empty(d + 2, n, dtype=torch.float64)
    xt = feats[:d].copy_(x.T)
    torch.sum(xt * xt, 0, out=feats[d])
    feats[d + 1].fill_(1.0)
    return feats


#: Below this W (the largest e_k under about exp(-575)) a row of the mixture's fast path is
#: recomputed with its own max shift: every e_k that counts stays a normal float64.
_TINY = 1e-250


def _chunks(n: int, k: int):
    """Row slices keeping n x k work arrays near 1M entries (8 MB in float64).

    Curve targets have 256 components: larger arrays fall under glibc's dynamic mmap
    threshold and fragment the heap; results go into preallocated tensors for that reason.
    """
    step = max(1, 1_000_000 // k)
    return [slice(i, i + step) for i in range(0, max(n, 1), step)]


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
        if not callable(fn):
            raise TypeError(f"fn must be a function of an (n, 2) tensor, got {fn!r}")
        self.fn, self.bounds, self.name = fn, check_bounds(bounds), name
        self.exact_sampler = False
        self.log_z = 0.0
        # one grid pass checks the density over the whole box (and gives log Z)
        _, _, pts, area = grid(self.bounds, resolution)
        logp = self._raw(pts).double()
        nan = torch.isnan(logp)
        if nan.any():
            raise ValueError(
                f"fn returns NaN on {float(nan.double().mean()):.1%} of the box {self.bounds} "
                f"(grid of {resolution} x {resolution}); return -inf where the density is zero"
            )
        if (logp == math.inf).any():
            raise ValueError(
                f"fn returns +inf at {int((logp == math.inf).sum())} grid points of the box "
                f"{self.bounds}; a log density must be finite or -inf"
            )
        if not torch.isfinite(logp).any():
            raise ValueError(
                f"fn returns -inf everywhere in the box {self.bounds}: the density is zero; "
                "check fn or widen bounds"
            )
        if normalize:
            self.log_z = float(torch.logsumexp(logp, 0) + math.log(area))

    def _raw(self, x):
        out = self.fn(x)
        if not isinstance(out, torch.Tensor):
            raise TypeError(
                f"fn must return a torch tensor of shape ({x.shape[0]},), got "
                f"{type(out).__name__}; write it with torch operations so autograd gives the score"
            )
        if out.shape != (x.shape[0],):
            raise ValueError(
                f"fn (the log density) must return shape ({x.shape[0]},), got {tuple(out.shape)}"
            )
        return out

    def _log_prob(self, x):
        return self._raw(x) - self.log_z


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

    ``fn`` is checked once on that grid (whether or not it normalizes): it must return a
    torch tensor; NaN anywhere on the grid is an error that states the fraction of the box
    affected (return -inf for zero density instead); +inf anywhere is an error; -inf
    everywhere (a zero density) is an error.

    ``sample`` draws from a 512 x 512 grid over ``bounds`` (``exact_sampler`` is False).
    """
    return CustomTarget(fn, bounds, name, normalize)
