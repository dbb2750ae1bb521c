"""Diffusion SDEs (VE, VP, sub-VP), exact Gaussian-mixture scores, and score training.

A forward SDE dx = f(x, t) dt + g(t) dw, t in [0, T = 1], turns data into noise.
Its marginal is x_t = alpha_t x_0 + sigma_t z (Song et al. 2021, "Score-Based
Generative Modeling through Stochastic Differential Equations"). One time-dependent
score s(x, t) ~ grad log p_t(x) then gives a reverse SDE and a probability flow ODE
(``sample``, in :mod:`genmod.reverse`) and likelihoods (:mod:`genmod.likelihood`).

Times near 0 are avoided: samplers stop at, and training draws t from, ``EPS = 1e-3``.
"""

from __future__ import annotations

import math

import torch

from genmod.targets import GaussianMixture, as_points, check_n, generator
from genmod.trajectory import Trajectory

EPS = 1e-3


def _t(t) -> torch.Tensor:
    return torch.as_tensor(t, dtype=torch.float64)


class SDE:
    """Base class. Subclasses define ``marginal``, ``drift``, ``diffusion`` and ``prior_std``."""

    name = "sde"
    T = 1.0
    prior_std = 1.0

    def marginal(self, t):
        """(alpha_t, sigma_t): x_t = alpha_t x_0 + sigma_t z. t: float or tensor."""
        raise NotImplementedError

    def drift(self, x: torch.Tensor, t) -> torch.Tensor:
        """f(x, t). x: (n, 2); t: float or (n,) tensor."""
        raise NotImplementedError

    def diffusion(self, t) -> torch.Tensor:
        """g(t), same shape as t."""
        raise NotImplementedError

    def prior_sample(self, n: int, g: torch.Generator) -> torch.Tensor:
        """(n, 2) draws from the prior N(0, prior_std^2 I) the samplers start from."""
        return self.prior_std * torch.randn(check_n(n), 2, generator=g)

    def prior_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log N(x; 0, prior_std^2 I). x: (n, 2) -> (n,)."""
        v = self.prior_std**2
        return -(x**2).sum(1) / (2 * v) - math.log(2 * math.pi * v)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class VE(SDE):
    """Variance exploding: dx = g(t) dw, x_t = x_0 + sigma_t z, prior N(0, sigma_max^2 I).

    sigma_t^2 = sigma_min^2 ((sigma_max / sigma_min)^(2t) - 1) is the exact marginal
    variance of the SDE with g(t)^2 = d/dt sigma_min^2 (sigma_max / sigma_min)^(2t).
    """

    name = "ve"

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 10.0):
        if not 0 < sigma_min < sigma_max:
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
        self.sigma_min, self.sigma_max = float(sigma_min), float(sigma_max)
        self.log_ratio = math.log(sigma_max / sigma_min)
        self.prior_std = self.sigma_max

    def marginal(self, t):
        t = _t(t)
        var = self.sigma_min**2 * torch.expm1(2 * t * self.log_ratio)
        return torch.ones_like(t), var.sqrt()

    def drift(self, x, t):
        return torch.zeros_like(x)

    def diffusion(self, t):
        t = _t(t)
        return self.sigma_min * torch.exp(t * self.log_ratio) * math.sqrt(2 * self.log_ratio)

    def __repr__(self):
        return f"<VE sigma_min={self.sigma_min:g} sigma_max={self.sigma_max:g}>"


class VP(SDE):
    """Variance preserving (DDPM in continuous time): dx = -beta(t)/2 x dt + sqrt(beta(t)) dw.

    beta(t) = beta_min + t (beta_max - beta_min); with B(t) = int_0^t beta,
    alpha_t = exp(-B/2), sigma_t^2 = 1 - exp(-B); prior N(0, I).
    """

    name = "vp"

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0):
        if not 0 < beta_min <= beta_max:
            raise ValueError(f"need 0 < beta_min <= beta_max, got {beta_min}, {beta_max}")
        self.beta_min, self.beta_max = float(beta_min), float(beta_max)

    def beta(self, t):
        return self.beta_min + _t(t) * (self.beta_max - self.beta_min)

    def _int_beta(self, t):
        t = _t(t)
        return self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t**2

    def marginal(self, t):
        b = self._int_beta(t)
        return torch.exp(-0.5 * b), (-torch.expm1(-b)).sqrt()

    def drift(self, x, t):
        beta = self.beta(t).to(x.dtype)
        return -0.5 * (beta.reshape(-1, 1) if beta.ndim else beta) * x

    def diffusion(self, t):
        return self.beta(t).sqrt()

    def __repr__(self):
        return f"<VP beta_min={self.beta_min:g} beta_max={self.beta_max:g}>"


class SubVP(VP):
    """Sub-VP: VP's drift, g(t)^2 = beta(t) (1 - exp(-2B)); sigma_t = 1 - exp(-B) <= VP's."""

    name = "subvp"

    def marginal(self, t):
        b = self._int_beta(t)
        return torch.exp(-0.5 * b), -torch.expm1(-b)

    def diffusion(self, t):
        return (self.beta(t) * -torch.expm1(-2 * self._int_beta(t))).sqrt()

    def __repr__(self):
        return f"<SubVP beta_min={self.beta_min:g} beta_max={self.beta_max:g}>"


SDES = {"ve": VE, "vp": VP, "subvp": SubVP}


def get(name: str, **kw) -> SDE:
    """An SDE by name ("ve", "vp", "subvp"); keyword arguments go to its constructor."""
    if name not in SDES:
        raise ValueError(f"unknown SDE {name!r}; valid: {', '.join(SDES)}")
    return SDES[name](**kw)


def marginal_target(target: GaussianMixture, an_sde: SDE, t: float) -> GaussianMixture:
    """The exact law of x_t when x_0 ~ target: ``target.perturbed(sigma_t, scale=alpha_t)``."""
    alpha, sigma = an_sde.marginal(float(t))
    return target.perturbed(float(sigma), scale=float(alpha))


def exact_score(target: GaussianMixture, an_sde: SDE):
    """The exact time-dependent score grad log p_t(x) of a Gaussian mixture under an SDE.

    Component k at time t is N(alpha_t m_k, (alpha_t^2 s_k^2 + sigma_t^2) I), so the
    score is sum_k r_k(x, t) (alpha_t m_k - x) / var_k(t). Returns score_fn(x, t) with t a
    float or an (n,) tensor; differentiable in x (the likelihood needs its divergence).
    """
    if not isinstance(target, GaussianMixture):
        raise ValueError(f"exact scores need a GaussianMixture target, got {target!r}")
    means, stds, logw = target.means, target.stds, target.weights.log()

    def score_fn(x, t):
        x = as_points(x)
        alpha, sigma = an_sde.marginal(t)
        alpha, sigma = alpha.reshape(-1, 1, 1), sigma.reshape(-1, 1)  # (n or 1, ...)
        var = alpha[..., 0] ** 2 * stds**2 + sigma**2  # (n or 1, k)
        diff = alpha * means - x.double()[:, None, :]  # (n, k, 2)
        logits = logw - (diff**2).sum(-1) / (2 * var) - torch.log(var)
        r = torch.softmax(logits, dim=1)
        return (r[..., None] * diff / var[..., None]).sum(1).to(x.dtype)

    return score_fn


def forward(an_sde: SDE, x0, steps: int = 100, seed: int | None = 0, eps: float = EPS):
    """Run the forward SDE from data x0 (at t = eps) to t = T: data becomes noise.

    Uses the exact Gaussian transition x_s = (alpha_s/alpha_t) x_t + sqrt(sigma_s^2 -
    (alpha_s/alpha_t)^2 sigma_t^2) z, so there is no discretization error.

    Returns a Trajectory (kind "map") with ``steps + 1`` frames at times eps ... T.
    """
    x = as_points(x0, "x0").float()
    check_n(steps)
    g = generator(seed)
    ts = torch.linspace(eps, an_sde.T, int(steps) + 1, dtype=torch.float64)
    alpha, sigma = an_sde.marginal(ts)
    xs = [x]
    for i in range(int(steps)):
        a = alpha[i + 1] / alpha[i]
        s = (sigma[i + 1] ** 2 - a**2 * sigma[i] ** 2).clamp(min=0).sqrt()
        x = float(a) * x + float(s) * torch.randn(x.shape, generator=g)
        xs.append(x)
    return Trajectory(torch.stack(xs), ts.float(), kind="map", label=f"forward {an_sde.name} SDE")


# score training lives in genmod.sde_training; sde.fit, sde.ScoreModel, sde.dsm_loss re-exported
from genmod.likelihood import log_likelihood  # noqa: E402,F401  (sde.log_likelihood)
from genmod.reverse import sample  # noqa: E402,F401  (sde.sample)
from genmod.sde_training import ScoreModel, dsm_loss, fit  # noqa: E402,F401
