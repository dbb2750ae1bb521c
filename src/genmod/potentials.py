"""Log density and score together, cheaply, for the samplers in :mod:`genmod.mcmc`.

A *potential* maps x (n, 2) to (log p(x) (n,) or None, score (n, 2) or None).
Gradient samplers need both at every proposal; computing them in one pass (one
autograd pass, or one table of mixture components) halves their cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from genmod.targets import GaussianMixture, Target

Potential = Callable[[torch.Tensor], tuple[torch.Tensor | None, torch.Tensor | None]]


def potential(target: Target | None, score_fn=None, need_grad: bool = True) -> Potential:
    """A function x (n, 2) -> (log p(x) (n,) or None, score (n, 2) or None), both detached.

    ``score_fn`` (x (n, 2) -> (n, 2)) replaces ``target.score``. When the target
    has no closed-form score, one autograd pass gives log p and its gradient together.
    Outputs are detached, so a learned score never grows an autograd graph across steps.
    """
    if target is None and score_fn is None:
        raise ValueError("need a target or a score_fn")
    user = None if score_fn is None else (lambda x: _checked(score_fn(x), x))
    if target is None:
        return lambda x: (None, user(x))
    if isinstance(target, GaussianMixture) and type(target).score is GaussianMixture.score:
        if not need_grad or user is not None:
            return lambda x: (_mixture_logp_score(target, x, False)[0], user and user(x))
        return lambda x: _mixture_logp_score(target, x)
    if not need_grad:
        return lambda x: (target.log_prob(x).detach(), None)
    if user is not None:
        return lambda x: (target.log_prob(x).detach(), user(x))
    if type(target).score is not Target.score:  # closed form score
        return lambda x: (target.log_prob(x), target.score(x))

    def both(x):
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            lp = target.log_prob(xg)
            (g,) = torch.autograd.grad(lp.sum(), xg)
        return lp.detach(), g

    return both


def _checked(score: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    score = torch.as_tensor(score)
    if score.shape != x.shape:
        raise ValueError(f"score_fn must return shape {tuple(x.shape)}, got {tuple(score.shape)}")
    return score.detach().to(x.dtype)


def _mixture_logp_score(gm: GaussianMixture, x: torch.Tensor, with_score: bool = True):
    """log p and score of a Gaussian mixture from one (n, k) table of component terms.

    c_k = log w_k - |x - m_k|^2 / (2 s_k^2) - log(2 pi s_k^2), with
    |x - m|^2 = |x|^2 - 2 x.m + |m|^2 (a matmul, no (n, k, 2) array);
    log p = logsumexp_k c_k, score = sum_k r_k (m_k - x) / s_k^2 with r = softmax(c).
    """
    xd = x.double()
    var = gm.stds**2
    d2 = (xd * xd).sum(1, keepdim=True) - 2 * xd @ gm.means.T + (gm.means**2).sum(1)
    c = (gm.weights.log() - torch.log(2 * math.pi * var)) - d2.clamp_min(0) / (2 * var)
    logp = torch.logsumexp(c, dim=1)
    if not with_score:
        return logp.to(x.dtype), None
    r = torch.exp(c - logp[:, None]) / var
    score = r @ gm.means - r.sum(1, keepdim=True) * xd
    return logp.to(x.dtype), score.to(x.dtype)
