"""RealNVP flow: exact invertibility, a normalized density, and samples near the noise floor."""

import pytest
import torch

from genmod import flows, metrics, targets
from genmod.arrays import grid

# The notebook's settings (02_noise_to_samples): 12 affine couplings, 1500 steps, fused Adam.
# (8 layers reach ~1.8 on two_moons and ~2.6 on eight_gaussians.) Trained once per module.
SETTINGS = {
    "two_moons": dict(seed=0, n_steps=1500, n_layers=12, fused=True, progress=False),
    "eight_gaussians": dict(seed=0, n_steps=1500, n_layers=12, fused=True, progress=False),
}
# benchmarks/run.py's flow: the same with a mixture of 8 Gaussians as the noise
MIXTURE = dict(SETTINGS["eight_gaussians"], base_components=8)


@pytest.fixture(scope="module")
def trained():
    cache = {}

    def get(name):
        if name not in cache:
            t = targets.get(name)
            cache[name] = flows.fit(t.sample(5000, seed=1), **SETTINGS[name])
        return cache[name]

    return get


def _random_flow(base_components=0):
    torch.manual_seed(3)
    model = flows.Flow(
        n_layers=6, shift=(0.5, -1.0), scale=(2.0, 0.5), base_components=base_components
    )
    with torch.no_grad():  # leave the identity start: random last layers
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape))
    return model


def test_inverse_then_forward_returns_inputs():
    model = _random_flow()
    x = targets.get("two_moons").sample(1000, seed=0)
    with torch.no_grad():
        assert (model.forward(model.inverse(x)) - x).abs().max() < 1e-4
        z = torch.randn(1000, 2, generator=torch.Generator().manual_seed(1))
        assert (model.inverse(model.forward(z)) - z).abs().max() < 1e-4


def test_log_det_matches_autograd_jacobian():
    model = _random_flow()
    x = torch.tensor([[0.3, -0.7]])
    jac = torch.autograd.functional.jacobian(lambda v: model.inverse(v[None])[0], x[0])
    _, logdet = model.inverse(x, with_logdet=True)
    assert torch.allclose(logdet[0], torch.linalg.det(jac).abs().log(), atol=1e-4)


def test_trajectory_goes_from_noise_to_samples():
    model = _random_flow()
    traj = model.trajectory(300, seed=5, between=2)
    assert traj.kind == "map" and traj.xs.shape[1:] == (300, 2)
    assert torch.allclose(traj.final(), model.sample(300, seed=5), atol=1e-6)
    z = torch.randn(300, 2, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(traj.xs[0], model.shift + model.scale * z, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["two_moons", "eight_gaussians"])
def test_flow_samples_near_noise_floor(name, trained, floor):
    t, model = targets.get(name), trained(name)
    # mean over 4 sample sets: one energy distance at n=2000 is noisy (floor spread ~70%);
    # measured with this short training (5,000 points): two_moons 0.97 expected floors,
    # eight_gaussians 2.43; the bounds 2 and 2.7 (a tenth of margin on eight_gaussians) are
    # at most the energy distance of the old bound, 2 floors of seed 0's 10 drawn pairs
    # (1.09x and 1.33x the expected floor on the two targets)
    d = [
        metrics.energy_distance(model.sample(2000, seed=s), t.sample(2000, seed=100 + s))
        for s in range(4)
    ]
    assert sum(d) / 4 <= {"two_moons": 2.0, "eight_gaussians": 2.7}[name] * floor(t)


@pytest.mark.slow
def test_trained_flow_inverts_to_1e4(trained):
    model, x = trained("two_moons"), targets.get("two_moons").sample(2000, seed=9)
    with torch.no_grad():
        assert (model.forward(model.inverse(x)) - x).abs().max() < 1e-4


@pytest.mark.slow
def test_flow_density_integrates_to_one(trained):
    model = trained("two_moons")
    _, _, pts, area = grid(((-7.0, 7.0), (-7.0, 7.0)), 400, dtype=torch.float32)
    with torch.no_grad():
        mass = float(model.log_prob(pts).double().exp().sum() * area)
    assert abs(mass - 1) < 0.02


def test_fit_is_reproducible_and_checks_input():
    x = targets.get("gaussian").sample(500, seed=0)
    a = flows.fit(x, seed=1, n_steps=5, n_layers=2, progress=False)
    b = flows.fit(x, seed=1, n_steps=5, n_layers=2, progress=False)
    assert torch.equal(a.sample(10, seed=0), b.sample(10, seed=0))
    # the training options reach training.fit: warm-up, fused Adam and EMA change the model
    opts = dict(seed=1, n_steps=5, n_layers=2, warmup=2, fused=True, ema=0.9, progress=False)
    c, d = flows.fit(x, **opts), flows.fit(x, **opts)
    assert torch.equal(c.sample(10, seed=0), d.sample(10, seed=0))
    assert not torch.equal(c.sample(10, seed=0), a.sample(10, seed=0))
    with pytest.raises(ValueError, match="warmup"):
        flows.fit(x, n_steps=5, warmup=5, progress=False)
    with pytest.raises(ValueError):
        flows.fit(torch.zeros(10, 3), n_steps=5)
    with pytest.raises(ValueError):
        a.sample(0)
    with pytest.raises(ValueError):
        a.log_prob(torch.zeros(4))


def test_mixture_noise_density_integrates_to_one_and_matches_its_samples():
    """A random flow on a random 3-Gaussian mixture: exp(log_prob) sums to 1 on a grid (to
    1%; 0.9999 here), its own samples' histogram matches it (total variation on 20 x 20
    cells at 20,000 draws: 0.025 here, as for exact draws from the cells' own
    probabilities, 0.026-0.028; the bound 0.06), and the trajectory starts at the
    mixture's draws."""
    model = _random_flow(base_components=3)
    with torch.no_grad():
        model.base.logits.copy_(torch.tensor([0.0, 1.0, -0.5]))
        model.base.mu.mul_(2.0)
    _, _, pts, area = grid(((-12.0, 12.0), (-12.0, 12.0)), 400, dtype=torch.float32)
    with torch.no_grad():
        p = model.log_prob(pts).double().exp() * area
    assert abs(float(p.sum()) - 1) < 0.01
    x = model.sample(20000, seed=4)
    lo, hi = x.min(0).values - 0.1, x.max(0).values + 0.1
    edges = [torch.linspace(float(lo[d]), float(hi[d]), 21) for d in range(2)]
    counts = torch.histogramdd(x.double(), bins=[e.double() for e in edges]).hist / len(x)
    _, _, cells, cell_area = grid(((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))), 200)
    with torch.no_grad():
        dens = model.log_prob(cells.float()).double().exp() * cell_area
    # the 200 x 200 fine grid summed into the 20 x 20 histogram cells (rows of grid are y)
    fine = dens.reshape(200, 200).T.reshape(20, 10, 20, 10).sum((1, 3))
    assert 0.5 * float((counts - fine).abs().sum()) < 0.06
    traj = model.trajectory(300, seed=5, between=2)
    z = model.noise(300, seed=5)
    assert torch.allclose(traj.xs[0], model.shift + model.scale * z, atol=1e-6)


