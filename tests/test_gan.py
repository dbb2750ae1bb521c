"""GAN: reproducible training, snapshots for replay, quality on a toy, mode collapse and a fix."""

import pytest
import torch

from genmod import gan, metrics, targets

# The notebook's settings (03_adversarial): a generator 20x faster than its discriminator
# collapses; equal learning rates and an R1 gradient penalty cover every mode. Both switch
# off the default minibatch_std, as the notebook does, to show the plain game.
PLAIN = dict(seed=0, n_steps=1500, minibatch_std=False, snapshot_every=0, progress=False)
COLLAPSE = dict(PLAIN, lr=5e-4, lr_g=1e-2, grad_penalty=0.0)
FIX = dict(PLAIN, lr=2e-3, grad_penalty=0.1)


@pytest.fixture(scope="module")
def eight():
    t = targets.get("eight_gaussians")
    x = t.sample(5000, seed=1)
    return t, gan.fit(x, **COLLAPSE), gan.fit(x, **FIX)


@pytest.mark.slow
def test_mode_collapse_without_penalty(eight, floor):
    t, collapsed, _ = eight
    x = collapsed.sample(2000, seed=0)
    assert gan.modes_covered(x, t.means, radius=1.2) <= 4
    assert metrics.energy_distance(x, t.sample(2000, seed=7)) > 10 * floor(t)


@pytest.mark.slow
def test_equal_rates_and_penalty_fix_collapse(eight):
    t, _, fixed = eight
    x = fixed.sample(2000, seed=0)
    assert gan.modes_covered(x, t.means, radius=1.2) == 8
    # 3.86 here, 5.38 on average over the three sample sets below (2.9 and 4.0 while the
    # floor was seed 0's 10 drawn pairs, 1.33x the expected one): thin bridges between
    # modes. Bounds 4.5 and 6 (margins 16% and 11%; the mean's is the same energy distance
    # as its old bound of 4.5 seed-0 floors); the collapsed GAN reads over 20.
    assert metrics.quality(x, t) <= 4.5
    d = [
        metrics.energy_distance(fixed.sample(2000, seed=s), t.sample(2000, seed=7 + s))
        for s in range(1, 4)
    ]
    assert sum(d) / 3 <= 6.0 * metrics.expected_floor(t, 2000)


def test_gan_is_reproducible_with_snapshots():
    x = targets.get("gaussian").sample(1000, seed=0)
    a = gan.fit(x, seed=2, n_steps=30, snapshot_every=10, hidden=32, progress=False)
    b = gan.fit(x, seed=2, n_steps=30, snapshot_every=10, hidden=32, progress=False)
    assert torch.equal(a.sample(50, seed=0), b.sample(50, seed=0))
    assert [s["step"] for s in a.snapshots] == [0, 10, 20, 30]
    assert a.snapshots[0]["field"].shape == (50, 50)
    assert a.snapshots[0]["grid"].shape == (18, 40, 2)
    traj = a.trajectory()
    assert traj.kind == "map" and traj.xs.shape == (4, 500, 2)
    assert torch.equal(traj.final(), a.snapshots[-1]["fake"])
    d = a.discriminator_field(x[:7])
    assert d.shape == (7,) and ((d > 0) & (d < 1)).all()
    assert len(a.history["d_loss"]) == 30


def test_gan_bad_input():
    x = targets.get("gaussian").sample(100, seed=0)
    with pytest.raises(ValueError):
        gan.fit(x, n_steps=0)
    with pytest.raises(ValueError):
        gan.fit(x, n_steps=5, lr=-1)
    with pytest.raises(ValueError):
        gan.fit(torch.zeros(5, 3), n_steps=5)
    with pytest.raises(ValueError, match="betas"):
        gan.fit(x, n_steps=5, betas=(1.0, 0.99))
    # an int beta, as StyleGAN2's (0, 0.99) is written, trains like the float
    kw = {"n_steps": 3, "snapshot_every": 0, "progress": False}
    a, b = gan.fit(x, betas=(0, 0.99), **kw), gan.fit(x, betas=(0.0, 0.99), **kw)
    assert torch.equal(a.sample(5), b.sample(5))


def test_activation_is_checked_and_leaky_relu_is_piecewise_linear():
    x = targets.get("gaussian").sample(100, seed=0)
    with pytest.raises(ValueError, match="activation"):
        gan.fit(x, n_steps=2, activation="tanh", progress=False)
    # along a line in the noise a leaky-ReLU generator is linear between its creases (second
    # differences 0 up to float64 rounding), a SiLU one curves everywhere. At 801 points:
    # leaky ReLU 0.78 of them straight here (bound 0.6), SiLU none (bound 0.01).
    line = torch.linspace(-3, 3, 801, dtype=torch.float64)[:, None]
    z = line * torch.tensor([1.0, 0.5], dtype=torch.float64)

    def straight_share(activation):
        with torch.random.fork_rng(), torch.no_grad():  # the same random weights, locally
            torch.manual_seed(0)
            y = gan.GAN(activation=activation).double().G(z)
        d2 = (y[2:] - 2 * y[1:-1] + y[:-2]).abs().max(1).values
        return float((d2 < 1e-10).double().mean())

    assert straight_share("leaky_relu") > 0.6
    assert straight_share("silu") < 0.01


@pytest.mark.slow
def test_benchmark_recipe_reaches_three_floors_on_checkerboard():
    """gan.BENCHMARK_RECIPE (benchmarks/run.py's GAN) on checkerboard, 50,000 points,
    seed 0: within 3x the noise floor (1.69 measured with 9,000 steps, a margin of 1.8x;
    1.56 at 6,000 steps and 1.48 without the EMA of G as well; the 6,000-step training with
    SiLU nets and no EMA reads 4.41 and the defaults 6.87, both of which fail)."""
    t = targets.get("checkerboard")
    model = gan.fit(
        t.sample(50000, seed=1), snapshot_every=0, progress=False, seed=0, **gan.BENCHMARK_RECIPE
    )
    assert metrics.quality(model.sample(2000, seed=0), t, seed=0, repeats=3) < 3


def test_modes_covered_counts():
    means = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    x = torch.cat([torch.zeros(50, 2), torch.tensor([[5.0, 0.1]]).expand(50, 2)])
    assert gan.modes_covered(x, means, radius=1.0) == 2


def test_replay_widget_moves_through_snapshots():
    from genmod import widgets_maps

    x = targets.get("gaussian").sample(500, seed=0)
    model = gan.fit(x, seed=0, n_steps=20, snapshot_every=10, hidden=16, progress=False)
    box = widgets_maps.gan_replay(model, x[:100])
    box.slider.value = 2
    assert box.figure.layout.title.text == "training step 20"
    assert torch.allclose(torch.tensor(box.figure.data[3].x), model.snapshots[2]["fake"][:, 0])
