"""Targets against independent references: scipy densities, quadrature, Monte Carlo."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from genmod import metrics, targets
from genmod.arrays import grid
from genmod.densities import grid_sample
from genmod.toys import moons, swiss

NAMES = targets.names()


def test_at_least_ten_targets_and_clear_unknown_name():
    assert len(NAMES) >= 10
    with pytest.raises(ValueError, match="valid names: gaussian"):
        targets.get("no_such_target")


def _probe(t, n=64):
    # points where the density matters: exact samples plus a few far-off points
    x = t.sample(n, seed=3).double()
    far = torch.tensor([[0.3, -0.2], [2.0, 1.0], [-1.5, 2.5]], dtype=torch.float64)
    return torch.cat([x, far])


def _scipy_logpdf(name, x):
    """Reference log densities written with scipy, independent of genmod's formulas."""
    x = x.numpy()
    mvn = stats.multivariate_normal
    if name == "gaussian":
        return mvn([0, 0], np.eye(2)).logpdf(x)
    if name == "correlated_gaussian":
        return mvn([0, 0], [[1, 0.9], [0.9, 1]]).logpdf(x)
    if name == "separated_mixture":
        p = 0.2 * mvn([-5, -5], np.eye(2)).pdf(x) + 0.8 * mvn([5, 5], np.eye(2)).pdf(x)
        return np.log(p)
    if name == "eight_gaussians":
        a = np.arange(8) * np.pi / 4
        p = sum(mvn(4 * np.array([np.cos(t), np.sin(t)]), 0.16 * np.eye(2)).pdf(x) for t in a)
        return np.log(p / 8)
    if name == "banana":
        h, v = x[:, 0], x[:, 1]
        return stats.norm(0, 2).logpdf(h) + stats.norm(0, 0.5).logpdf(v - 0.25 * (h**2 - 4))
    if name == "funnel":
        h, v = x[:, 0], x[:, 1]
        return stats.norm(0, 3).logpdf(v) + stats.norm(0, np.exp(v / 2)).logpdf(h)
    if name == "checkerboard":
        p = 0
        for i in range(4):
            for j in range(4):
                if (i + j) % 2:
                    continue
                lo = np.array([-4 + 2 * i, -4 + 2 * j])
                cdf = stats.norm(0, 0.08).cdf
                p = p + np.prod((cdf(x - lo) - cdf(x - lo - 2)) / 2, axis=1) / 8
        return np.log(p)
    if name == "donut":
        r = np.linalg.norm(x, axis=1)
        z = integrate.quad(lambda q: 2 * np.pi * q * np.exp(-((q - 2.5) ** 2) / 0.18), 0, np.inf)[0]
        return -((r - 2.5) ** 2) / 0.18 - np.log(z)
    if name == "pinwheel":
        # undo the swirl x = R(0.5 |z|) z (area-preserving), then a 5-arm Gaussian mixture
        a = -0.5 * np.linalg.norm(x, axis=1)
        z = np.stack(
            [np.cos(a) * x[:, 0] - np.sin(a) * x[:, 1], np.sin(a) * x[:, 0] + np.cos(a) * x[:, 1]],
            1,
        )
        p = 0
        for k in range(5):
            c, s_ = np.cos(2 * np.pi * k / 5), np.sin(2 * np.pi * k / 5)
            rot = np.array([[c, -s_], [s_, c]])
            cov = rot @ np.diag([0.25, 0.0225]) @ rot.T
            p = p + mvn(rot @ [2.0, 0.0], cov).pdf(z) / 5
        return np.log(p)
    if name in ("two_moons", "swiss_roll"):
        # the density is an integral along the curve: adaptive quadrature with scipy
        curve, (t0, t1), s = {
            "two_moons": (moons, (0, 2), 0.2),
            "swiss_roll": (swiss, (1.5 * np.pi, 4.5 * np.pi), 0.25),
        }[name]

        def dens(p):
            f = lambda t: stats.multivariate_normal(  # noqa: E731
                curve(torch.tensor([t], dtype=torch.float64))[0].numpy(), s * s * np.eye(2)
            ).pdf(p)
            return integrate.quad(f, t0, t1, limit=400, epsabs=0)[0] / (t1 - t0)

        return np.log([dens(p) for p in x[:12]])
    return None


@pytest.mark.parametrize("name", NAMES)
def test_log_prob_matches_scipy(name):
    t = targets.get(name)
    x = _probe(t)
    ref = _scipy_logpdf(name, x)
    assert ref is not None, f"add a scipy reference for {name}"
    got = t.log_prob(x).numpy()[: len(ref)]
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_log_prob_normalized(name):
    """Grid integral over the bounds equals the exact samples' fraction inside them (to 1%),
    and is within 1% of 1 wherever the bounds hold more than 99% of the mass."""
    t = targets.get(name)
    _, _, pts, area = grid(t.bounds, 800)
    mass = float(t.log_prob(pts).exp().sum() * area)
    x = t.sample(200_000, seed=11)
    (x0, x1), (y0, y1) = t.bounds
    inside = float(
        ((x[:, 0] > x0) & (x[:, 0] < x1) & (x[:, 1] > y0) & (x[:, 1] < y1)).double().mean()
    )
    assert abs(mass - inside) < 0.01
    if inside > 0.99:
        assert abs(mass - 1) < 0.01