def test_mixture_noise_checks_its_count():
    with pytest.raises(ValueError, match="base_components"):
        flows.Flow(n_layers=2, base_components=-1)
    with pytest.raises(TypeError, match="base_components"):
        flows.Flow(n_layers=2, base_components=2.5)
    assert flows.Flow(n_layers=2).base is None


@pytest.mark.slow
def test_mixture_noise_flow_reaches_the_floor_on_eight_gaussians(floor):
    """benchmarks/run.py's flow on eight_gaussians, seed 0: within 1.75x the noise floor
    (the mean of 4 energy distances: 0.54 on an Intel Xeon, a margin of 3x for another
    CPU's rounding of fused Adam; with the mixture's means started at random, 1.39, and with
    N(0, I) noise 1.83, which fails). The k-means start is what lowers the loss: its final
    loss (mean of the last 100 steps) is below the random start's by more than 0.05 nats
    (3.10 against 3.28 there)."""
    t = targets.get("eight_gaussians")
    model = flows.fit(t.sample(5000, seed=1), **MIXTURE)
    d = [
        metrics.energy_distance(model.sample(2000, seed=s), t.sample(2000, seed=100 + s))
        for s in range(4)
    ]
    assert sum(d) / 4 <= 1.75 * floor(t)
    at_random = flows.fit(t.sample(5000, seed=1), **MIXTURE, base_start="random")
    final = lambda m: sum(m.history[-100:]) / 100  # noqa: E731
    assert final(model) < final(at_random) - 0.05


def test_mixture_start_at_puts_the_means_at_the_clusters():
    """MixtureBase.start_at: three tight blobs give three means within 0.05 of their centres."""
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[-3.0, 0.0], [2.0, 2.0], [1.0, -4.0]])
    z = (centres[:, None, :] + 0.1 * torch.randn(3, 300, 2, generator=g)).reshape(-1, 2)
    base = flows.MixtureBase(3)
    base.start_at(z)
    assert torch.cdist(centres, base.mu.detach()).min(1).values.max() < 0.05
    with pytest.raises(ValueError):
        base.start_at(z[:2])  # fewer points than components


def test_fit_rejects_an_unknown_base_start():
    data = targets.get("two_moons").sample(100, seed=0)
    with pytest.raises(ValueError, match="base_start"):
        flows.fit(data, n_steps=1, base_components=2, base_start="centres", progress=False)
    with pytest.raises(ValueError, match="needs at least base_components=8 data points"):
        flows.fit(data[:5], n_steps=1, base_components=8, progress=False)
    flows.fit(data[:5], n_steps=1, base_components=8, base_start="random", progress=False)
