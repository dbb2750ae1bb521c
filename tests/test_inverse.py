"""Inverse transform sampling: exact CDF inversion in 1D, marginal-then-conditional in 2D."""

import math

import pytest
import torch

from genmod import inverse, metrics, targets


def ring(x):
    r, a = x.norm(dim=1), torch.atan2(x[:, 1], x[:, 0])
    return -((r - 2) ** 2) / 0.1 + torch.cos(5 * a)


def test_1d_standard_normal_quantiles():
    inv = inverse.InverseCDF1D(lambda x: -(x**2) / 2, -8.0, 8.0, resolution=4000)
    u = torch.tensor([0.025, 0.5, 0.8413447])
    # Phi^{-1}: -1.95996, 0, 1; grid error of a piecewise-linear CDF at h = 0.004 is ~1e-5
    assert torch.allclose(
        inv(u), torch.tensor([-1.959964, 0.0, 1.0], dtype=torch.float64), atol=1e-3
    )


def test_1d_samples_match_the_cdf():
    # mixture of two normals; Kolmogorov-Smirnov distance of 20k draws to the true CDF
    def cdf(x):
        phi = lambda z: 0.5 * (1 + torch.erf(z / math.sqrt(2)))  # noqa: E731
        return 0.3 * phi(x + 2) + 0.7 * phi((x - 1) / 0.5)

    def logp(x):
        return torch.logaddexp(
            math.log(0.3) - (x + 2) ** 2 / 2, math.log(0.7 / 0.5) - (x - 1) ** 2 / (2 * 0.25)
        )

    x = inverse.InverseCDF1D(logp, -8, 8).sample(20_000, seed=0)
    xs = x.sort().values
    ecdf = torch.arange(1, 20_001, dtype=torch.float64) / 20_000
    ks = float((ecdf - cdf(xs)).abs().max())
    assert ks < 1.36 / math.sqrt(20_000) * 1.5  # 5% KS critical value, with margin 1.5


def test_1d_bad_input():
    with pytest.raises(ValueError):
        inverse.InverseCDF1D(lambda x: -(x**2), 1.0, -1.0)
    with pytest.raises(ValueError):
        inverse.InverseCDF1D(lambda x: torch.full_like(x, -math.inf), -1.0, 1.0)


@pytest.mark.parametrize("name", ["banana", "eight_gaussians", "ring"])
def test_2d_samples_match_the_density(name, floor):
    t = (
        targets.from_log_prob(ring, ((-3.5, 3.5), (-3.5, 3.5)), name="ring")
        if name == "ring"
        else targets.get(name)
    )
    traj = inverse.sample(t, 2000, seed=0, resolution=300)
    assert traj.kind == "map" and traj.xs.shape[1:] == (2000, 2)
    ref = t.sample(2000, seed=12345)
    assert metrics.energy_distance(traj.final(), ref) <= 1.5 * floor(t)


def test_2d_map_stages():
    t = targets.get("banana")
    traj = inverse.sample(t, 500, seed=3, frames_per_stage=5)
    assert traj.n_times == 11 and float(traj.times[-1]) == 2.0
    (x0, x1), (y0, y1) = t.bounds
    u = traj.extras["u"]
    # frame 0 is uniform noise spread over the box; the x-transform leaves y untouched
    assert torch.allclose(traj.xs[0, :, 0], x0 + (x1 - x0) * u[:, 0], atol=1e-5)
    assert torch.allclose(traj.xs[5, :, 1], traj.xs[0, :, 1])
    assert torch.allclose(traj.xs[5, :, 0], traj.xs[-1, :, 0])
    # same seed, same samples
    assert torch.equal(traj.final(), inverse.sample(t, 500, seed=3, frames_per_stage=5).final())


def test_2d_map_is_monotone_in_u1():
    # the marginal inverse CDF is non-decreasing: larger u1, larger x
    inv = inverse.InverseCDF2D(targets.get("eight_gaussians"), resolution=200)
    u = torch.stack([torch.linspace(0, 0.999, 300), torch.full((300,), 0.5)], 1)
    assert (inv(u)[:, 0].diff() >= 0).all()


def test_2d_bad_input():
    with pytest.raises(ValueError):
        inverse.sample(targets.get("gaussian"), 0)
    with pytest.raises(ValueError):
        inverse.InverseCDF2D(targets.get("gaussian"))(torch.zeros(3, 3))


def test_1d_explorer_widget_follows_the_slider():
    from genmod import widgets_maps

    inv = inverse.InverseCDF1D(lambda x: -(x**2) / 2, -5.0, 5.0)
    box = widgets_maps.inverse_1d_explorer(inv, n=200)
    slider, fig = box.children[0], box.children[1]
    slider.value = 0.5
    assert abs(fig.data[4].x[0]) < 1e-2  # the median of N(0, 1)
    assert "0.500" in box.children[2].value
