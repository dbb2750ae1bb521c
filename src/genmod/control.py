"""Controllable generation with a score: classifier guidance and inpainting (notebook 07).

Bayes' rule for scores: grad log p_t(x | y) = grad log p_t(x) + grad log p_t(y | x), so a
time-dependent classifier steers any score sampler; a strength gamma scales the second
term (gamma = 1 is the exact conditional; gamma > 1 sharpens it). For a Gaussian mixture
with component labels the classifier p_t(y = k | x) is the responsibility of component k
under the perturbed mixture, and grad log p_t(x | y = k) is that component's own score.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from genmod.arrays import check_n, generator
from genmod.densities import GaussianMixture
from genmod.guards import check_real, check_work, divergence_cause, first_call_checked
from genmod.sde import EPS, SDE, exact_score
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
    """Sample y given x = known_x by the replacement method (Song et al. 2021, app. I.2).

    Run the reverse SDE (Euler-Maruyama) on both coordinates, but after every step overwrite
    the x coordinate with a fresh forward-noised copy of the known value,
    alpha_t known_x + sigma_t z; at the end it equals known_x (up to sigma_eps).
    The y coordinate then follows (approximately) the conditional law of y given x.

    Returns a Trajectory (kind "map", label "inpainting") with ``n_steps + 1`` frames,
    from t = T down to the time floor ``sde.EPS``.
    """
    n = check_n(n)
    steps = check_n(n_steps, "n_steps")
    check_work(steps, n)
    known_x = check_real(known_x, "known_x")
    score_fn = first_call_checked(score_fn, "score_fn")  # shape (n, 2) and finite
    g = generator(seed)
    ts = torch.linspace(an_sde.T, EPS, steps + 1, dtype=torch.float64).tolist()

    def fill(x, t):
        alpha, sigma = an_sde.marginal(t)
        x[:, 0] = float(alpha) * known_x + float(sigma) * torch.randn(n, generator=g)
        return x

    x = fill(an_sde.prior_sample(n, g), ts[0])
    # frames go into one tensor allocated up front: small per-step copies kept in a list
    # sit between the score's large per-step temporaries and fragment the heap (the kernel
    # kept 600-1000 MB after this loop on a 256-component target, instead of ~20 MB)
    xs = torch.empty(steps + 1, n, 2, dtype=x.dtype)
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
