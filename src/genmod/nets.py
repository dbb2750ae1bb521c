"""Small MLPs for 2D models, optionally conditioned on a time or noise level."""

from __future__ import annotations

import math

import torch
from torch import nn


class FourierEmbedding(nn.Module):
    """Random Fourier features of a scalar time t: [sin(2 pi w t), cos(2 pi w t)].

    Fixed (not trained) frequencies w ~ N(0, scale^2), as in Song et al. (2021).
    """

    def __init__(self, dim: int = 32, scale: float = 16.0, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("w", torch.randn(dim // 2, generator=g) * scale)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        proj = 2 * math.pi * t.reshape(-1, 1) * self.w
        return torch.cat([proj.sin(), proj.cos()], dim=1)


#: hidden-layer nonlinearities by name: smooth SiLU (every model's default) or leaky ReLU
#: (slope 0.2, as in most GANs since DCGAN's discriminator): piecewise linear, so the net
#: can fold its input along sharp creases
ACTIVATIONS = {"silu": nn.SiLU, "leaky_relu": lambda: nn.LeakyReLU(0.2)}
#: weight initializations: torch's default (uniform, +- 1 / sqrt(fan_in)), under which the
#: signal shrinks by about 3x per hidden layer of these nets, or He et al. (2015)'s normal
#: std sqrt(2 / fan_in) with zero biases for the hidden layers, which keeps it O(1)
INITS = ("torch", "he")


class MLP(nn.Module):
    """x (n, in_dim) [+ t (n,)] -> (n, out_dim); SiLU (or ``activation``) hidden layers.

    Parameters
    ----------
    in_dim, out_dim: input and output widths (2 and 2 for a score or velocity field).
    hidden: width of each hidden layer; depth: number of hidden layers.
    time_embed: if > 0, an embedding of that size of a scalar time/noise input is
        concatenated to x, and ``forward(x, t)`` needs t.
    embed_scale: frequency scale of the Fourier embedding (t is expected in about [0, 1]).
    activation: a name of :data:`ACTIVATIONS` ("silu" or "leaky_relu").
    init: a name of :data:`INITS`: ``"torch"`` (every model's default) or ``"he"`` (hidden
        layers; the output layer keeps torch's). Draws from torch's global generator, as
        torch's own init does: callers fork and seed it (see ``score.ScoreModel``).
    """

    def __init__(
        self,
        in_dim: int = 2,
        out_dim: int = 2,
        hidden: int = 128,
        depth: int = 3,
        time_embed: int = 0,
        embed_scale: float = 4.0,
        activation: str = "silu",
        init: str = "torch",
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        self.embed = FourierEmbedding(time_embed, embed_scale) if time_embed else None
        layers, width = [], in_dim + time_embed
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), ACTIVATIONS[activation]()]
            width = hidden
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)
        if init == "he":
            with torch.no_grad():
                for layer in layers[:-1]:
                    if isinstance(layer, nn.Linear):
                        layer.weight.normal_(0.0, math.sqrt(2.0 / layer.in_features))
                        layer.bias.zero_()

    def forward(self, x: torch.Tensor, t: torch.Tensor | float | None = None) -> torch.Tensor:
        if self.embed is not None:
            if t is None:
                raise ValueError("this MLP is time-conditioned: call it as net(x, t)")
            t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])
            x = torch.cat([x, self.embed(t)], dim=1)
        return self.net(x)
