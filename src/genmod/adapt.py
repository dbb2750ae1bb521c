"""Step-size adaptation during a warm-up: dual averaging, as Stan runs it.

Hoffman & Gelman (2014, JMLR 15, "The No-U-Turn Sampler", sec. 3.2, Algorithm 5) steer
log h so that the running mean of the acceptance statistic a_t hits a target delta:

    H_t = (1 - 1/(t + t0)) H_{t-1} + (delta - a_t) / (t + t0)
    log h_t = mu - sqrt(t) / gamma * H_t
    log hbar_t = t^-kappa log h_t + (1 - t^-kappa) log hbar_{t-1}

with Stan's constants gamma = 0.05, t0 = 10, kappa = 0.75 and mu = log(10 h_0); after the
warm-up the sampler runs at hbar, the weighted average of the later warm-up steps.
Everything here works on a scalar or on a vector of independent step sizes (one per
temperature in :mod:`genmod.tempering`). The statistic a_t is the acceptance probability
min(1, alpha) averaged over the chains (pooled: chains share the target, and the mean of
many chains is a far less noisy signal than one chain's, as in ensemble samplers).

Targets (``TARGET_ACCEPT``):

- MALA 0.574: the optimal acceptance as d grows (Roberts & Rosenthal 1998, JRSS-B 60).
- HMC and NUTS 0.8: Stan's default ``adapt_delta``.
- RWM: 0.44 in 1D (Gelman, Roberts & Gilks 1996, "Efficient Metropolis jumping rules",
  Bayesian Statistics 5), 0.234 from 2D up (Roberts, Gelman & Gilks 1997, Ann. Appl.
  Prob. 7, the many-dimensions optimum). Gelman, Roberts & Gilks's table gives about 0.35
  for an *isotropic* 2D Gaussian, and that is what we measured there, but on the notes'
  elongated and curved 2D targets a lower target wins: ESS per density evaluation
  (``benchmarks/mcmc_speed.py``, 256 chains, 2 seeds) at target 0.234 / 0.35 / 0.44 was
  91 / 102 / 98 on the isotropic Gaussian, 28 / 19 / 15 on the correlated Gaussian and
  9.3 / 5.5 / 4.5 on the banana: an isotropic proposal must take long steps to move along
  a long direction, and a long step is rejected more often.
"""

from __future__ import annotations

import math

import torch

GAMMA, T0, KAPPA = 0.05, 10.0, 0.75
TARGET_ACCEPT = {"mala": 0.574, "hmc": 0.8, "nuts": 0.8, "pt": 0.574}
#: Random-walk target acceptance by dimension (1D); 0.234 from 2D up (see above).
RWM_ACCEPT = {1: 0.44}


def target_accept(method: str, dim: int, value=None) -> float:
    """The acceptance rate to adapt towards: ``value`` checked, or the method's default.

    ULA has no accept step, so it cannot be adapted.
    """
    if value is None:
        if method == "ula":
            raise ValueError("step_size='auto' needs an accept step; 'ula' has none: give a number")
        return RWM_ACCEPT.get(dim, 0.234) if method == "rwm" else TARGET_ACCEPT[method]
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"target_accept must be a number in (0, 1), got {value!r}") from None
    if not 0 < v < 1:
        raise ValueError(f"target_accept must be in (0, 1) (exclusive), got {value!r}")
    return v


class DualAveraging:
    """Dual averaging of log step sizes (Hoffman & Gelman 2014, Algorithm 5; Stan's constants).

    Parameters
    ----------
    step_size: the first step h_0 (sets mu = log(10 h_0)); a float or a (k,) tensor.
    target: the acceptance rate delta to reach, in (0, 1).

    Use: ``h = da.step_size`` for the next step, ``da.update(a)`` with that step's
    acceptance statistic (same shape as h), and after the warm-up ``da.final()``.
    """

    def __init__(self, step_size, target: float):
        log_h = torch.as_tensor(step_size, dtype=torch.float64).log()
        self.mu = math.log(10.0) + log_h
        self.delta = float(target)
        self.t = 0
        self.h_bar = torch.zeros_like(log_h)
        self.log_h = log_h
        self.log_h_bar = torch.zeros_like(log_h)

    @property
    def step_size(self):
        """The step to use now: a float for a scalar state, else a (k,) tensor."""
        return _out(self.log_h.exp())

    def update(self, accept_stat) -> None:
        """One warm-up step's acceptance statistic a_t (mean min(1, alpha) over chains)."""
        a = torch.as_tensor(accept_stat, dtype=torch.float64)
        self.t += 1
        eta = 1.0 / (self.t + T0)
        self.h_bar = (1 - eta) * self.h_bar + eta * (self.delta - a)
        self.log_h = self.mu - math.sqrt(self.t) / GAMMA * self.h_bar
        w = self.t**-KAPPA
        self.log_h_bar = w * self.log_h + (1 - w) * self.log_h_bar

    def final(self):
        """hbar: the step size to sample with after the warm-up."""
        return _out(self.log_h_bar.exp()) if self.t else self.step_size


def _out(h: torch.Tensor):
    return float(h) if h.ndim == 0 else h.float()


def initial_step(accept_prob_at, step_size: float = 1.0, max_tries: int = 40) -> float:
    """A first step size: double or halve h until the acceptance crosses 1/2.

    Hoffman & Gelman (2014), Algorithm 4, on the chains' mean acceptance probability
    (the chains do not move). ``accept_prob_at(h)`` returns that mean for step h.
    """
    h = float(step_size)
    a = accept_prob_at(h)
    direction = 1.0 if a > 0.5 else -1.0
    for _ in range(max_tries):
        # keep going while still on the same side of 1/2
        if (a > 0.5) != (direction > 0):
            break
        h *= 2.0**direction
        a = accept_prob_at(h)
    return h
