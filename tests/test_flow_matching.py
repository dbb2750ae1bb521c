"""Flow matching: shapes, determinism, bad input, and sample quality on two toys."""

import pytest
import torch

from genmod import flow_matching as fm
from genmod import metrics, targets


@pytest.fixture(scope="module")
def models():
    return {
        name: fm.fit(targets.get(name).sample(20000, seed=1), n_steps=3000, progress=False)
        for name in ("two_moons", "eight_gaussians")
    }


def test_trajectory_shapes_counts_and_seeds():
    model = fm.FlowMatching(hidden=16, depth=1)
    traj = model.trajectory(30, n_steps=8, method="rk4", seed=0)
    assert traj.xs.shape == (9, 30, 2) and traj.kind == "map" and traj.n_evals == 32
    assert float(traj.times[0]) == 0.0 and float(traj.times[-1]) == pytest.approx(1.0)
    euler = model.trajectory(30, n_steps=8, method="euler", seed=0)
    assert euler.n_evals == 8 and torch.equal(euler.xs[0], traj.xs[0])  # same noise
    assert torch.equal(model.sample(30, n_steps=8, seed=3), model.sample(30, n_steps=8, seed=3))


def test_loss_is_zero_for_the_true_velocity_of_a_point_mass():
    # data = one point c: along x_t = (1-t) x0 + t c the velocity (c - x_t) / (1 - t) is exact
    c = torch.tensor([1.0, -2.0])

    class Exact(torch.nn.Module):
        def forward(self, x, t):
            return (c - x) / (1 - torch.as_tensor(t)[:, None])

    loss = fm.cfm_loss(Exact())(c.expand(64, 2), torch.Generator().manual_seed(0))
    assert float(loss) < 1e-8


def test_bad_input_raises():
    model = fm.FlowMatching(hidden=8, depth=1)
    with pytest.raises(ValueError, match="unknown method"):
        model.trajectory(10, method="heun")
    with pytest.raises(ValueError):
        model.trajectory(0)
    with pytest.raises(ValueError):
        model.trajectory(10, n_steps=0)
    with pytest.raises(ValueError, match=r"data must have shape \(n, d\)"):
        fm.fit(torch.zeros(10), n_steps=1, progress=False)  # (n, 3) data is fine: d = 3


@pytest.mark.slow
@pytest.mark.parametrize("name", ["two_moons", "eight_gaussians"])
def test_flow_matching_within_2x_noise_floor(models, name):
    # quality averaged over three sampler seeds (one n=2000 draw alone is noisy)
    target = targets.get(name)
    q = [
        metrics.quality(models[name].sample(2000, n_steps=25, method="rk4", seed=s), target, seed=s)
        for s in (0, 1, 2)
    ]
    assert sum(q) / 3 <= 2.0, q
    assert models[name].history[-1] < models[name].history[0]
