"""Time-dependent denoising score matching for the SDEs of :mod:`genmod.sde`.

``sde.fit``, ``sde.ScoreModel`` and ``sde.dsm_loss`` are this module's names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from genmod import nets, training

if TYPE_CHECKING:
    from genmod.sde import SDE

EPS = 1e-3  # the same t-floor as genmod.sde.EPS (kept here to avoid a circular import)


class ScoreModel(nn.Module):
    """s(x, t) = net(x, t) / sigma_t: the net predicts -z, the (negated) added noise.

    So ``noise(x, t) = -sigma_t s(x, t)`` is the DDPM noise prediction eps_theta(x, t).
    """

    def __init__(self, an_sde: SDE, hidden: int = 128, depth: int = 3, time_embed: int = 32):
        super().__init__()
        self.sde = an_sde
        self.net = nets.MLP(2, 2, hidden=hidden, depth=depth, time_embed=time_embed)
        self.history: list[float] = []

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])
        sigma = self.sde.marginal(t)[1].to(x.dtype)
        return self.net(x, t) / sigma[:, None]

    def noise(self, x: torch.Tensor, t) -> torch.Tensor:
        """DDPM's eps_theta(x_t, t) = -sigma_t * score."""
        t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])
        return -self.net(x, t)


def dsm_loss(model: ScoreModel, weighting: str = "sigma2", eps: float = EPS, t_power: float = 1.0):
    """Time-dependent denoising score matching loss, ``loss_fn(x0, generator)`` for fit.

    E_t lambda(t) E |s(x_t, t) + z / sigma_t|^2 with t ~ U(eps, T), x_t = alpha_t x0 + sigma_t z.
    ``weighting="sigma2"``: lambda = sigma_t^2 (the usual one; = |net + z|^2, noise
    prediction); ``"likelihood"``: lambda = g(t)^2, which makes the loss a bound on the
    negative log-likelihood (Song et al. 2021b), at the price of a noisier gradient.
    ``t_power`` > 1 draws t = eps + (T - eps) u^t_power, u ~ U(0, 1): more training near
    t = 0, where likelihoods are decided (it reweights the loss by the density of t).
    """
    if weighting not in ("sigma2", "likelihood"):
        raise ValueError(f"weighting must be 'sigma2' or 'likelihood', got {weighting!r}")
    an_sde = model.sde

    def loss_fn(x0, g):
        t = eps + (an_sde.T - eps) * torch.rand(x0.shape[0], generator=g) ** t_power
        z = torch.randn(x0.shape, generator=g)
        alpha, sigma = (v.float()[:, None] for v in an_sde.marginal(t))
        err = ((model.net(alpha * x0 + sigma * z, t) + z) ** 2).sum(1)
        if weighting == "likelihood":
            err = err * (an_sde.diffusion(t).float() / sigma[:, 0]) ** 2
        return err.mean()

    return loss_fn


def fit(
    data,
    an_sde: SDE,
    steps: int = 3000,
    batch_size: int = 512,
    hidden: int = 128,
    depth: int = 4,
    lr: float = 3e-3,
    weighting: str = "sigma2",
    t_power: float = 1.0,
    seed: int = 0,
    progress: bool = True,
) -> ScoreModel:
    """Train a ScoreModel on (n, 2) data with :func:`dsm_loss`; loss history in ``.history``."""
    torch.manual_seed(seed)
    model = ScoreModel(an_sde, hidden=hidden, depth=depth)
    model.history = training.fit(
        model,
        dsm_loss(model, weighting, t_power=t_power),
        data,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        progress=progress,
        desc=f"score model ({an_sde.name})",
    )
    return model
