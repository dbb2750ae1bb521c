"""Conditional flow matching: learn the velocity of a noise-to-data ODE directly.

Pair a noise draw x0 ~ N(0, I) with a data point x1 and move along the straight line
x_t = (1 - t) x0 + t x1, whose velocity is x1 - x0. Regressing a network v(x_t, t) on
x1 - x0 (Lipman et al. 2023; Liu et al. 2023, "rectified flow") gives, at the optimum,
the average velocity of all lines through x_t at time t: the velocity field of an ODE
whose marginals go from N(0, I) at t = 0 to the data at t = 1. No score, no SDE:
a sibling of the probability flow ODE, trained by plain regression.
"""

from __future__ import annotations

import torch
from torch import nn

from genmod import nets, odes, training
from genmod.arrays import as_points, check_dim, check_n, generator
from genmod.trajectory import Trajectory

METHODS = ("euler", "rk4")


COUPLINGS = ("independent", "ot")


def ot_pairing(x0: torch.Tensor, x1: torch.Tensor, block: int = 128) -> torch.Tensor:
    """Reorder noise x0 so that x0[i] goes to x1[i] on a minibatch optimal transport plan.

    Minibatch OT coupling (Tong et al. 2023; Pooladian et al. 2023): within each block of
    ``block`` pairs, the permutation minimizing sum |x0 - x1|^2 (scipy's Hungarian
    ``linear_sum_assignment``, O(block^3), hence the blocks). x0, x1: (n, 2) -> (n, 2).
    """
    from scipy.optimize import linear_sum_assignment

    out = torch.empty_like(x0)
    for start in range(0, x0.shape[0], block):
        a, b = x0[start : start + block], x1[start : start + block]
        cost = torch.cdist(a.double(), b.double()).pow(2).numpy()
        rows, cols = linear_sum_assignment(cost)
        out[start + torch.as_tensor(cols)] = a[torch.as_tensor(rows)]
    return out


def cfm_loss(model: nn.Module, coupling: str = "independent", block: int = 128):
    """``loss_fn(x1, generator)``: E |v(x_t, t) - (x1 - x0)|^2 with t ~ U(0, 1).

    ``coupling="ot"`` pairs noise and data by :func:`ot_pairing` instead of at random,
    which straightens the learned paths.
    """
    if coupling not in COUPLINGS:
        raise ValueError(f"coupling must be one of {', '.join(COUPLINGS)}, got {coupling!r}")

    def loss_fn(x1, g):
        x0 = torch.randn(x1.shape, generator=g)
        if coupling == "ot":
            x0 = ot_pairing(x0, x1, block)
        t = torch.rand(x1.shape[0], generator=g)
        xt = (1 - t[:, None]) * x0 + t[:, None] * x1
        return ((model(xt, t) - (x1 - x0)) ** 2).sum(1).mean()

    return loss_fn


def straightness(traj: Trajectory) -> float:
    """Mean over steps and particles of |dx/dt - (x_1 - x_0)|^2 (Liu et al. 2023): 0 = straight.

    dx/dt is each step's displacement over its time step; x_1 - x_0 the whole path's.
    A straight flow can be integrated with one Euler step.
    """
    xs, ts = traj.xs.double(), traj.times.double()
    total = xs[-1] - xs[0]
    vel = (xs[1:] - xs[:-1]) / (ts[1:] - ts[:-1]).reshape(-1, 1, 1)
    return float((vel - total).pow(2).sum(-1).mean())


class FlowMatching(nn.Module):
    """A velocity MLP v(x, t) in ``dim`` dimensions, t in [0, 1]; noise at t = 0, data at 1."""

    def __init__(self, hidden: int = 128, depth: int = 3, time_embed: int = 32, dim: int = 2):
        super().__init__()
        self.dim = check_dim(dim, "dim")
        self.net = nets.MLP(dim, dim, hidden=hidden, depth=depth, time_embed=time_embed)
        self.history: list[float] = []

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        """Velocity. x: (n, d); t: float or (n,) tensor -> (n, d)."""
        return self.net(x, t)

    def trajectory(
        self, n: int, n_steps: int = 50, method: str = "rk4", seed: int | None = 0, x0=None
    ) -> Trajectory:
        """Integrate dx/dt = v(x, t) from noise (t = 0) to t = 1; every step is a frame.

        Returns a Trajectory (kind "map") with ``n_steps + 1`` frames; n_evals counts
        velocity calls (1 per Euler step, 4 per RK4 step). ``x0``: optional (n, d) noise.
        """
        n = check_n(n)
        steps = check_n(n_steps, "n_steps")
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
        if x0 is None:
            x = torch.randn(n, self.dim, generator=generator(seed))
        else:
            x = as_points(x0, "x0", dim=self.dim).float()
        if x.shape[0] != n:
            raise ValueError(f"x0 has {x.shape[0]} points, expected n={n}")
        with torch.no_grad():
            if method == "rk4":
                xs, ts, nfe = odes.rk4(self, x, 0.0, 1.0, steps)
            else:
                xs, ts, h = [x], [0.0], 1.0 / steps
                for i in range(int(steps)):
                    x = x + h * self(x, i * h)
                    xs.append(x)
                    ts.append((i + 1) * h)
                nfe = int(steps)
        label = f"flow matching ({method})"
        return Trajectory(torch.stack(xs), torch.tensor(ts), "map", label, n_evals=nfe)

    def sample(self, n: int, n_steps: int = 50, method: str = "rk4", seed: int | None = 0):
        """(n, d) samples: the end of :meth:`trajectory`."""
        return self.trajectory(n, n_steps, method, seed).final()


def fit(
    data,
    *,
    n_steps: int = 3000,
    batch_size: int = 512,
    hidden: int = 128,
    depth: int = 3,
    lr: float = 3e-3,
    coupling: str = "independent",
    ema: float | None = None,
    progress: bool = True,
    seed: int = 0,
) -> FlowMatching:
    """Train a FlowMatching model on (n, d) data (d from the data); loss history in ``.history``.

    ``coupling``: ``"independent"`` or ``"ot"`` (see :func:`cfm_loss`); ``ema``: decay of
    an EMA of the weights (see :func:`genmod.training.fit`).
    ``seed`` sets the initialization, minibatches and noise (local generators).
    """
    data = as_points(data, "data", dim=None).float()
    with torch.random.fork_rng():  # the weight initialization, off the global generator
        torch.manual_seed(seed)
        model = FlowMatching(hidden=hidden, depth=depth, dim=data.shape[1])
    model.history = training.fit(
        model,
        cfm_loss(model, coupling),
        data,
        n_steps=n_steps,
        batch_size=batch_size,
        lr=lr,
        progress=progress,
        desc="flow matching",
        ema=ema,
        seed=seed,
    )
    return model
