import pytest
import torch

from genmod.trajectory import Trajectory


def test_trajectory_shapes_and_final():
    xs = torch.randn(5, 7, 2)
    tr = Trajectory(xs, kind="map", label="m")
    assert tr.n_times == 5 and tr.n_particles == 7 and len(tr) == 5
    assert torch.equal(tr.final(), xs[-1]) and torch.equal(tr.at(99), xs[-1])
    assert tr.acceptance_rate() is None
    thin = tr.thin(2)
    assert thin.n_times == 3 and torch.equal(thin.final(), xs[-1])


def test_trajectory_acceptance_and_validation():
    xs = torch.zeros(3, 4, 2)
    acc = torch.tensor([[True, False, True, True], [False] * 4])
    tr = Trajectory(xs, proposals=torch.zeros(2, 4, 2), accepted=acc)
    assert tr.acceptance_rate() == pytest.approx(3 / 8)
    with pytest.raises(ValueError, match="shape"):
        Trajectory(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="accepted"):
        Trajectory(xs, accepted=torch.zeros(3, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="kind"):
        Trajectory(xs, kind="movie")
