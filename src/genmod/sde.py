"""Diffusion SDEs (VE, VP, sub-VP): the forward process, and sampling it in reverse.

A forward SDE dx = f(x, t) dt + g(t) dw, t in [0, T = 1], turns data into noise.
Its marginal is x_t = alpha_t x_0 + sigma_t z (Song et al. 2021, "Score-Based
Generative Modeling through Stochastic Differential Equations"). One time-dependent
score ``score_fn(x, t)`` ~ grad log p_t(x) then gives (all in :func:`sample`):

- the reverse SDE  dx = [f(x, t) - g(t)^2 s(x, t)] dt + g(t) dw_bar  (Euler-Maruyama, "em");
- predictor-corrector ("pc"): before each EM step, Langevin corrector steps at fixed t
  with step size 2 (snr |z| / |s|)^2, norms averaged over the batch (their Algorithm 4/5);
- the probability flow ODE  dx/dt = f(x, t) - g(t)^2 s(x, t) / 2: the same marginals p_t,
  no noise after the start, so a deterministic noise-to-sample map ("ode": RK4 with fixed
  steps, "ode_adaptive": scipy's RK45).

Likelihoods through the ODE are in :mod:`genmod.likelihood`; training a score model
for an SDE is ``score.fit(data, method="sde", an_sde=...)``.
Times near 0 are avoided: samplers stop at, and training draws t from, ``EPS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from genmod import odes
from genmod.arrays import as_points, check_dim, check_n, generator
from genmod.densities import GaussianMixture
from genmod.guards import (
    check_positive,
    check_start,
    check_work,
    divergence_cause,
    first_call_checked,
)
from genmod.toys import Gaussian
from genmod.trajectory import Trajectory

#: The time floor: samplers stop at t = EPS and training draws t from [EPS, T]
#: (scores blow up like 1 / sigma_t as t -> 0). The only meaning of ``eps`` in genmod.
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
        """f(x, t). x: (n, d); t: float or (n,) tensor."""
        raise NotImplementedError

    def diffusion(self, t) -> torch.Tensor:
        """g(t), same shape as t."""
        raise NotImplementedError

    def prior_sample(self, n: int, g: torch.Generator, dim: int = 2) -> torch.Tensor:
        """(n, dim) draws from the prior N(0, prior_std^2 I) the samplers start from."""
        return self.prior_std * torch.randn(check_n(n), check_dim(dim, "dim"), generator=g)

    def prior_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log N(x; 0, prior_std^2 I) in d = x.shape[1] dimensions. x: (n, d) -> (n,)."""
        v = self.prior_std**2
        return -(x**2).sum(1) / (2 * v) - 0.5 * x.shape[1] * math.log(2 * math.pi * v)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class VE(SDE):
    """Variance exploding: dx = g(t) dw, x_t = x_0 + sigma_t z, prior N(0, sigma_max^2 I).

    sigma_t^2 = sigma_min^2 ((sigma_max / sigma_min)^(2t) - 1) is the exact marginal
    variance of the SDE with g(t)^2 = d/dt sigma_min^2 (sigma_max / sigma_min)^(2t).
    """

    name = "ve"

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 10.0):
        sigma_min = check_positive(sigma_min, "sigma_min")
        sigma_max = check_positive(sigma_max, "sigma_max")
        if not sigma_min < sigma_max:
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
        beta_min = check_positive(beta_min, "beta_min")
        beta_max = check_positive(beta_max, "beta_max")
        if not beta_min <= beta_max:
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


def exact_score(target: GaussianMixture | Gaussian, an_sde: SDE) -> Callable:
    """The exact time-dependent score grad log p_t(x) of a Gaussian mixture under an SDE.

    x_t = alpha_t x_0 + sigma_t z, so p_t is the mixture's law of alpha_t X + sigma_t Z:
    :meth:`~genmod.densities.GaussianMixture.log_prob_and_score` gives it. A Gaussian
    N(m, C) (:class:`genmod.toys.Gaussian`) has p_t = N(alpha_t m, alpha_t^2 C + sigma_t^2 I),
    whose score is computed in C's eigenbasis. Returns
    score_fn(x, t) with t a float or an (n,) tensor; differentiable in x (the likelihood
    needs its divergence). ``score_fn.dim`` is the target's dimension.
    """
    if isinstance(target, Gaussian):
        return _gaussian_score(target, an_sde)
    if not isinstance(target, GaussianMixture):
        raise ValueError(f"exact scores need a GaussianMixture or Gaussian target, got {target!r}")

    def score_fn(x, t):
        alpha, sigma = an_sde.marginal(t)
        if alpha.ndim == 0:
            alpha, sigma = float(alpha), float(sigma)
        return target.log_prob_and_score(x, alpha, sigma)[1]

    score_fn.dim = target.dim
    return score_fn


