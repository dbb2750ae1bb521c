"""The samplers' fast density paths agree with the plain formulas to float precision."""

import pytest
import torch

from genmod import targets
from genmod.densities import GaussianMixture, Target


@pytest.mark.parametrize(
    "t",
    [
        targets.get("two_moons"),
        GaussianMixture([[-2.0, 0.0], [2.0, 1.0], [0.0, 3.0]], [0.3, 1.0, 2.0], [0.2, 0.5, 0.3]),
        targets.get("separated_mixture").perturbed(0.7),
    ],
    ids=["two_moons", "unequal_stds", "perturbed"],
)
def test_mixture_matches_its_component_table(t):
    """log p = logsumexp of the per-component table (the (x - m)^2 form), score = its
    autograd gradient, in float64, from the plot box to far outside it (log p down to -1e4)."""
    g = torch.Generator().manual_seed(0)
    x = ((torch.rand(3000, 2, generator=g, dtype=torch.float64) - 0.5) * 40).requires_grad_(True)
    want = torch.logsumexp(t._table(x, 1.0, 0.0)[0], 1)
    (want_score,) = torch.autograd.grad(want.sum(), x)
    logp, score = t.log_prob_and_score(x.detach())
    assert torch.allclose(logp, want.detach(), rtol=1e-10, atol=1e-9)
    assert torch.allclose(score, want_score, rtol=1e-8, atol=1e-8)


def test_banana_closed_form_score_is_the_gradient():
    t = targets.get("banana")
    x = t.sample(500, seed=0).double() * 1.5
    assert torch.allclose(t.score(x), Target.score(t, x), atol=1e-10)
    lp, sc = t.log_prob_and_score(x)
    assert torch.equal(lp, t.log_prob(x)) and torch.equal(sc, t.score(x))
