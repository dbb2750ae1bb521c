"""scikit-learn's 8x8 digits as 64-dimensional points: a first image model on a CPU.

``sklearn.datasets.load_digits`` ships with scikit-learn (1,797 images of 8 x 8 pixels,
intensities 0..16, nothing downloaded). Each image is a point in d = 64 dimensions, so
the score models, samplers and likelihoods of the notes apply unchanged.

Scaling: an integer pixel v in 0..16 plus uniform dequantization noise u ~ U(0, 1) is
mapped to x = 2 (v + u) / 17 - 1 in [-1, 1) (the usual image range of diffusion models).
A density of x then gives a density of the dequantized pixels y = v + u:
log p_y = log p_x + d log(2 / 17), and ``bits_per_dim`` = -log2 p_y / d, a bound on the
bits a discrete model needs per pixel (log2 17 = 4.09 for a uniform guess).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from genmod import toys
from genmod.arrays import as_points, check_n, generator

#: pixel intensities take the values 0 .. LEVELS - 1
LEVELS = 17
SIDE = 8
DIM = SIDE * SIDE


class Digits(NamedTuple):
    """A train / held-out split of the digits. x: (n, 64) float32 in [-1, 1); labels: (n,)."""

    train: torch.Tensor
    train_labels: torch.Tensor
    heldout: torch.Tensor
    heldout_labels: torch.Tensor


def load(n_heldout: int = 297, seed: int = 0, dequantize: bool = True) -> Digits:
    """The 1,797 digits, shuffled with ``seed``, the last ``n_heldout`` held out.

    dequantize: add u ~ U(0, 1) to each integer pixel (drawn with ``seed``); False puts
    every pixel at the centre of its bin (v + 1/2), for pictures.
    """
    from sklearn.datasets import load_digits  # local: only this module needs scikit-learn

    raw = load_digits()
    pixels = torch.as_tensor(raw.data, dtype=torch.float64)
    labels = torch.as_tensor(raw.target, dtype=torch.long)
    n = pixels.shape[0]
    if not check_n(n_heldout, "n_heldout") < n:
        raise ValueError(f"n_heldout must be in 1..{n - 1}, got {n_heldout}")
    g = generator(seed)
    order = torch.randperm(n, generator=g)
    u = torch.rand(pixels.shape, generator=g, dtype=torch.float64) if dequantize else 0.5
    x = (2 * (pixels + u) / LEVELS - 1).float()[order]
    labels = labels[order]
    k = n - int(n_heldout)
    return Digits(x[:k], labels[:k], x[k:], labels[k:])


def to_images(x) -> torch.Tensor:
    """Points back to images of pixel intensities in [0, 16]. x: (n, 64) -> (n, 8, 8)."""
    x = as_points(x, dim=DIM).detach().float()
    pixels = (x + 1) * LEVELS / 2 - 0.5  # the bin centre v + 1/2 maps back to v
    return pixels.clamp(0, LEVELS - 1).reshape(-1, SIDE, SIDE)


def bits_per_dim(logp, dim: int = DIM) -> torch.Tensor:
    """Bits per pixel of the dequantized digits from log densities of scaled points x.

    log p_y = log p_x + d log(2 / 17) (the change of scale y = 17 (x + 1) / 2), then
    -log2 p_y / d. logp: (n,) -> (n,).
    """
    logp = torch.as_tensor(logp, dtype=torch.float64)
    return -(logp + dim * math.log(2 / LEVELS)) / (dim * math.log(2))


def gaussian_baseline(train, alpha: float = 1.0, sigma: float = 0.0) -> toys.Gaussian:
    """The maximum-likelihood Gaussian N(mean, cov) of the training digits: the baseline.

    alpha, sigma: the law of alpha X + sigma Z instead, N(alpha mean, alpha^2 cov + sigma^2 I)
    (the baseline for digits noised to a diffusion time t, ``an_sde.marginal(t)``).
    """
    x = as_points(train, "train", dim=None).double()
    mean = x.mean(0)
    cov = torch.cov(x.T, correction=0)
    cov = alpha**2 * cov + sigma**2 * torch.eye(x.shape[1], dtype=torch.float64)
    return toys.Gaussian(alpha * mean, cov, ((-1.0, 1.0), (-1.0, 1.0)))


def noised(x, an_sde, t: float, seed: int = 0) -> torch.Tensor:
    """alpha_t x + sigma_t z with a seeded z: the points whose density p_t is compared."""
    x = as_points(x, dim=None).float()
    alpha, sigma = (float(v) for v in an_sde.marginal(float(t)))
    return alpha * x + sigma * torch.randn(x.shape, generator=generator(seed))


def top_half() -> torch.Tensor:
    """(64,) bool mask, True on the top four rows: what inpainting keeps of a digit."""
    mask = torch.zeros(SIDE, SIDE, dtype=torch.bool)
    mask[: SIDE // 2] = True
    return mask.reshape(-1)


class Judge:
    """An independent judge of what digit a point shows: scikit-learn's logistic regression
    on the clean training digits (never used to guide a sampler)."""

    def __init__(self, train, labels, seed: int = 0):
        from sklearn.linear_model import LogisticRegression

        x = as_points(train, "train", dim=DIM).double().numpy()
        self.model = LogisticRegression(max_iter=2000, random_state=seed)
        self.model.fit(x, torch.as_tensor(labels).numpy())

    def __call__(self, x) -> torch.Tensor:
        """Predicted digit of each point. x: (n, 64) -> (n,) long."""
        x = as_points(x, dim=DIM).detach().double().numpy()
        return torch.as_tensor(self.model.predict(x), dtype=torch.long)

    def confidence(self, x) -> torch.Tensor:
        """The judge's probability for its predicted digit. x: (n, 64) -> (n,)."""
        x = as_points(x, dim=DIM).detach().double().numpy()
        return torch.as_tensor(self.model.predict_proba(x).max(1))

    def accuracy(self, x, labels) -> float:
        """Share of points whose predicted digit is ``labels``."""
        return float((self(x) == torch.as_tensor(labels)).double().mean())


def conditional_mean(gaussian: toys.Gaussian, x, mask) -> torch.Tensor:
    """The Gaussian's best guess of the unknown pixels: E[x_U | x_K] = m_U + C_UK C_KK^-1
    (x_K - m_K), known pixels K where ``mask`` is True kept as they are. x: (n, d) -> (n, d).
    """
    x = as_points(x, dim=gaussian.dim).double()
    k = torch.as_tensor(mask, dtype=torch.bool)
    u, m, c = ~k, gaussian.mean, gaussian.cov
    gain = torch.linalg.solve(c[k][:, k], c[k][:, u]).T  # C_UK C_KK^-1, (|U|, |K|)
    out = x.clone()
    out[:, u] = m[u] + (x[:, k] - m[k]) @ gain.T
    return out.float()
