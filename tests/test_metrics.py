"""Metrics against brute force, and the behaviour the notes rely on."""

import numpy as np
import pytest
import torch

from genmod import metrics, targets


def _brute_energy(x, y):
    x, y = x.double().numpy(), y.double().numpy()
    d = lambda a, b: np.sqrt(((a[:, None, :] - b[None]) ** 2).sum(-1)).mean()  # noqa: E731
    return 2 * d(x, y) - d(x, x) - d(y, y)


def test_energy_distance_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(300, 2, generator=g), torch.randn(500, 2, generator=g) + 0.3
    assert metrics.energy_distance(x, y) == pytest.approx(_brute_energy(x, y), rel=1e-10)


def test_energy_distance_chunks_large_inputs():
    # 5000 x 3000 crosses the 2048-row chunk; compare against a float64 brute force
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(5000, 2, generator=g), torch.randn(3000, 2, generator=g)
    assert metrics.energy_distance(x, y) == pytest.approx(_brute_energy(x, y), rel=1e-8)


def test_mmd_matches_brute_force():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(200, 2, generator=g), torch.randn(250, 2, generator=g) * 1.5
    a, b = x.double().numpy(), y.double().numpy()
    k = lambda u, v: np.exp(-((u[:, None] - v[None]) ** 2).sum(-1) / (2 * 0.7**2)).mean()  # noqa: E731
    assert metrics.mmd(x, y, bandwidth=0.7) == pytest.approx(
        k(a, a) + k(b, b) - 2 * k(a, b), rel=1e-10
    )


def test_noise_floor_matches_its_closed_form():
    """E[V-statistic energy distance of two iid n-draws] = 2 E|X - X'| / n.

    (E of the cross term is E|X - X'|; each self term misses its n zero diagonal entries:
    (n - 1) / n E|X - X'|.) The floor's mean is that closed form; for N(0, I) in 2D,
    X - X' ~ N(0, 2 I) and E|X - X'| = sqrt(pi). Its estimate from 200,000 pairs has a
    relative standard error of about 0.15% (sd of |X - X'| 52% of its mean), so the band
    +-1% is 6 standard errors. The drawn pairs check the formula itself: one pair scatters
    by about 55% of its mean (measured), the mean of 200 pairs by about 4%, so the band
    +-20% is 5 standard errors on each side; a U-statistic (expected value 0) or a formula
    off by a factor falls outside it.
    """
    n = 200
    f = metrics.noise_floor(targets.get("gaussian"), n, seed=0, repeats=200)
    assert f.mean == pytest.approx(2 * np.sqrt(np.pi) / n, rel=0.01)
    assert 0.8 < np.mean(f.values) / f.mean < 1.2
    assert all(v > 0 for v in f.values)  # the V-statistic is positive


def test_mmd_floor_matches_its_closed_form():
    """E[V-statistic MMD^2 of two iid n-draws] = 2 (1 - E k(X, X')) / n, checked against
    the mean of 200 drawn pairs on two_moons (band +-20%, as for the energy distance)."""
    t, n = targets.get("two_moons"), 200
    f = metrics.noise_floor(t, n, seed=0, repeats=200, metric="mmd")
    assert f.mean == pytest.approx(2 * (1 - metrics.pair_mean(t, "mmd")) / n)
    assert 0.8 < np.mean(f.values) / f.mean < 1.2


def test_quality_divides_by_the_expected_floor_for_every_seed():
    """The floor is one number per (target, n): the same for every seed, so the quality of
    a sample set at two seeds differs only through the reference draws."""
    t = targets.get("separated_mixture")
    assert metrics.noise_floor(t, 500, seed=0).mean == metrics.noise_floor(t, 500, seed=3).mean
    x = t.sample(500, seed=5)
    d = metrics.energy_distance(x, t.sample(500, seed=metrics.reference_seed(0)))
    assert metrics.quality(x, t, seed=0) == pytest.approx(d / metrics.expected_floor(t, 500))


def test_identical_distributions_sit_at_the_noise_floor():
    """Exact draws score about 1: the mean of metrics.quality over 20 independent draws.

    One quality value is skewed with a long upper tail (sd 40-70% of its mean on two moons
    at n = 500); measured 20-draw means over 5 disjoint seed groups: 0.94-1.16 (sd about
    0.1); these seeds give 1.12. The band (0.7, 1.4) is two-sided, 3 sd on each side: a
    U-statistic (expected value 0) falls below, a floor half its size above. (With the
    10-pair floor of each seed that quality divided by before, the same groups read
    1.0-1.5.) The tight check of the floor itself is the closed form above.
    """
    t = targets.get("two_moons")
    qs = [metrics.quality(t.sample(500, seed=100 + i), t, seed=i) for i in range(20)]
    assert 0.7 < float(np.mean(qs)) < 1.4, float(np.mean(qs))


def test_energy_distance_grows_with_a_shift():
    t = targets.get("gaussian")
    x, y = t.sample(2000, seed=1), t.sample(2000, seed=2)
    floor = metrics.noise_floor(t, 2000).mean
    eds = [metrics.energy_distance(x, y + torch.tensor([d, 0.0])) for d in (0.0, 0.25, 0.5, 1.0)]
    assert eds == sorted(eds)
    assert eds[2] > 10 * floor
    # the same story for MMD
    mm = [metrics.mmd(x, y + torch.tensor([d, 0.0])) for d in (0.0, 0.5, 1.0)]
    assert mm == sorted(mm)


def test_noise_floor_shrinks_like_one_over_n():
    t = targets.get("gaussian")
    small, big = metrics.noise_floor(t, 500).mean, metrics.noise_floor(t, 4000).mean
    assert 4 < small / big < 16  # 1/n scaling predicts 8


def test_metric_bad_input():
    x = torch.randn(10, 2)
    with pytest.raises(ValueError, match="non-finite"):
        metrics.energy_distance(x, torch.full((10, 2), float("nan")))
    with pytest.raises(ValueError, match="shape"):
        metrics.energy_distance(x, torch.randn(10, 3))
    with pytest.raises(ValueError, match="bandwidth"):
        metrics.mmd(x, x, bandwidth=-1)
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.noise_floor(targets.get("gaussian"), 100, metric="wasserstein")