def _gaussian_score(target: Gaussian, an_sde: SDE) -> Callable:
    lam, u = torch.linalg.eigh(target.cov)  # C = U diag(lam) U^T

    def score_fn(x, t):
        # -(alpha^2 C + sigma^2 I)^-1 (x - alpha m), one diagonal scaling in C's eigenbasis
        alpha, sigma = (v.reshape(-1, 1) for v in an_sde.marginal(t))
        y = ((x.double() - alpha * target.mean) @ u) / (alpha**2 * lam + sigma**2)
        return -(y @ u.T).to(x.dtype)

    score_fn.dim = target.dim
    return score_fn


def model_dim(score_fn, dim: int | None = None) -> int:
    """The dimension a score_fn works in: ``dim`` if given (checked against the score_fn's
    own ``.dim`` when it has one: a ScoreModel, :func:`exact_score`), else its ``.dim``, else 2.
    """
    own = getattr(score_fn, "dim", None)
    if dim is None:
        return 2 if own is None else int(own)
    dim = check_dim(dim, "dim")
    if own is not None and int(own) != dim:
        raise ValueError(f"dim={dim} does not match the score's dimension {own}")
    return dim


def forward(an_sde: SDE, x0, n_steps: int = 100, seed: int | None = 0):
    """Run the forward SDE from data x0 (at t = EPS) to t = T: data becomes noise.

    Uses the exact Gaussian transition x_s = (alpha_s/alpha_t) x_t + sqrt(sigma_s^2 -
    (alpha_s/alpha_t)^2 sigma_t^2) z, so there is no discretization error.

    Returns a Trajectory (kind "map") with ``n_steps + 1`` frames at times EPS ... T.
    """
    x = as_points(x0, "x0", dim=None).float()
    n_steps = check_n(n_steps, "n_steps")
    g = generator(seed)
    ts = torch.linspace(EPS, an_sde.T, n_steps + 1, dtype=torch.float64)
    alpha, sigma = an_sde.marginal(ts)
    xs = [x]
    for i in range(n_steps):
        a = alpha[i + 1] / alpha[i]
        s = (sigma[i + 1] ** 2 - a**2 * sigma[i] ** 2).clamp(min=0).sqrt()
        x = float(a) * x + float(s) * torch.randn(x.shape, generator=g)
        xs.append(x)
    return Trajectory(torch.stack(xs), ts.float(), kind="map", label=f"forward {an_sde.name} SDE")


METHODS = ("em", "pc", "ancestral", "ode", "ode_adaptive")
LABELS = {"em": "reverse SDE (EM)", "pc": "predictor-corrector", "ode": "PF-ODE (RK4)"}
LABELS.update(ode_adaptive="PF-ODE (RK45)", ancestral="ancestral (DDPM)")


def ode_velocity(score_fn: Callable, an_sde: SDE) -> Callable:
    """The probability flow ODE field v(x, t) = f(x, t) - g(t)^2 s(x, t) / 2."""

    def v(x, t):
        g2 = (an_sde.diffusion(t) ** 2).to(x.dtype)
        g2 = g2.reshape(-1, 1) if g2.ndim else g2
        return an_sde.drift(x, t) - 0.5 * g2 * score_fn(x, t)

    return v


def _langevin(score_fn, x, t, snr, g):
    s = score_fn(x, t)
    z = torch.randn(x.shape, generator=g)
    step = 2 * (snr * z.norm(dim=1).mean() / s.norm(dim=1).mean().clamp(min=1e-12)) ** 2
    return x + step * s + (2 * step).sqrt() * z


