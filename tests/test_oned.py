"""The 1D bridge: exact p_t, and the PF-ODE map against inverse transform sampling."""

import math

import pytest
import torch

from genmod import oned, sde

MIX = oned.Mixture1D([-2.0, 1.5], [0.3, 0.5], [0.3, 0.7])
Z = torch.linspace(-2.5, 2.5, 51, dtype=torch.float64)


def test_cdf_icdf_and_density_agree():
    x = torch.linspace(-4, 4, 401, dtype=torch.float64)
    # the CDF's slope is the density (central differences, error O(h^2) ~ 1e-5)
    slope = (MIX.cdf(x + 1e-3) - MIX.cdf(x - 1e-3)) / 2e-3
    assert (slope - MIX.log_prob(x).exp()).abs().max() < 1e-5
    u = torch.linspace(0.01, 0.99, 99, dtype=torch.float64)
    assert (MIX.cdf(MIX.icdf(u)) - u).abs().max() < 1e-10


def test_score_is_the_derivative_of_log_prob():
    x = torch.linspace(-4, 4, 101, dtype=torch.float64).requires_grad_(True)
    (auto,) = torch.autograd.grad(MIX.log_prob(x).sum(), x)
    assert torch.allclose(MIX.score(x), auto, atol=1e-10)


@pytest.mark.parametrize("an_sde", [sde.VE(), sde.VP()], ids=lambda s: s.name)
def test_marginal_matches_forward_samples(an_sde):
    # x_t = alpha x0 + sigma z from exact draws: mean and variance of p_t (n = 200k: the
    # standard errors are below 0.03 sigma_t; we allow 0.05 sigma_t)
    t = 0.5
    a, s = (float(v) for v in an_sde.marginal(t))
    x0 = MIX.sample(200_000, seed=0)
    xt = a * x0 + s * torch.randn(x0.shape, generator=torch.Generator().manual_seed(1))
    p = oned.marginal(MIX, an_sde, t)
    mean = float((p.weights * p.means).sum())
    var = float((p.weights * (p.stds**2 + p.means**2)).sum()) - mean**2
    sd = math.sqrt(var)
    assert abs(float(xt.mean()) - mean) < 0.05 * sd
    assert abs(float(xt.std()) - sd) < 0.05 * sd


@pytest.mark.parametrize("an_sde, tol", [(sde.VE(), 1e-4), (sde.VP(), 1e-3)], ids=["ve", "vp"])
def test_pf_ode_map_is_inverse_transform(an_sde, tol):
    # started at the p_T-quantile of z, the ODE ends at the data quantile F^{-1}(Phi(z)):
    # measured 5.6e-6 (VE) and 3.4e-4 (VP, the EPS floor) at 100 steps; tol 18x / 3x above
    r = oned.pf_ode_is_inverse_transform(MIX, an_sde, Z, n_steps=100)
    assert r["max_err_exact"] < tol
    assert r["max_err_grid"] < tol + 1e-4  # notebook 02's 4000-cell table adds < 1e-4 here
    assert r["monotone"]


def test_prior_mismatch_moves_the_map():
    # from the prior N(0, 1) instead of p_T the VP map is off by 0.025 (measured) at the
    # worst z: more than 10x the solver's error, and still below 0.05
    exact = oned.pf_ode_is_inverse_transform(MIX, sde.VP(), Z, n_steps=100)
    prior = oned.pf_ode_is_inverse_transform(MIX, sde.VP(), Z, n_steps=100, start="prior")
    assert 10 * exact["max_err_exact"] < prior["max_err_exact"] < 0.05
    with pytest.raises(ValueError, match="exact"):
        oned.pf_ode_is_inverse_transform(MIX, sde.VP(), Z, start="box")


def test_reverse_sde_paths_reach_the_data():
    # 4000 EM paths from the VP prior: the mode weights come out 0.3 / 0.7 within 0.03
    # (binomial sd 0.007) and the same starts with another seed end elsewhere
    an_sde = sde.VP()
    x_T = torch.randn(4000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ts, paths = oned.reverse_sde_paths(oned.exact_score(MIX, an_sde), an_sde, x_T, 200, seed=1)
    assert paths.shape == (201, 4000) and float(ts[0]) == an_sde.T
    assert abs(float((paths[-1] < 0).double().mean()) - 0.3) < 0.03
    _, other = oned.reverse_sde_paths(oned.exact_score(MIX, an_sde), an_sde, x_T, 200, seed=2)
    assert float((other[-1] - paths[-1]).abs().median()) > 0.1


def test_heatmap_rows_are_densities():
    ts, xs, dens = oned.heatmap(MIX, sde.VP(), n_times=20, n_x=400, lim=(-6, 6))
    mass = dens.sum(1) * (xs[1] - xs[0])
    assert dens.shape == (20, 400) and (mass - 1).abs().max() < 1e-3
