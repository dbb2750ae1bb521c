"""Log density and score together, cheaply, for the samplers in :mod:`genmod.mcmc`.

A *potential* maps x (n, d) to (log p(x) (n,) or None, score (n, d) or None).
Gradient samplers need both at every proposal; computing them in one pass (one
autograd pass, or a target's own ``log_prob_and_score``: one table of mixture components,
:meth:`~genmod.densities.GaussianMixture.log_prob_and_score`, or the banana's closed form)
halves their cost.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from genmod.densities import Target

Potential = Callable[[torch.Tensor], tuple[torch.Tensor | None, torch.Tensor | None]]


def potential(target: Target | None, score=None, need_grad: bool = True) -> Potential:
    """A function x (n, d) -> (log p(x) (n,) or None, score (n, d) or None), both detached.

    ``score`` (x (n, d) -> (n, d), like ``target.score``) replaces ``target.score``. When the target
    has no closed-form score, one autograd pass gives log p and its gradient together.
    Outputs are detached, so a learned score never grows an autograd graph across steps.
    """
    if target is None and score is None:
        raise ValueError("need a target or a score")
    user = None if score is None else (lambda x: _checked(score(x), x))
    if target is None:
        return lambda x: (None, user(x))
    if not need_grad:
        return lambda x: (target.log_prob(x).detach(), None)
    if user is not None:
        return lambda x: (target.log_prob(x).detach(), user(x))
    if hasattr(target, "log_prob_and_score"):  # both in one closed-form pass (mixtures, banana)
        return target.log_prob_and_score
    if type(target).score is not Target.score:  # closed form score
        return lambda x: (target.log_prob(x), target.score(x))

    def both(x):
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            lp = target.log_prob(xg)
            (g,) = torch.autograd.grad(lp.sum(), xg)
        return lp.detach(), g

    return both


def _checked(value: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    value = torch.as_tensor(value)
    if value.shape != x.shape:
        raise ValueError(f"score must return shape {tuple(x.shape)}, got {tuple(value.shape)}")
    return value.detach().to(x.dtype)
