"""Parallel tempering (genmod.tempering via mcmc.sample(t, "pt")): weights, invariance, swaps."""

import pytest
import torch

from genmod import mcmc, targets, tempering


def _weight_of_small_mode(x):
    """Fraction of points on the (-5, -5) side of the separated mixture (weight 0.2)."""
    return float((x.reshape(-1, 2).sum(1) < 0).double().mean())


@pytest.mark.slow
def test_pt_recovers_the_weights_mala_cannot():
    """separated_mixture: weights 0.2 / 0.8, modes 14 apart (a 25-nat barrier).

    200 T = 1 chains of PT (8 geometric levels up to T = 20), 300 warm-up and 700 kept steps:
    the small mode's weight over the kept draws is 0.2 within 0.03 (measured 0.200 with
    seed 0; the binomial error of 200 independent chains alone is 0.028, and the chains
    cross modes many times, so pooled draws do better). MALA chains from the same kind of
    start never cross: they keep the weights of their start, about 0.5 (measured 0.52).
    """
    t = targets.get("separated_mixture")
    run = dict(n_chains=200, n_steps=700, step_size="auto", warmup=300, seed=0)
    pt = mcmc.sample(t, "pt", **run)
    w = _weight_of_small_mode(pt.xs[301:])
    assert w == pytest.approx(0.2, abs=0.03), f"PT weight {w:.3f}"
    assert (pt.extras["swap_rates"] > 0.3).all()
    mala = mcmc.sample(t, "mala", **run)
    assert abs(_weight_of_small_mode(mala.xs[301:]) - 0.2) > 0.15


def test_every_level_samples_its_tempered_density():
    """On N(0, I) the density p^(1/T) is N(0, T I): each level's variance is T within 10%.

    200 chains x 400 kept steps per level, started at exact samples; autocorrelated draws
    (ESS a few thousand per level) put the variance's relative error near 3%.
    """
    t = targets.get("gaussian")
    temps = [1.0, 2.0, 4.0]
    traj = mcmc.sample(
        t, "pt", 200, 400, step_size="auto", warmup=100, seed=1, temperatures=temps,
        x0=t.sample(200, seed=2),
    )  # fmt: skip
    xs = traj.extras["xs_all"][101:]  # (400, 3, 200, 2)
    var = xs.double().var(dim=(0, 2)).mean(-1)
    assert torch.allclose(var, torch.tensor(temps, dtype=torch.float64), rtol=0.1), var
    assert torch.equal(traj.xs, traj.extras["xs_all"][:, 0])


def test_swap_rule():
    """A swap is always taken when it raises both tempered densities' product, never when
    it lowers it by 50 nats; swapped states trade positions, log densities and scores."""
    betas = torch.tensor([1.0, 0.5], dtype=torch.float64)
    x = torch.tensor([[[0.0, 0.0], [1.0, 1.0]], [[5.0, 5.0], [6.0, 6.0]]])
    u = torch.tensor([[-10.0, 0.0], [0.0, -100.0]])  # chain 0: hot state better; chain 1: worse
    grad = -x
    g = torch.Generator().manual_seed(0)
    x2, u2, grad2, flags = tempering.swap(x, u, grad, betas, 0, g)
    # log r = (1 - 0.5) (u_hot - u_cold): +5 for chain 0, -50 for chain 1
    assert flags.tolist() == [[True, False]]
    assert torch.equal(x2[:, 0], x[[1, 0], 0]) and torch.equal(x2[:, 1], x[:, 1])
    assert torch.equal(u2[:, 0], u[[1, 0], 0]) and torch.equal(grad2, -x2)
    # odd parity with two levels: no pair to try
    assert not tempering.swap(x, u, grad, betas, 1, g)[3].any()


def test_ladder_and_records():
    temps = tempering.ladder(8, 20.0)
    assert temps[0] == 1 and temps[-1] == pytest.approx(20.0)
    ratios = temps[1:] / temps[:-1]
    assert torch.allclose(ratios, ratios[0].expand_as(ratios))
    t = targets.get("eight_gaussians")
    traj = mcmc.sample(t, "pt", 5, 6, step_size=0.3, seed=0, n_temperatures=4)
    ex = traj.extras
    assert ex["xs_all"].shape == (7, 4, 5, 2) and ex["swap_accepted"].shape == (6, 3, 5)
    # pairs (0, 1) and (2, 3) on even steps, (1, 2) on odd steps
    assert ex["swap_attempted"][0].tolist() == [True, False, True]
    assert ex["swap_attempted"][1].tolist() == [False, True, False]
    assert not ex["swap_accepted"][~ex["swap_attempted"]].any()
    assert torch.allclose(ex["step_sizes"], 0.3 * ex["temperatures"].sqrt())
    # MALA at 4 levels: one density and one gradient per level, chain and step (+ the start)
    assert ex["density_evals"] == ex["grad_evals"] == 4 * 5 * 7 == traj.n_evals


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(temperatures=[1.0, 3.0, 2.0]), "increasing"),
        (dict(temperatures=[1.0, 1.0]), "increasing"),
        (dict(temperatures=[2.0, 3.0]), "start at 1"),
        (dict(temperatures=[1.0]), "at least 2"),
        (dict(n_temperatures=1), "n_temperatures"),
        (dict(max_temperature=0.5), "max_temperature"),
        (dict(ladder=3), "unknown options"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mcmc.sample(targets.get("gaussian"), "pt", 4, 3, step_size=0.1, **kwargs)
