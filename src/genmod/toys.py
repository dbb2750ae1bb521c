"""The built-in 2D toys (classes only; :mod:`genmod.targets` registers them by name).

Every one has an exact sampler and a normalized density.

Densities are in closed form, except ``two_moons`` and ``swiss_roll``: they are
noisy curves, whose density is a 1D integral along the curve, computed by
composite Gauss-Legendre quadrature: a mixture of a few hundred Gaussians,
normalized exactly, within 1e-5 in log density of the exact integral where
log p > -8 (checked against 8,192 nodes).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genmod.arrays import as_points
from genmod.densities import GaussianMixture, Target

LOG_2PI = math.log(2 * math.pi)
#: The banana's log normalizer: -log 2 - log 0.5 - log 2 pi (x ~ N(0, 2^2), y | x sd 0.5).
_BANANA_C = -math.log(2) - math.log(0.5) - LOG_2PI


class Gaussian(Target):
    """N(mean, cov) with full covariance in d = len(mean) dimensions; closed-form log
    density, score and sampler. bounds: the plot box of the first two coordinates."""

    def __init__(self, mean, cov, bounds):
        self.mean = torch.as_tensor(mean, dtype=torch.float64).reshape(-1)
        self.dim = d = self.mean.shape[0]
        self.cov = torch.as_tensor(cov, dtype=torch.float64)
        if self.cov.shape != (d, d):
            raise ValueError(f"cov must have shape ({d}, {d}), got {tuple(self.cov.shape)}")
        self.chol = torch.linalg.cholesky(self.cov)
        self.prec = torch.linalg.inv(self.cov)
        self.log_norm = -0.5 * d * LOG_2PI - 0.5 * torch.logdet(self.cov).item()
        self.bounds = bounds

    def _log_prob(self, x):
        d = x.double() - self.mean
        return (self.log_norm - 0.5 * ((d @ self.prec) * d).sum(1)).to(x.dtype)

    @property
    def box(self):
        if self.dim == 2:
            return self.bounds
        half = 3.5 * self.cov.diagonal().sqrt()
        return tuple((float(m - h), float(m + h)) for m, h in zip(self.mean, half))

    def score(self, x):
        x = as_points(x, dim=self.dim)
        return (-(x.double() - self.mean) @ self.prec).to(x.dtype)

    def log_prob_and_score(self, x):
        """log p (n,) and score (n, d) from one product (what the samplers call):
        with u = (x - mean) C^-1, score = -u and log p = log_norm - (u . (x - mean)) / 2."""
        x = as_points(x, dim=self.dim)
        d = torch.sub(x, self.mean)  # in float64 (the mean's type)
        u = d @ self.prec
        # log_norm - (u . d) / 2, computed in float64 and cast on writing
        logp = torch.add((u * d).sum(1).mul_(-0.5), self.log_norm, out=x.new_empty(len(x)))
        return logp, u.to(x.dtype).neg_()

    def _sample(self, n, g):
        z = torch.randn(n, self.dim, generator=g, dtype=torch.float64)
        return self.mean + z @ self.chol.T


class CurveMixture(GaussianMixture):
    """Gaussian noise around a parametric curve c(t), t ~ Uniform(t0, t1).

    The density is a mixture over the nodes of a composite Gauss-Legendre rule in t
    (``panels`` panels of 4 nodes: the cut ends of the curve keep it accurate, where
    a midpoint rule is only O(h^2)); ``sample`` draws t continuously, so it is the
    exact generative process.
    """

    def __init__(self, curve, t_range, noise, panels, bounds):
        self.curve, self.t_range, self.noise = curve, t_range, noise
        t0, t1 = t_range
        u, w = np.polynomial.legendre.leggauss(4)  # nodes, weights on [-1, 1]
        edges = np.linspace(t0, t1, panels + 1)
        half = (edges[1:] - edges[:-1])[:, None] / 2
        t = torch.from_numpy(((edges[:-1, None] + half) + half * u).ravel())
        super().__init__(curve(t), noise, torch.from_numpy(np.tile(w, panels)), bounds=bounds)

    def _sample(self, n, g):
        t0, t1 = self.t_range
        t = t0 + (t1 - t0) * torch.rand(n, generator=g, dtype=torch.float64)
        return self.curve(t) + self.noise * torch.randn(n, 2, generator=g, dtype=torch.float64)


def moons(t):
    # t in [0, 2): first half the upper moon, second half the lower one (sklearn's layout),
    # centred and scaled by 2 so the data fill about [-3, 3] x [-2, 2].
    upper = t < 1
    a = math.pi * torch.where(upper, t, t - 1)
    x = torch.where(upper, torch.cos(a), 1 - torch.cos(a))
    y = torch.where(upper, torch.sin(a), 0.5 - torch.sin(a))
    return 2 * torch.stack([x - 0.5, y - 0.25], dim=1)


def swiss(t):
    return torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / 3.5


def _log_diff_ndtr(lo, hi):
    """log(Phi(hi) - Phi(lo)) for lo < hi, stable far in either tail."""
    flip = lo > 0  # upper tail: Phi(hi) - Phi(lo) = Phi(-lo) - Phi(-hi)
    lo, hi = torch.where(flip, -hi, lo), torch.where(flip, -lo, hi)
    a, b = torch.special.log_ndtr(hi), torch.special.log_ndtr(lo)
    return a + torch.log1p(-torch.exp(b - a))


class Checkerboard(Target):
    """Uniform on the 8 dark squares of a 4 x 4 board over [-4, 4]^2, blurred by N(0, s^2 I).

    Blurring a uniform square gives a product of normal-CDF differences: closed form.
    """

    def __init__(self, blur=0.08):
        self.blur = blur
        lows = [(-4 + 2 * i, -4 + 2 * j) for i in range(4) for j in range(4) if (i + j) % 2 == 0]
        self.lows = torch.tensor(lows, dtype=torch.float64)
        self.bounds = ((-4.5, 4.5), (-4.5, 4.5))

    def _log_prob(self, x):
        xd = x.double()[:, None, :]
        lo = (self.lows[None] - xd) / self.blur
        per_dim = _log_diff_ndtr(lo, lo + 2 / self.blur) - math.log(2.0)
        comp = per_dim.sum(-1) - math.log(len(self.lows))
        return torch.logsumexp(comp, dim=1).to(x.dtype)

    def _sample(self, n, g):
        k = torch.randint(len(self.lows), (n,), generator=g)
        u = 2 * torch.rand(n, 2, generator=g, dtype=torch.float64)
        return self.lows[k] + u + self.blur * torch.randn(n, 2, generator=g, dtype=torch.float64)


class Donut(Target):
    """p(x) proportional to exp(-(|x| - R)^2 / (2 s^2)): a ring; normalizer in closed form."""

    def __init__(self, radius=2.5, width=0.3):
        self.r0, self.s = radius, width
        r, s = radius, width
        z = (
            2
            * math.pi
            * (
                s * s * math.exp(-r * r / (2 * s * s))
                + r * s * math.sqrt(2 * math.pi) * 0.5 * math.erfc(-r / (s * math.sqrt(2)))
            )
        )
        self.log_z = math.log(z)
        self.bounds = ((-4.0, 4.0), (-4.0, 4.0))

    def _log_prob(self, x):
        r = x.double().norm(dim=1)
        return (-((r - self.r0) ** 2) / (2 * self.s**2) - self.log_z).to(x.dtype)

    def _sample(self, n, g):
        # radius density ~ r N(r; R, s^2) on r > 0: propose N(R, s^2), accept with r / r_max
        r_max = self.r0 + 8 * self.s
        out = torch.empty(0, dtype=torch.float64)
        while out.numel() < n:
            r = self.r0 + self.s * torch.randn(2 * n, generator=g, dtype=torch.float64)
            keep = (r > 0) & (torch.rand(2 * n, generator=g, dtype=torch.float64) * r_max < r)
            out = torch.cat([out, r[keep]])
        r = out[:n]
        a = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
        return torch.stack([r * torch.cos(a), r * torch.sin(a)], dim=1)


class Funnel(Target):
    """Neal's funnel in 2D: v ~ N(0, 3^2) on the vertical axis, x | v ~ N(0, e^v) horizontally."""

    def __init__(self, scale=3.0):
        self.scale = scale
        self.bounds = ((-10.0, 10.0), (-9.0, 9.0))

    def _log_prob(self, x):
        xd = x.double()
        h, v = xd[:, 0], xd[:, 1]
        log_v = -0.5 * (v / self.scale) ** 2 - math.log(self.scale) - 0.5 * LOG_2PI
        log_h = -0.5 * h * h * torch.exp(-v) - 0.5 * v - 0.5 * LOG_2PI
        return (log_v + log_h).to(x.dtype)

    def _sample(self, n, g):
        v = self.scale * torch.randn(n, generator=g, dtype=torch.float64)
        h = torch.exp(v / 2) * torch.randn(n, generator=g, dtype=torch.float64)
        return torch.stack([h, v], dim=1)


