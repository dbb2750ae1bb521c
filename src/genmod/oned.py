"""One dimension, where everything is exact: the bridge from inverse transform to the SDEs.

A 1D Gaussian mixture p_0 = sum_k w_k N(m_k, s_k^2) stays a mixture under a diffusion
SDE: x_t = alpha_t x_0 + sigma_t z has p_t = sum_k w_k N(alpha_t m_k, alpha_t^2 s_k^2 +
sigma_t^2) (Song et al. 2021, eq. 29-31 give alpha_t, sigma_t). So p_t, its score, its
CDF F_t and its quantiles F_t^{-1} are all closed form, and we can draw the picture of
Song's blog post (p_t over (t, x) with reverse-SDE and PF-ODE paths on it) and test
the claim the talk builds to:

  a 1D flow is monotone (paths of an ODE cannot cross), so the PF-ODE map from the
  prior to the data keeps quantiles: x_0 = F_0^{-1}(F_T(x_T)). With x_T = sigma_T z
  that is x = F^{-1}(Phi(z)): inverse transform sampling (notebook 02), computed by
  integrating the score instead of inverting a CDF.

Points here are (n,) tensors (float64): the 2D helpers of the package do not apply.
"""

from __future__ import annotations

import math

import torch

from genmod import odes
from genmod.arrays import check_n, generator
from genmod.inverse import InverseCDF1D
from genmod.sde import EPS, SDE, ode_velocity

_SQRT2 = math.sqrt(2.0)


class Mixture1D:
    """sum_k w_k N(m_k, s_k^2) on the real line.

    Parameters
    ----------
    means, stds, weights: (k,) each (stds may be a scalar; weights are normalized, equal
        if None).
    """

    def __init__(self, means, stds, weights=None):
        self.means = torch.as_tensor(means, dtype=torch.float64).reshape(-1)
        k = len(self.means)
        self.stds = torch.as_tensor(stds, dtype=torch.float64).reshape(-1).expand(k).clone()
        w = torch.ones(k) if weights is None else torch.as_tensor(weights)
        w = w.to(torch.float64).reshape(-1)
        if len(w) != k or (self.stds <= 0).any() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("need k means, k positive stds and k non-negative weights")
        self.weights = w / w.sum()

    def perturbed(self, alpha: float, sigma: float) -> Mixture1D:
        """The law of alpha X + sigma Z: the diffusion marginal p_t."""
        stds = torch.sqrt((alpha * self.stds) ** 2 + sigma**2)
        return Mixture1D(alpha * self.means, stds, self.weights)

    def _z(self, x):
        x = torch.as_tensor(x, dtype=torch.float64).reshape(-1, 1)
        return (x - self.means) / self.stds

    def log_prob(self, x) -> torch.Tensor:
        """log p(x). x: (n,) -> (n,)."""
        z = self._z(x)
        c = self.weights.log() - 0.5 * z**2 - torch.log(self.stds * math.sqrt(2 * math.pi))
        return torch.logsumexp(c, 1)

    def score(self, x) -> torch.Tensor:
        """d/dx log p(x) = sum_k r_k(x) (m_k - x) / s_k^2, r the responsibilities. (n,) -> (n,)."""
        z = self._z(x)
        c = self.weights.log() - 0.5 * z**2 - torch.log(self.stds)
        r = torch.softmax(c, 1)
        return (r * (-z / self.stds)).sum(1)

    def cdf(self, x) -> torch.Tensor:
        """F(x) = sum_k w_k Phi((x - m_k) / s_k). (n,) -> (n,)."""
        return (self.weights * 0.5 * torch.erfc(-self._z(x) / _SQRT2)).sum(1)

    def icdf(self, u, n_iter: int = 80) -> torch.Tensor:
        """F^{-1}(u) by bisection (F is increasing). u: (n,) in (0, 1) -> (n,)."""
        u = torch.as_tensor(u, dtype=torch.float64).reshape(-1)
        pad = 40 * float(self.stds.max())
        lo = torch.full_like(u, float(self.means.min()) - pad)
        hi = torch.full_like(u, float(self.means.max()) + pad)
        for _ in range(n_iter):  # 80 halvings of a ~100-wide bracket: below 1e-20
            mid = (lo + hi) / 2
            below = self.cdf(mid) < u
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        return (lo + hi) / 2

    def sample(self, n: int, seed: int | None = 0) -> torch.Tensor:
        """n exact draws. -> (n,)"""
        g = generator(seed)
        k = torch.multinomial(self.weights, check_n(n), replacement=True, generator=g)
        return self.means[k] + self.stds[k] * torch.randn(n, generator=g, dtype=torch.float64)

    def bounds(self, pad: float = 4.0) -> tuple[float, float]:
        """An interval holding all but a negligible mass."""
        s = pad * float(self.stds.max())
        return float(self.means.min()) - s, float(self.means.max()) + s


def marginal(mix: Mixture1D, an_sde: SDE, t: float) -> Mixture1D:
    """p_t, the exact law of x_t under ``an_sde`` when x_0 ~ ``mix``."""
    alpha, sigma = an_sde.marginal(float(t))
    return mix.perturbed(float(alpha), float(sigma))


