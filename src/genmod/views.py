"""2D views of d-dimensional points, trajectories and targets (notebook 09).

The animations and figures of the notes draw 2D points. A :class:`View` is an orthonormal
pair of directions u1, u2 in R^d; it sends x to (u1.x, u2.x). Two kinds:
:meth:`View.coords` (two chosen coordinates) and :meth:`View.principal` (the top two
principal directions of a sample: the plane where the cloud spreads most).

A view of a Gaussian mixture with isotropic components is again one, exactly: the
projection of N(m, s^2 I_d) on an orthonormal pair is N(U^T m, s^2 I_2); of N(m, C) it is
N(U^T m, U^T C U). So the density drawn under a projected animation is the true marginal.
"""

from __future__ import annotations

import torch

from genmod import toys
from genmod.arrays import as_points, check_dim
from genmod.densities import GaussianMixture, Target
from genmod.guards import check_finite_tensor
from genmod.trajectory import Trajectory


class View:
    """Projection onto an orthonormal pair of directions. basis: (d, 2)."""

    def __init__(self, basis, label: str = "view"):
        u = torch.as_tensor(basis, dtype=torch.float64)
        check_finite_tensor(u, "basis")
        if u.ndim != 2 or u.shape[1] != 2 or u.shape[0] < 2:
            raise ValueError(f"basis must have shape (d, 2) with d >= 2, got {tuple(u.shape)}")
        if not torch.allclose(u.T @ u, torch.eye(2, dtype=torch.float64), atol=1e-6):
            raise ValueError("the two directions of a view must be orthonormal")
        self.basis, self.dim, self.label = u, u.shape[0], label

    @classmethod
    def coords(cls, d: int, i: int = 0, j: int = 1) -> View:
        """Coordinates i and j of R^d."""
        d = check_dim(d)
        if not (0 <= i < d and 0 <= j < d and i != j):
            raise ValueError(f"need two different coordinates in 0..{d - 1}, got {i}, {j}")
        u = torch.zeros(d, 2, dtype=torch.float64)
        u[i, 0] = u[j, 1] = 1.0
        return cls(u, f"coordinates {i} and {j}")

    @classmethod
    def principal(cls, x) -> View:
        """The top two principal directions of the points x (n, d): where they spread most."""
        x = as_points(x, dim=None).double()
        if x.shape[1] < 2 or x.shape[0] < 3:
            raise ValueError(f"need at least 3 points in d >= 2, got {tuple(x.shape)}")
        _, _, vh = torch.linalg.svd(x - x.mean(0), full_matrices=False)
        u = vh[:2].T
        u = u * torch.where(u.sum(0) < 0, -1.0, 1.0)  # a fixed sign: reproducible pictures
        return cls(u, "top two principal directions")

    def points(self, x) -> torch.Tensor:
        """(n, d) -> (n, 2) float32."""
        x = as_points(x, dim=self.dim)
        return (x.double() @ self.basis).float()

    def _project(self, v):
        if isinstance(v, torch.Tensor) and v.ndim >= 2 and v.shape[-1] == self.dim:
            return (v.double() @ self.basis).to(v.dtype)
        return v

    def trajectory(self, traj: Trajectory) -> Trajectory:
        """The trajectory seen in this view: positions, proposals and every (..., d) extra
        (MALA drift, HMC momenta and leapfrog paths) projected; the rest kept."""
        if traj.dim != self.dim:
            raise ValueError(f"the trajectory has d = {traj.dim}, the view d = {self.dim}")
        return Trajectory(
            self._project(traj.xs),
            traj.times,
            traj.kind,
            traj.label,
            proposals=self._project(traj.proposals),
            accepted=traj.accepted,
            n_evals=traj.n_evals,
            extras={k: self._project(v) for k, v in traj.extras.items()},
        )

    def target(self, target: Target) -> Target:
        """The exact 2D marginal of a Gaussian mixture (isotropic components) or a Gaussian."""
        if getattr(target, "dim", 2) != self.dim:
            raise ValueError(f"the target has d = {target.dim}, the view d = {self.dim}")
        u = self.basis
        if isinstance(target, GaussianMixture):
            out = GaussianMixture(target.means @ u, target.stds, target.weights)
        elif isinstance(target, toys.Gaussian):
            out = toys.Gaussian(target.mean @ u, u.T @ target.cov @ u, target.bounds)
        else:
            raise ValueError(f"a view's exact marginal needs a Gaussian mixture, got {target!r}")
        out.name = f"{target.name} ({self.label})"
        return out