@pytest.mark.parametrize("name", NAMES)
def test_score_is_gradient_of_log_prob(name):
    t = targets.get(name)
    x = _probe(t)
    with torch.enable_grad():
        xg = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(t.log_prob(xg).sum(), xg)
    torch.testing.assert_close(t.score(x), g, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_exact_samples_agree_with_density(name, floor):
    """Energy distance between exact samples and a 512^2-grid sample from log_prob,
    both inside the plot bounds, is within 2x the exact-sample noise floor."""
    t = targets.get(name)
    n = 2000
    x = t.sample(3 * n, seed=5)
    (x0, x1), (y0, y1) = t.bounds
    x = x[(x[:, 0] > x0) & (x[:, 0] < x1) & (x[:, 1] > y0) & (x[:, 1] < y1)][:n]
    y = grid_sample(t, n, seed=6)
    assert metrics.energy_distance(x, y) < 2 * floor(t, n)


def test_sampling_is_seeded():
    t = targets.get("two_moons")
    assert torch.equal(t.sample(100, seed=4), t.sample(100, seed=4))
    assert not torch.equal(t.sample(100, seed=4), t.sample(100, seed=5))


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_perturbed_matches_monte_carlo_convolution(sigma, floor):
    base = targets.get("eight_gaussians")
    pert = base.perturbed(sigma)
    # samples: X + sigma Z against perturbed.sample
    g = torch.Generator().manual_seed(1)
    mc = base.sample(2000, seed=7) + sigma * torch.randn(2000, 2, generator=g)
    assert metrics.energy_distance(mc, pert.sample(2000, seed=8)) < 2 * floor(pert, 2000)
    # density: p_sigma(x) = E_X N(x; X, sigma^2 I), by Monte Carlo over 200k draws of X
    xs = base.sample(200_000, seed=9).double()
    probe = pert.sample(20, seed=10).double()
    d2 = torch.cdist(probe, xs) ** 2
    mc_dens = torch.exp(-d2 / (2 * sigma**2)).mean(1) / (2 * math.pi * sigma**2)
    rel = (pert.log_prob(probe).exp() / mc_dens - 1).abs().max()
    assert rel < 0.03  # Monte Carlo error of 200k draws is about 0.5% here


def test_perturbed_scale_is_vp_marginal():
    base = targets.get("separated_mixture")
    p = base.perturbed(0.6, scale=0.8)
    assert torch.allclose(p.means, 0.8 * base.means)
    assert torch.allclose(p.stds, torch.sqrt(0.64 * base.stds**2 + 0.36))


def test_from_log_prob_custom_density():
    # an unnormalized banana: normalized numerically, score by autograd, grid sampler
    fn = lambda x: -0.5 * x[:, 0] ** 2 - 2 * (x[:, 1] - 0.5 * x[:, 0] ** 2) ** 2  # noqa: E731
    t = targets.from_log_prob(fn, ((-4, 4), (-3, 6)), name="mine")
    _, _, pts, area = grid(t.bounds, 600)
    assert abs(float(t.log_prob(pts).exp().sum() * area) - 1) < 0.01
    x = torch.tensor([[0.5, 0.2], [-1.0, 1.0]])
    want = torch.stack(
        [
            -x[:, 0] + 4 * (x[:, 1] - 0.5 * x[:, 0] ** 2) * x[:, 0],
            -4 * (x[:, 1] - 0.5 * x[:, 0] ** 2),
        ],
        1,
    )
    torch.testing.assert_close(t.score(x), want)
    s = t.sample(500, seed=0)
    assert s.shape == (500, 2) and torch.isfinite(s).all() and not t.exact_sampler
    from genmod import plots

    fig = plots.density_figure(t, s)
    assert len(fig.data) == 2


@pytest.mark.parametrize("bad", [torch.zeros(5, 3), torch.zeros(2), torch.zeros(1, 2, 2)])
def test_wrong_shape_is_a_clear_error(bad):
    t = targets.get("banana")
    for f in (t.log_prob, t.score):
        with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
            f(bad)


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_bad_sample_size(n):
    with pytest.raises(ValueError, match="positive integer"):
        targets.get("gaussian").sample(n)


def test_bad_mixture_and_sigma():
    with pytest.raises(ValueError, match="sigma"):
        targets.get("separated_mixture").perturbed(-0.1)
    with pytest.raises(ValueError, match="weights"):
        targets.GaussianMixture([[0, 0], [1, 1]], 1.0, [0.5])
    with pytest.raises(ValueError, match="stds must be positive"):
        targets.GaussianMixture([[0, 0]], -1.0)
    with pytest.raises(ValueError, match="bounds"):
        targets.from_log_prob(lambda x: x[:, 0], ((1, 0), (0, 1)))