class Banana(Target):
    """A twisted Gaussian: x ~ N(0, 2^2), y | x ~ N(b (x^2 - 4), 0.5^2). Jacobian 1: exact."""

    def __init__(self, b=0.25):
        self.b = b
        self.bounds = ((-5.0, 5.0), (-3.0, 7.0))

    def _parts(self, x):
        """x, y and z = (y - b (x^2 - 4)) / 0.5 (float64), and log p (float64).

        log p = -x^2 / 8 - z^2 / 2 + C with C = -log 2 - log 0.5 - log 2 pi (the two
        standard deviations' log-Jacobians): few operations, the samplers call it often.
        """
        xd = x.double()
        h, v = xd[:, 0], xd[:, 1]
        hh = h * h
        z = (v - self.b * (hh - 4)) * 2  # / 0.5
        lp = torch.addcmul(hh * -0.125 + _BANANA_C, z, z, value=-0.5)
        return h, z, lp

    def _log_prob(self, x):
        return self._parts(x)[2].to(x.dtype)

    def score(self, x):
        return self.log_prob_and_score(x)[1]

    def log_prob_and_score(self, x):
        """log p (n,) and its closed-form gradient (n, 2) in one pass (what samplers call).

        d/dx = -x / 4 + 4 b x z and d/dy = -2 z, with z = (y - b (x^2 - 4)) / 0.5.
        """
        x = as_points(x)
        h, z, lp = self._parts(x)
        grad = torch.stack([h * (4 * self.b * z - 0.25), -2 * z], 1)
        return lp.to(x.dtype), grad.to(x.dtype)

    def _sample(self, n, g):
        h = 2 * torch.randn(n, generator=g, dtype=torch.float64)
        v = self.b * (h * h - 4) + 0.5 * torch.randn(n, generator=g, dtype=torch.float64)
        return torch.stack([h, v], dim=1)