def _check_args(score_fn, an_sde, n, method, n_steps, snr, n_corrector):
    """The checks of :func:`sample`'s arguments; returns n, n_steps, snr."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    n = check_n(n)
    if not isinstance(an_sde, SDE):
        raise TypeError(
            f"an_sde must be a genmod.sde.SDE (sde.VE(), sde.VP(), ...), got {an_sde!r}"
        )
    if not callable(score_fn):
        raise TypeError(f"score_fn must be a function score_fn(x, t), got {score_fn!r}")
    snr = check_positive(snr, "snr")
    if n_corrector != 0:  # 0 turns the corrector off; else a count
        check_n(n_corrector, "n_corrector")
    if method != "ode_adaptive":
        n_steps = check_n(n_steps, "n_steps")
        check_work(n_steps, n)  # the stored frames
        check_work(n_steps * (1 + (n_corrector if method == "pc" else 0)), 1)  # the loop
    return n, n_steps, snr


def sample(
    score_fn: Callable,
    an_sde: SDE,
    n: int,
    method: str = "pc",
    n_steps: int = 500,
    seed: int | None = 0,
    snr: float = 0.16,
    n_corrector: int = 1,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    x_T=None,
    dim: int | None = None,
    prior_mean=None,
) -> Trajectory:
    """Draw n samples by running time backwards from the prior at T to t = EPS.

    Parameters
    ----------
    score_fn: ``score_fn(x, t)`` with x (n, d) and t a float -> (n, d) score.
    an_sde: an :class:`SDE`.
    method: "em", "pc", "ancestral" (DDPM's sampler, :func:`_ancestral`), "ode" (RK4,
        4 score calls per step) or "ode_adaptive" (scipy's
        RK45; ``n_steps`` is ignored, rtol and atol set the accuracy).
    n_steps: number of time steps; snr, n_corrector: the Langevin corrector of "pc".
    x_T: optional (n, d) finite start points (default: prior draws from ``seed``).
    prior_mean: optional (d,) mean m of the data: the prior draws are moved to
        N(alpha_T m, prior_std^2 I), the Gaussian with the mean of p_T. The forward process
        leaves alpha_T m of the data's mean at T (0.0066 m for the default VP, all of m for
        VE), which N(0, I) ignores; the PF-ODE carries that offset to the end (on
        separated_mixture, mean (3, 3), it puts 0.009 of the mass in the wrong mode), the
        reverse SDE forgets it. Not with ``x_T``.
    dim: d; None: the score_fn's ``.dim`` (a ScoreModel, ``exact_score``), else 2
        (see :func:`model_dim`).

    The first ``score_fn`` call is checked (shape (n, d), finite values); n_steps x n is
    bounded (:mod:`genmod.guards`).

    Returns
    -------
    Trajectory, kind "map": xs (n_frames, n, d), times (the t of each frame, T ... EPS),
    n_evals = number of score_fn calls (each on the whole batch), extras["nfe"] the same.
    """
    n, n_steps, snr = _check_args(score_fn, an_sde, n, method, n_steps, snr, n_corrector)
    g = generator(seed)
    d = model_dim(score_fn, dim)
    if x_T is None:
        x = an_sde.prior_sample(n, g, d)
        if prior_mean is not None:
            alpha_T = an_sde.marginal(an_sde.T)[0]
            x = x + alpha_T.float() * check_start(prior_mean, 1, "prior_mean", dim=d)[0]
    elif prior_mean is not None:
        raise ValueError("give x_T or prior_mean, not both (x_T already fixes the start)")
    else:
        x = as_points(x_T, "x_T", dim=d, finite=True).float().clone()
    if x.shape[0] != n:
        raise ValueError(f"x_T has {x.shape[0]} points, expected n={n}")
    # the first call's output is checked: shape (n, d), finite (a broadcast score is garbage)
    score_fn = first_call_checked(score_fn, "score_fn")
    with torch.no_grad():
        if method == "ode":
            xs, ts, nfe = odes.rk4(ode_velocity(score_fn, an_sde), x, an_sde.T, EPS, n_steps)
        elif method == "ode_adaptive":
            v = ode_velocity(score_fn, an_sde)
            xs, ts, nfe = odes.rk45(v, x, an_sde.T, EPS, rtol=rtol, atol=atol)
        elif method == "ancestral":
            xs, ts, nfe = _ancestral(score_fn, an_sde, x, n_steps, g)
        else:
            corrector = n_corrector if method == "pc" else 0
            xs, ts, nfe = _reverse_sde(score_fn, an_sde, x, n_steps, snr, corrector, g)
    xs = torch.stack(xs)
    if not torch.isfinite(xs[-1]).all():
        raise FloatingPointError(divergence_cause(method, an_sde, n_steps))
    extras = {"nfe": nfe, "method": method}
    if method == "pc":
        extras.update(snr=snr, n_corrector=n_corrector)
    times = torch.tensor(ts).float()
    return Trajectory(xs, times, "map", LABELS[method], n_evals=nfe, extras=extras)


def _reverse_sde(score_fn, an_sde, x, n_steps, snr, n_corrector, g):
    """Euler-Maruyama on the reverse SDE, with n_corrector Langevin steps before each."""
    ts = torch.linspace(an_sde.T, EPS, int(n_steps) + 1, dtype=torch.float64).tolist()
    xs, nfe = [x], 0
    for i in range(int(n_steps)):
        t, dt = ts[i], ts[i + 1] - ts[i]  # dt < 0: time runs backwards
        for _ in range(n_corrector):
            x = _langevin(score_fn, x, t, snr, g)
            nfe += 1
        gt = float(an_sde.diffusion(t))
        mean = x + (an_sde.drift(x, t) - gt**2 * score_fn(x, t)) * dt
        nfe += 1
        # the last step returns the mean: no fresh noise at t = EPS (Song et al.'s denoising)
        last = i == int(n_steps) - 1
        x = mean if last else mean + gt * abs(dt) ** 0.5 * torch.randn(x.shape, generator=g)
        xs.append(x)
    return xs, ts, nfe


def _ancestral(score_fn, an_sde, x, n_steps, g):
    """Ancestral sampling (Ho et al. 2020, Algorithm 2) on the grid T = t_N > ... > t_0 = EPS.

    The forward step from s < t is x_t = a x_s + b z with a = alpha_t / alpha_s and
    b^2 = sigma_t^2 - a^2 sigma_s^2 (VP: a = sqrt(1 - beta_i), b^2 = beta_i, DDPM's
    discrete chain). Each reverse step draws x_s from the Gaussian posterior with the
    score in place of the data: mean (x_t + b^2 s(x_t, t)) / a (with eps = -sigma_t s
    this is DDPM's mean), variance b^2 sigma_s^2 / sigma_t^2 (DDPM's tilde beta; for VE,
    Song & Ermon's ladder step). EM is the first-order expansion of the same step.
    """
    ts = torch.linspace(an_sde.T, EPS, int(n_steps) + 1, dtype=torch.float64)
    alpha, sigma = an_sde.marginal(ts)
    xs = [x]
    for i in range(int(n_steps)):
        a = float(alpha[i] / alpha[i + 1])
        b2 = float(sigma[i] ** 2 - a**2 * sigma[i + 1] ** 2)
        x_mean = (x + b2 * score_fn(x, float(ts[i]))) / a
        last = i == int(n_steps) - 1  # no fresh noise at t = EPS, as in EM
        std = (b2 * float(sigma[i + 1] ** 2 / sigma[i] ** 2)) ** 0.5
        x = x_mean if last else x_mean + std * torch.randn(x.shape, generator=g)
        xs.append(x)
    return xs, ts.tolist(), int(n_steps)


def ve_step_variances(an_sde: VE, n_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The noise each reverse step of n_steps adds: EM's g(t)^2 |dt| against the ladder's.

    A ladder of noise levels sigma_i = sigma_{t_i} (notebook 05) moves between levels by
    sigma_i^2 - sigma_{i+1}^2 = int g^2 dt over the step (exact, the ancestral sampler);
    Euler-Maruyama freezes g at the step's start. Returns (em, ladder), (n_steps,) each:
    the ladder is the VE SDE discretized, and the two agree as n_steps grows.
    """
    ts = torch.linspace(an_sde.T, EPS, check_n(n_steps, "n_steps") + 1, dtype=torch.float64)
    em = an_sde.diffusion(ts[:-1]) ** 2 * (ts[:-1] - ts[1:])
    sig2 = an_sde.marginal(ts)[1] ** 2
    return em, sig2[:-1] - sig2[1:]
