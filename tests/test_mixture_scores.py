"""Gaussian-mixture densities and scores with UNEQUAL stds and weights, against torch.distributions.

Every named mixture has equal component stds, so the -log(var) normalization term of
each component cancels in the responsibilities there; only an unequal-std mixture
exercises it. The reference is torch.distributions' MixtureSameFamily (its own normal
log density, not genmod's formula) and its autograd gradient, at several noise levels:
the VE form p_sigma = target * N(0, sigma^2 I), the VP form scale * X + sigma * Z, and the
SDE marginals at several t.
"""

import pytest
import torch
from torch import distributions as dist

from genmod import potentials, sde, targets

MEANS = [[-2.0, 0.0], [1.5, 1.0], [0.0, -2.0]]
STDS = [0.3, 1.2, 0.6]
WEIGHTS = [0.2, 0.5, 0.3]
MIX = targets.GaussianMixture(MEANS, STDS, WEIGHTS)
# probe points: between the components and in their tails (float64: the reference is exact)
X = 2.5 * torch.randn(200, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def reference(sigma: float, scale: float = 1.0):
    """Law of scale * X + sigma * Z as a torch mixture: log density and its autograd score."""
    m = torch.tensor(MEANS, dtype=torch.float64) * scale
    s = torch.sqrt(scale**2 * torch.tensor(STDS, dtype=torch.float64) ** 2 + sigma**2)
    comp = dist.Independent(dist.Normal(m, s[:, None].expand(-1, 2)), 1)
    mix = dist.MixtureSameFamily(dist.Categorical(torch.tensor(WEIGHTS, dtype=torch.float64)), comp)

    def logp_and_score(x):
        xg = x.detach().clone().requires_grad_(True)
        lp = mix.log_prob(xg)
        (g,) = torch.autograd.grad(lp.sum(), xg)
        return lp.detach(), g

    return logp_and_score


def _close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


def test_the_mixture_itself():
    lp, sc = reference(0.0)(X)
    _close(MIX.log_prob(X), lp)
    _close(MIX.score(X), sc)
    # the samplers' one-pass potential (its own copy of the formula)
    lp2, sc2 = potentials.potential(MIX)(X)
    _close(lp2, lp)
    _close(sc2, sc)
    lp3, none = potentials.potential(MIX, need_grad=False)(X)
    _close(lp3, lp)
    assert none is None


@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0, 3.0])
def test_perturbed_ve_form(sigma):
    p = MIX.perturbed(sigma)
    lp, sc = reference(sigma)(X)
    _close(p.log_prob(X), lp)
    _close(p.score(X), sc)
    lp2, sc2 = potentials.potential(p)(X)
    _close(lp2, lp)
    _close(sc2, sc)


@pytest.mark.parametrize("sigma, scale", [(0.2, 0.95), (0.6, 0.8), (0.99, 0.1)])
def test_perturbed_vp_form(sigma, scale):
    p = MIX.perturbed(sigma, scale=scale)
    lp, sc = reference(sigma, scale)(X)
    _close(p.log_prob(X), lp)
    _close(p.score(X), sc)


@pytest.mark.parametrize("an_sde", [sde.VE(), sde.VP(), sde.SubVP()], ids=lambda s: s.name)
def test_exact_score_against_autograd_of_the_perturbed_density(an_sde):
    """exact_score(x, t) = grad_x log p_t(x), p_t the closed-form marginal, at several t.

    alpha_t, sigma_t come from an_sde.marginal (checked against the SDE itself in
    test_sde.py); the mixture algebra is checked here.
    """
    score_fn = sde.exact_score(MIX, an_sde)
    for t in (0.005, 0.05, 0.2, 0.5, 1.0):
        alpha, sigma = (float(v) for v in an_sde.marginal(t))
        lp, sc = reference(sigma, alpha)(X)
        _close(score_fn(X, t), sc)
        _close(sde.marginal_target(MIX, an_sde, t).log_prob(X), lp)
    # per-point times: each row at its own t
    ts = torch.tensor([0.01, 0.3], dtype=torch.float64).repeat(len(X) // 2)
    got = score_fn(X, ts)
    for t0, rows in ((0.01, slice(0, None, 2)), (0.3, slice(1, None, 2))):
        alpha, sigma = (float(v) for v in an_sde.marginal(t0))
        _close(got[rows], reference(sigma, alpha)(X[rows])[1])


@pytest.mark.parametrize("strength", [0.0, 1.0, 2.5])
def test_guided_score_is_the_exact_conditional_score(strength):
    """control.guided_score = s_t + gamma (s_t(. | y = k) - s_t), both from the references.

    The conditional score given label k is the score of component k alone at time t,
    N(alpha_t m_k, (alpha_t^2 s_k^2 + sigma_t^2) I); here k = 0, the narrowest component.
    """
    from genmod import control

    vp = sde.VP()
    guided = control.guided_score(MIX, vp, label=0, strength=strength)
    for t in (0.05, 0.5):
        alpha, sigma = (float(v) for v in vp.marginal(t))
        s_all = reference(sigma, alpha)(X)[1]
        xg = X.clone().requires_grad_(True)
        var = alpha**2 * STDS[0] ** 2 + sigma**2
        loc = alpha * torch.tensor(MEANS[0], dtype=torch.float64)
        comp = dist.Independent(dist.Normal(loc, var**0.5 * torch.ones(2, dtype=torch.float64)), 1)
        (s_k,) = torch.autograd.grad(comp.log_prob(xg).sum(), xg)
        _close(guided(X, t), s_all + strength * (s_k - s_all))