def exact_score(mix: Mixture1D, an_sde: SDE):
    """score_fn(x, t) = d/dx log p_t(x) for x (n, 1), t a float (the shape odes.rk4 steps)."""

    def score_fn(x, t):
        return marginal(mix, an_sde, t).score(x.reshape(-1)).reshape(x.shape).to(x.dtype)

    return score_fn


def heatmap(mix: Mixture1D, an_sde: SDE, n_times: int = 120, n_x: int = 240, lim=None):
    """p_t(x) on a (t, x) grid: the picture of Song's post.

    Returns ts (n_times,) from EPS to T, xs (n_x,), density (n_times, n_x).
    """
    ts = torch.linspace(EPS, an_sde.T, check_n(n_times, "n_times"), dtype=torch.float64)
    lo, hi = lim or (-3.0 * an_sde.prior_std, 3.0 * an_sde.prior_std)
    xs = torch.linspace(lo, hi, check_n(n_x, "n_x"), dtype=torch.float64)
    dens = torch.stack([marginal(mix, an_sde, float(t)).log_prob(xs).exp() for t in ts])
    return ts, xs, dens


def pf_ode_paths(score_fn, an_sde: SDE, x_T, n_steps: int = 200):
    """Integrate the probability flow ODE from T down to EPS with RK4.

    x_T: (n,) start points. Returns ts (n_steps + 1,) from T to EPS and paths
    (n_steps + 1, n); every path is a deterministic function of its start.
    """
    x = torch.as_tensor(x_T, dtype=torch.float64).reshape(-1, 1)
    xs, ts, _ = odes.rk4(ode_velocity(score_fn, an_sde), x, an_sde.T, EPS, n_steps)
    return torch.tensor(ts), torch.stack(xs)[..., 0]


def reverse_sde_paths(score_fn, an_sde: SDE, x_T, n_steps: int = 500, seed: int | None = 0):
    """Euler-Maruyama on the reverse SDE dx = [f - g^2 s] dt + g dw_bar, T -> EPS.

    x_T: (n,) start points. Returns ts (n_steps + 1,) and paths (n_steps + 1, n); the
    last step adds no noise (as ``sde.sample``). The same start with another seed ends
    elsewhere: a stochastic map.
    """
    g = generator(seed)
    x = torch.as_tensor(x_T, dtype=torch.float64).reshape(-1, 1)
    ts = torch.linspace(an_sde.T, EPS, check_n(n_steps, "n_steps") + 1, dtype=torch.float64)
    out = [x]
    for i in range(n_steps):
        t, dt = float(ts[i]), float(ts[i + 1] - ts[i])  # dt < 0
        gt = float(an_sde.diffusion(t))
        x = x + (an_sde.drift(x, t) - gt**2 * score_fn(x, t)) * dt
        if i < n_steps - 1:
            x = x + gt * math.sqrt(-dt) * torch.randn(x.shape, generator=g, dtype=x.dtype)
        out.append(x)
    return ts, torch.stack(out)[..., 0]


def pf_ode_is_inverse_transform(
    mix: Mixture1D,
    an_sde: SDE,
    z,
    n_steps: int = 200,
    start: str = "exact",
    resolution: int = 4000,
) -> dict:
    """Push standard normal noise z through the PF-ODE and through inverse transform.

    The ODE uses the exact score and starts at the quantile of z under p_T,
    x_T = F_T^{-1}(Phi(z)) (``start="exact"``: the identity holds up to the solver and the
    time floor EPS), or at x_T = prior_std z (``start="prior"``: what samplers do; p_T is
    not exactly the prior, and the mismatch is magnified where p_0 has little mass).
    Three answers for the same z, (n,) each:

    - ``ode``: the PF-ODE map;
    - ``exact``: F_0^{-1}(Phi(z)), the data quantile of z (closed form, bisection);
    - ``grid``: notebook 02's tabulated inverse CDF (``genmod.inverse.InverseCDF1D``)
      at u = Phi(z).

    Also returns ``max_err_exact`` / ``max_err_grid`` = max |ode - exact| / |ode - grid|,
    and ``monotone`` (the ODE map keeps the order of z).
    """
    if start not in ("exact", "prior"):
        raise ValueError(f"start must be 'exact' or 'prior', got {start!r}")
    z = torch.as_tensor(z, dtype=torch.float64).reshape(-1)
    u = 0.5 * torch.erfc(-z / _SQRT2)  # Phi(z)
    x_T = marginal(mix, an_sde, an_sde.T).icdf(u) if start == "exact" else an_sde.prior_std * z
    _, paths = pf_ode_paths(exact_score(mix, an_sde), an_sde, x_T, n_steps)
    ode = paths[-1]
    exact = mix.icdf(u)
    lo, hi = mix.bounds(6.0)
    grid = InverseCDF1D(mix.log_prob, lo, hi, resolution)(u)
    order = torch.argsort(z)
    return dict(
        z=z,
        ode=ode,
        exact=exact,
        grid=grid,
        max_err_exact=float((ode - exact).abs().max()),
        max_err_grid=float((ode - grid).abs().max()),
        monotone=bool((ode[order].diff() >= 0).all()),
    )
