"""Controllable generation with a score: classifier guidance and inpainting (notebooks 07, 09).

Bayes' rule for scores: grad log p_t(x | y) = grad log p_t(x) + grad log p_t(y | x), so a
time-dependent classifier steers any score sampler; a strength gamma scales the second
term (gamma = 1 is the exact conditional; gamma > 1 sharpens it). For a Gaussian mixture
with component labels the classifier p_t(y = k | x) is the responsibility of component k
under the perturbed mixture, and grad log p_t(x | y = k) is that component's own score.
For data without a formula (digits), :func:`fit_classifier` trains a time-conditional
classifier on noised data x_t and :func:`classifier_guided` adds its gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from genmod import training
from genmod.arrays import as_points, check_n, generator
from genmod.densities import GaussianMixture
from genmod.guards import (
    check_finite_tensor,
    check_real,
    check_work,
    divergence_cause,
    first_call_checked,
)
from genmod.nets import MLP
from genmod.sde import EPS, SDE, exact_score, model_dim
from genmod.trajectory import Trajectory


def guided_score(
    target: GaussianMixture, an_sde: SDE, label: int, strength: float = 1.0
) -> Callable:
    """Exact score plus ``strength`` times the exact classifier gradient for component ``label``.

    s_gamma(x, t) = s(x, t) + gamma (s_k(x, t) - s(x, t)), with s_k the score of component k
    at time t: grad log p_t(y = k | x) = s_k - s. Returns score_fn(x, t).
    """
    k = len(target.weights)
    if not 0 <= int(label) < k:
        raise ValueError(f"label must be in 0..{k - 1}, got {label}")
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength}")
    score = exact_score(target, an_sde)
    i = int(label)
    component = GaussianMixture(target.means[i : i + 1], target.stds[i : i + 1])
    score_k = exact_score(component, an_sde)  # grad log p_t(x | y = k)

    def score_fn(x, t):
        s = score(x, t)
        return s + strength * (score_k(x, t) - s)

    return score_fn


def inpaint(
    score_fn: Callable,
    an_sde: SDE,
    known_x: float,
    n: int,
    n_steps: int = 300,
    seed: int | None = 0,
) -> Trajectory:
    """Sample y given x = known_x in 2D: :func:`inpaint_mask` with the first coordinate known.

    Returns a Trajectory (kind "map", label "inpainting") with ``n_steps + 1`` frames,
    from t = T down to the time floor ``sde.EPS``.
    """
    known = torch.tensor([check_real(known_x, "known_x"), 0.0], dtype=torch.float64)
    return inpaint_mask(score_fn, an_sde, known, torch.tensor([True, False]), n, n_steps, seed)


def inpaint_mask(
    score_fn: Callable,
    an_sde: SDE,
    known,
    mask,
    n: int,
    n_steps: int = 300,
    seed: int | None = 0,
) -> Trajectory:
    """Sample the unknown coordinates given the known ones, by the replacement method
    (Song et al. 2021, app. I.2): the top half of a digit given, draw the bottom half.

    Run the reverse SDE (Euler-Maruyama) on all d coordinates, but after every step overwrite
    the known ones with a fresh forward-noised copy alpha_t known + sigma_t z; at the end
    they equal ``known`` (up to sigma_eps). The others then follow (approximately) their
    conditional law given the known ones.

    Parameters
    ----------
    known: (d,) values, or (n, d): one known vector per sample (only the entries where
        ``mask`` is True are used).
    mask: (d,) bool, True where the coordinate is known; d must match the score_fn's ``.dim``.

    Returns a Trajectory (kind "map", label "inpainting") with ``n_steps + 1`` frames of
    (n, d) points, from t = T down to the time floor ``sde.EPS``.
    """
    n = check_n(n)
    steps = check_n(n_steps, "n_steps")
    check_work(steps, n)
    mask = torch.as_tensor(mask, dtype=torch.bool).reshape(-1)
    d = model_dim(score_fn, len(mask))
    known = torch.as_tensor(known, dtype=torch.float64)
    if known.shape not in ((d,), (n, d)):
        raise ValueError(f"known must have shape ({d},) or ({n}, {d}), got {tuple(known.shape)}")
    if not mask.any():
        raise ValueError("mask has no known coordinate; use sde.sample to draw without one")
    idx = torch.nonzero(mask)[:, 0]
    check_finite_tensor(known[..., idx], "known (its entries where mask is True)")
    score_fn = first_call_checked(score_fn, "score_fn")  # shape (n, d) and finite
    g = generator(seed)
    ts = torch.linspace(an_sde.T, EPS, steps + 1, dtype=torch.float64).tolist()

    def fill(x, t):
        alpha, sigma = an_sde.marginal(t)
        z = torch.randn(n, len(idx), generator=g)
        x[:, idx] = (float(alpha) * known[..., idx]).float() + float(sigma) * z
        return x

    x = fill(an_sde.prior_sample(n, g, d), ts[0])
    # frames go into one tensor allocated up front: small per-step copies kept in a list
    # sit between the score's large per-step temporaries and fragment the heap (the kernel
    # kept 600-1000 MB after this loop on a 256-component target, instead of ~20 MB)
    xs = torch.empty(steps + 1, n, d, dtype=x.dtype)
    xs[0] = x
    with torch.no_grad():
        for i in range(steps):
            t, dt = ts[i], ts[i + 1] - ts[i]
            gt = float(an_sde.diffusion(t))
            x = x + (an_sde.drift(x, t) - gt**2 * score_fn(x, t)) * dt
            if i < steps - 1:
                x = x + gt * abs(dt) ** 0.5 * torch.randn(x.shape, generator=g)
            x = fill(x.clone(), ts[i + 1])
            xs[i + 1] = x
    if not torch.isfinite(xs[-1]).all():
        raise FloatingPointError(divergence_cause("inpainting", an_sde, steps))
    return Trajectory(xs, torch.tensor(ts).float(), "map", "inpainting", n_evals=steps)


def conditional_density(target, known_x: float, ys: torch.Tensor) -> torch.Tensor:
    """The true p(y | x = known_x) on a 1D grid ys (normalized by the trapezoid rule)."""
    pts = torch.stack([torch.full_like(ys, float(known_x)), ys], 1)
    p = target.log_prob(pts).double().exp()
    return p / torch.trapezoid(p, ys.double())


class Classifier(nn.Module):
    """A time-conditional classifier: logits of p_t(y | x_t) for x_t (n, d) at time t."""

    def __init__(self, dim: int, n_classes: int, an_sde: SDE, hidden=128, depth=2, seed=0):
        super().__init__()
        self.dim, self.n_classes, self.an_sde = int(dim), int(n_classes), an_sde
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.net = MLP(self.dim, self.n_classes, hidden, depth, time_embed=32)

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        """Logits (n, n_classes). x: (n, d); t: a float or (n,) tensor."""
        return self.net(x, torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0]))


def fit_classifier(
    data,
    labels,
    *,
    an_sde: SDE,
    n_steps: int = 2000,
    batch_size: int = 256,
    hidden: int = 128,
    depth: int = 2,
    lr: float = 2e-3,
    progress: bool = True,
    seed: int = 0,
) -> Classifier:
    """Train a :class:`Classifier` by cross-entropy on x_t = alpha_t x + sigma_t z, t ~ U(EPS, T).

    data: (n, d); labels: (n,) integers 0 .. K - 1. Returns the model (``.history``: losses).
    """
    x = as_points(data, "data", dim=None).float()
    y = torch.as_tensor(labels).long().reshape(-1)
    if y.shape[0] != x.shape[0] or (y < 0).any():
        raise ValueError(f"labels must be {x.shape[0]} integers >= 0, got shape {tuple(y.shape)}")
    model = Classifier(x.shape[1], int(y.max()) + 1, an_sde, hidden, depth, seed)

    def loss_fn(batch, g):
        xb, yb = batch
        t = EPS + (an_sde.T - EPS) * torch.rand(xb.shape[0], generator=g)
        alpha, sigma = (v.float()[:, None] for v in an_sde.marginal(t))
        xt = alpha * xb + sigma * torch.randn(xb.shape, generator=g)
        return nn.functional.cross_entropy(model(xt, t), yb)

    model.history = training.fit(
        model,
        loss_fn,
        x,
        n_steps=n_steps,
        batch_size=batch_size,
        lr=lr,
        labels=y,
        progress=progress,
        desc="noisy classifier",
        seed=seed,
    )
    return model


def classifier_guided(
    score_fn: Callable, classifier: Callable, label, strength: float = 1.0
) -> Callable:
    """s(x, t) + strength * grad_x log p_t(y = label | x): classifier guidance with a network.

    classifier: ``classifier(x, t)`` -> (n, K) logits (a :class:`Classifier`). label: one
    class for every particle, or a sequence of n classes, one per particle (so one sampler
    run asks for several classes at once). Returns score_fn(x, t); the gradient comes from
    one autograd pass through the classifier.
    """
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength}")
    labels = torch.as_tensor(label)
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.dim() > 1:
        raise ValueError(f"label must be an integer or a 1-D sequence of integers, got {label!r}")
    k = getattr(classifier, "n_classes", None)
    if k is not None and labels.numel() and not bool(((labels >= 0) & (labels < k)).all()):
        raise ValueError(f"label must be in 0..{k - 1}, got {label!r}")
    labels = labels.long()

    def guided(x, t):
        if labels.dim() == 1 and labels.shape[0] != x.shape[0]:
            raise ValueError(f"{labels.shape[0]} labels for {x.shape[0]} particles")
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            log_p = torch.log_softmax(classifier(xg, t), 1)
            idx = labels.expand(x.shape[0]) if labels.dim() == 0 else labels
            (grad,) = torch.autograd.grad(log_p.gather(1, idx[:, None]).sum(), xg)
        return score_fn(x, t) + strength * grad

    if hasattr(score_fn, "dim"):
        guided.dim = score_fn.dim
    return guided
