"""GAN: reproducible training, snapshots for replay, quality on a toy, mode collapse and a fix."""

import pytest
import torch

from genmod import gan, metrics, targets

# The notebook's settings (03_adversarial); see the notebook for the story.
GOOD = dict(seed=0, steps=2000, progress=False)


@pytest.fixture(scope="module")
def eight():
    t = targets.get("eight_gaussians")
    return t, t.sample(5000, seed=1)


def test_gan_is_reproducible_with_snapshots():
    x = targets.get("gaussian").sample(1000, seed=0)
    a = gan.fit(x, seed=2, steps=30, snapshot_every=10, hidden=32, progress=False)
    b = gan.fit(x, seed=2, steps=30, snapshot_every=10, hidden=32, progress=False)
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
        gan.fit(x, steps=0)
    with pytest.raises(ValueError):
        gan.fit(x, steps=5, lr=-1)
    with pytest.raises(ValueError):
        gan.fit(torch.zeros(5, 3), steps=5)


def test_modes_covered_counts():
    means = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    x = torch.cat([torch.zeros(50, 2), torch.tensor([[5.0, 0.1]]).expand(50, 2)])
    assert gan.modes_covered(x, means, radius=1.0) == 2
