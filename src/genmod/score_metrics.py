"""How good is a score, and what did a sampler do with the modes? (notebooks 04-05)

Score errors against the exact score of a Gaussian mixture, on a grid or where the
particles of annealed Langevin actually are; the share of each mode in a sample set and
the spread within modes; the share of the plot box where the density is negligible.
"""

from __future__ import annotations

import math
import time

import torch

from genmod import score as score_mod
from genmod.arrays import as_points, grid
from genmod.densities import require_2d
from genmod.score import Ladder
from genmod.trajectory import Trajectory


def region_errors(
    score, exact, bounds=None, resolution: int = 100, high: float = 0.1, low=1e-4
) -> dict[str, float]:
    """Relative score error where the density is high and where it is low, on a grid.

    Relative error over a region R: sqrt(sum_R |s - s*|^2 / sum_R |s*|^2), with s* the
    exact score of ``exact`` (e.g. ``mixture.perturbed(sigma)``) and ``score`` a function of
    x alone (``model.score`` of a one-level model). High: grid points with
    p > ``high`` * max p; low: p < ``low`` * max p (inside ``bounds``, default exact.bounds).

    Returns
    -------
    dict with ``high`` and ``low`` (relative errors) and ``frac_low`` (share of the box
    that is low density).
    """
    require_2d(exact, "region_errors")
    _, _, pts, _ = grid(bounds or exact.bounds, resolution, dtype=torch.float32)
    with torch.no_grad():
        lp = exact.log_prob(pts).double()
        s_true = exact.score(pts).double()
        diff = torch.as_tensor(score(pts)).double() - s_true
    rel = lp - lp.max()
    out = {}
    for name, mask in (("high", rel > math.log(high)), ("low", rel < math.log(low))):
        if not mask.any():
            raise ValueError(f"no grid point in the {name}-density region; widen the bounds")
        err = (diff[mask] ** 2).sum() / (s_true[mask] ** 2).sum()
        out[name] = float(err.sqrt())
    out["frac_low"] = float((rel < math.log(low)).double().mean())
    return out


def mode_weights(x, mixture) -> torch.Tensor:
    """Share of points nearest (by responsibility) to each component of ``mixture``.

    x: (n, d) with d = ``mixture.dim`` -> (k,).

    For well-separated modes this estimates the weight a sampler gives each mode.
    """
    x = as_points(x, "x", dim=mixture.dim)
    k = mixture.responsibilities(x).argmax(1)
    return torch.bincount(k, minlength=len(mixture.weights)).double() / x.shape[0]


def within_mode_std(x, mixture) -> float:
    """RMS per-coordinate distance of points to the mean of their most responsible component.

    For isotropic unit-std modes an exact sampler gives about 1; unadjusted Langevin with
    step h gives about 1 / sqrt(1 - h^2 / 4) (its step-size bias).
    """
    x = as_points(x, "x", dim=mixture.dim)
    k = mixture.responsibilities(x).argmax(1)
    return float((x.double() - mixture.means[k]).pow(2).mean().sqrt())


def errors_along(traj: Trajectory, score_fn, mixture) -> list[tuple[float, float]]:
    """Relative error of a learned score where annealed Langevin particles actually are.

    For each level sigma of ``traj`` (from :func:`genmod.langevin.annealed`),
    at the positions where that level starts: sqrt(sum |s(x, t) - s*(x)|^2 / sum |s*(x)|^2),
    t the level's time on the ladder, s* the exact score of ``mixture.perturbed(sigma)``.
    Returns [(sigma, relative error), ...], largest first.
    """
    sig = traj.extras["sigma"]
    ladder = Ladder(torch.unique(sig[sig > 0]))  # the levels the run went down
    out = []
    for s in torch.unique(sig[sig > 0]).flip(0).tolist():
        first = int(torch.nonzero(sig == s)[0])
        x = traj.xs[max(first - 1, 0)]
        exact = mixture.perturbed(s).score(x).double()
        diff = torch.as_tensor(score_fn(x, ladder.time(s))).double() - exact
        out.append((s, float((diff.pow(2).sum() / exact.pow(2).sum()).sqrt())))
    return out


def low_density_share(target, bounds=None, low: float = 1e-4, resolution: int = 100) -> float:
    """Share of the box where the density is below ``low`` times its maximum there (2D)."""
    require_2d(target, "low_density_share")
    _, _, pts, _ = grid(bounds or target.bounds, resolution)
    lp = target.log_prob(pts).double()
    return float((lp - lp.max() < math.log(low)).double().mean())


def _relative_error(score, exact, x) -> float:
    with torch.no_grad():
        s, s_star = score(x).double(), exact(x).double()
    return float(((s - s_star) ** 2).sum().sqrt() / (s_star**2).sum().sqrt())


def compare_objectives(
    target, n_steps: int = 600, sigma: float = 0.1, n_data: int = 4000, seed: int = 0
) -> list[dict]:
    """Explicit, sliced and denoising score matching on the same data, side by side.

    All three minimize the Fisher divergence (1/2) E_p |s - grad log p|^2 up to a constant:
    explicit (Hyvarinen) through the Jacobian trace (d backward passes), sliced through
    one random projection of it, denoising through noisy copies of the data (no
    derivative of the model in the loss, but it learns the score of p_sigma, not of p).

    target: a :class:`~genmod.densities.GaussianMixture` (exact scores).
    Returns one dict per method: ``method``, ``loss`` (mean of the last 10% of steps),
    ``error_clean`` (relative error sqrt(sum |s - s*|^2 / sum |s*|^2) against the score
    of p, at fresh draws from p), ``error_perturbed`` (against the score of p_sigma,
    at draws from p_sigma), ``ms_per_step`` (training wall time / n_steps).
    """
    data = target.sample(n_data, seed=seed + 1).float()
    noisy = target.perturbed(sigma)
    x_clean = target.sample(2000, seed=seed + 2).float()
    x_noisy = noisy.sample(2000, seed=seed + 3).float()
    rows = []
    for method in ("esm", "ssm", "dsm"):
        start = time.perf_counter()
        model = score_mod.fit(
            data, method=method, sigma=sigma, n_steps=n_steps, progress=False, seed=seed
        )
        secs = time.perf_counter() - start
        tail = model.history[-max(1, n_steps // 10) :]
        rows.append(
            dict(
                method={"esm": "explicit", "ssm": "sliced", "dsm": "denoising"}[method],
                loss=sum(tail) / len(tail),
                error_clean=_relative_error(model.score, target.score, x_clean),
                error_perturbed=_relative_error(model.score, noisy.score, x_noisy),
                ms_per_step=1000 * secs / n_steps,
            )
        )
    return rows


def dsm_loss_of(score, target, sigma: float, n: int = 20000, seed: int = 0) -> float:
    """The denoising loss E |sigma s(x + sigma z) + z|^2 (x ~ target) of any score s(x).

    With s the exact score of p_sigma (``target.perturbed(sigma).score``) this is the
    irreducible part: the loss a perfect model still pays, because -z / sigma is a noisy
    target whose average over z given x + sigma z is the score (Vincent 2011). It equals
    d - sigma^2 E |grad log p_sigma|^2, so a model's loss can only be read against it.
    """
    g = torch.Generator().manual_seed(seed)
    x = target.sample(n, seed=seed).float()
    z = torch.randn(x.shape, generator=g)
    with torch.no_grad():
        s = score(x + sigma * z).float()
    return float(((sigma * s + z) ** 2).sum(1).mean())