def _rot(angle):
    c, s = torch.cos(angle), torch.sin(angle)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


class Pinwheel(Target):
    """Five elongated Gaussian arms swirled by x = R(a |z|) z.

    The swirl rotates each circle |z| = r by a fixed angle a r: it keeps |z| and
    has Jacobian 1, so log p(x) = log q(R(-a|x|) x) with q the unswirled mixture.
    """

    def __init__(self, arms=5, radius=2.0, radial_std=0.5, tangential_std=0.15, rate=0.5):
        self.rate = rate
        ang = 2 * math.pi * torch.arange(arms, dtype=torch.float64) / arms
        rots = _rot(ang)  # (arms, 2, 2)
        self.means = radius * rots[:, :, 0]
        cov0 = torch.diag(torch.tensor([radial_std**2, tangential_std**2], dtype=torch.float64))
        self.covs = rots @ cov0 @ rots.transpose(1, 2)
        self.chols = torch.linalg.cholesky(self.covs)
        self.precs = torch.linalg.inv(self.covs)
        self.log_norm = -LOG_2PI - 0.5 * torch.logdet(self.covs) - math.log(arms)
        self.bounds = ((-4.5, 4.5), (-4.5, 4.5))

    def _log_prob(self, x):
        xd = x.double()
        z = (_rot(-self.rate * xd.norm(dim=1)) @ xd[:, :, None])[..., 0]
        d = z[:, None, :] - self.means[None]
        quad = torch.einsum("nki,kij,nkj->nk", d, self.precs, d)
        return torch.logsumexp(self.log_norm - 0.5 * quad, dim=1).to(x.dtype)

    def _sample(self, n, g):
        k = torch.randint(len(self.means), (n,), generator=g)
        e = torch.randn(n, 2, 1, generator=g, dtype=torch.float64)
        z = self.means[k] + (self.chols[k] @ e)[..., 0]
        return (_rot(self.rate * z.norm(dim=1)) @ z[:, :, None])[..., 0]
