"""Score models: learn grad log p from samples, then sample with (annealed) Langevin dynamics.

The score ``grad_x log p(x)`` does not see the normalizing constant, and it can be
learned from samples alone:

- denoising score matching (DSM, Vincent 2011): perturb data ``x~ = x + sigma z``; the
  minimizer of ``E |s(x~) + z / sigma|^2`` is the score of the perturbed density p_sigma;
- a geometric ladder of sigmas with the sigma^2 weighting (Song & Ermon 2019, eq. 6), and a
  noise-conditional model ``s(x, sigma)`` that sees log sigma through a Fourier embedding;
- sliced score matching (Song et al. 2019): no noise, ``E[v^T grad(v^T s) + (v^T s)^2 / 2]``.

Langevin dynamics with any score is :func:`genmod.mcmc.sample` with ``method="ula"`` and a
``score_fn``; :func:`annealed_langevin` runs it down a sigma ladder.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from genmod import training
from genmod.nets import MLP
from genmod.targets import as_points, check_n, generator
from genmod.trajectory import Trajectory

ScoreFn = Callable[[torch.Tensor], torch.Tensor]
METHODS = ("dsm", "ladder", "ssm")


def geometric_sigmas(sigma_max: float, sigma_min: float, n_levels: int) -> torch.Tensor:
    """A geometric ladder sigma_1 = sigma_max > ... > sigma_L = sigma_min. -> (L,) tensor.

    Consecutive ratios are constant, so neighbouring perturbed densities overlap equally
    (Song & Ermon 2020, technique 2).
    """
    n_levels = check_n(n_levels)
    if not (0 < sigma_min <= sigma_max and math.isfinite(sigma_max)):
        raise ValueError(f"need 0 < sigma_min <= sigma_max, got {sigma_min}, {sigma_max}")
    return torch.logspace(math.log10(sigma_max), math.log10(sigma_min), n_levels)


def max_pairwise_distance(samples, n: int = 2000) -> float:
    """Largest distance between two of the first ``n`` samples: a choice of sigma_max.

    Song & Ermon (2020), technique 1: sigma_max about the largest pairwise distance lets
    Langevin at the top level move between any two data points.
    """
    x = as_points(samples, "samples")[:n].double()
    return float(torch.cdist(x, x).max())


class ScoreNet(nn.Module):
    """A score model s(x) or s(x, sigma) on 2D, an MLP divided by sigma.

    Dividing by sigma (Song & Ermon 2020, technique 3) lets the network output O(1)
    numbers at every noise level, since |grad log p_sigma| scales like 1 / sigma.

    Parameters
    ----------
    sigma: the single noise level of a DSM model (None with ``sigmas``, or for SSM).
    sigmas: the ladder of a noise-conditional model; the net sees
        t = (log sigma - log sigma_min) / (log sigma_max - log sigma_min), in [0, 1].
    hidden, depth, embed: MLP width, number of hidden layers, noise-embedding size.
    seed: initialization seed.
    """

    def __init__(
        self,
        sigma: float | None = None,
        sigmas=None,
        hidden: int = 128,
        depth: int = 3,
        embed: int = 32,
        seed: int = 0,
    ):
        super().__init__()
        if sigma is not None and not (sigma > 0 and math.isfinite(sigma)):
            raise ValueError(f"sigma must be a positive number, got {sigma}")
        self.sigma = None if sigma is None else float(sigma)
        self.sigmas = None if sigmas is None else torch.as_tensor(sigmas, dtype=torch.float32)
        self.conditional = self.sigmas is not None
        if self.conditional:
            if self.sigmas.ndim != 1 or len(self.sigmas) == 0 or (self.sigmas <= 0).any():
                raise ValueError("sigmas must be a non-empty 1D tensor of positive numbers")
            lo, hi = float(self.sigmas.min()), float(self.sigmas.max())
            self._log_lo, self._log_span = math.log(lo), max(math.log(hi / lo), 1e-6)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.net = MLP(2, 2, hidden, depth, time_embed=embed if self.conditional else 0)
        self.history: list[float] = []

    def forward(self, x: torch.Tensor, sigma=None) -> torch.Tensor:
        """Score at x: (n, 2); ``sigma``: a float or (n,) tensor for a conditional model."""
        if not self.conditional:
            out = self.net(x)
            return out if self.sigma is None else out / self.sigma
        if sigma is None:
            raise ValueError("this score model is noise-conditional: call it as model(x, sigma)")
        sigma = torch.as_tensor(sigma, dtype=x.dtype).expand(x.shape[0])
        t = (sigma.log() - self._log_lo) / self._log_span
        return self.net(x, t) / sigma[:, None]

    @torch.no_grad()
    def score(self, x, sigma=None) -> torch.Tensor:
        """The learned score, detached, float32: use it wherever ``target.score`` goes."""
        return self(as_points(x).float(), sigma)

    def at(self, sigma: float) -> ScoreFn:
        """x -> s(x, sigma): the learned score of the sigma-perturbed density."""
        return lambda x: self.score(x, sigma)


def dsm_loss(model: ScoreNet, x: torch.Tensor, sigma, g: torch.Generator) -> torch.Tensor:
    """Denoising score matching with sigma^2 weighting: mean of |sigma s(x + sigma z) + z|^2 / 2.

    sigma: a float, or (n,) per-sample noise levels (the ladder). The target -z / sigma is
    the score of the Gaussian kernel q(x~ | x); its minimizer is grad log p_sigma.
    """
    z = torch.randn(x.shape, generator=g)
    s = torch.as_tensor(sigma, dtype=x.dtype).expand(x.shape[0])[:, None]
    xt = x + s * z
    pred = model(xt, s[:, 0]) if model.conditional else model(xt)
    return 0.5 * ((s * pred + z) ** 2).sum(1).mean()


def ssm_loss(model: ScoreNet, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Sliced score matching: E_v [v^T grad_x (v^T s(x)) + (v^T s(x))^2 / 2], v ~ N(0, I).

    Equal to (1/2) E |s - grad log p|^2 up to a constant, with no noise and no density:
    one Hessian-vector product per sample, through autograd.
    """
    x = x.detach().requires_grad_(True)
    v = torch.randn(x.shape, generator=g)
    s = model(x)
    sv = (s * v).sum()
    (grad_sv,) = torch.autograd.grad(sv, x, create_graph=True)
    return ((grad_sv * v).sum(1) + 0.5 * ((s * v).sum(1)) ** 2).mean()


def fit(
    samples,
    method: str = "dsm",
    sigma: float = 0.1,
    sigmas=None,
    steps: int = 3000,
    batch_size: int = 512,
    lr: float = 1e-2,
    hidden: int = 128,
    depth: int = 3,
    seed: int = 0,
    progress: bool = True,
) -> ScoreNet:
    """Train a score model on samples with :func:`genmod.training.fit`.

    Parameters
    ----------
    samples: (n, 2) training data.
    method: ``"dsm"`` (one noise level ``sigma``), ``"ladder"`` (noise-conditional DSM over
        ``sigmas``, a level drawn uniformly per sample, sigma^2-weighted) or ``"ssm"``
        (sliced score matching on the clean data).
    sigmas: the ladder for ``"ladder"`` (default: geometric, 10 levels from the largest
        pairwise distance of the data down to 0.05, well below the toys' own noise).

    Returns
    -------
    ScoreNet with ``.history`` (loss per step).
    """
    x = as_points(samples, "samples").float()
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    if method == "ladder":
        if sigmas is None:
            sigmas = geometric_sigmas(max_pairwise_distance(x), 0.05, 10)
        model = ScoreNet(sigmas=sigmas, hidden=hidden, depth=depth, seed=seed)
        levels = model.sigmas

        def loss(batch, g):
            idx = torch.randint(len(levels), (batch.shape[0],), generator=g)
            return dsm_loss(model, batch, levels[idx], g)
    elif method == "dsm":
        model = ScoreNet(sigma=sigma, hidden=hidden, depth=depth, seed=seed)

        def loss(batch, g):
            return dsm_loss(model, batch, sigma, g)
    else:
        model = ScoreNet(hidden=hidden, depth=depth, seed=seed)

        def loss(batch, g):
            return ssm_loss(model, batch, g)

    model.history = training.fit(
        model, loss, x, steps, batch_size, lr, seed, progress, desc=f"score matching ({method})"
    )
    return model


def annealed_langevin(
    score_fn: Callable[[torch.Tensor, float], torch.Tensor],
    sigmas,
    x0,
    n_steps: int = 100,
    eps: float | None = None,
    seed: int = 0,
    denoise: bool = True,
    label: str = "annealed Langevin",
) -> Trajectory:
    """Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1), built on ``genmod.mcmc``.

    At each level sigma_i, ``n_steps`` of unadjusted Langevin on s(., sigma_i) with step
    alpha_i = eps * sigma_i^2 / sigma_L^2, started where the previous level ended.

    Parameters
    ----------
    score_fn: (x, sigma) -> (n, 2) score of p_sigma: ``model.score`` of a noise-conditional
        ScoreNet, or ``lambda x, s: mixture.perturbed(s).score(x)`` for the exact one.
    sigmas: (L,) decreasing noise levels (see :func:`geometric_sigmas`).
    x0: (n, 2) starting points (e.g. uniform over the plot box).
    eps: step size at the smallest level (alpha in Song & Ermon's update
        x + alpha/2 s + sqrt(alpha) z). None: 0.2 sigma_L^2, so alpha_i / sigma_i^2 = 0.2 at
        every level (their eps = 2e-5 at sigma_L = 0.01).
    denoise: finish with one Tweedie step x + sigma_L^2 s(x, sigma_L) (Song & Ermon 2020),
        which removes the last level's noise; appended as the final frame.

    Returns
    -------
    Trajectory(kind="map"): particles are independent, each ends as one sample and time is
    the noise schedule, not a run to stationarity. ``extras["sigma"]``: (n_times,) level
    of each frame; ``extras["step_size"]``: (L,) alpha_i.
    """
    from genmod import mcmc

    sig = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    if len(sig) == 0 or (sig <= 0).any() or not torch.isfinite(sig).all():
        raise ValueError("sigmas must be a non-empty list of positive numbers")
    if eps is None:
        eps = 0.2 * float(sig[-1]) ** 2
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be a positive number, got {eps}")
    n_steps = check_n(n_steps)
    x = as_points(x0, "x0").float()
    frames, frame_sigma, alphas, evals = [x[None]], [float(sig[0])], [], 0
    for i, s in enumerate(sig.tolist()):
        alpha = eps * s**2 / float(sig[-1]) ** 2
        alphas.append(alpha)
        traj = mcmc.sample(
            None,
            "ula",
            n_chains=x.shape[0],
            n_steps=n_steps,
            step_size=_ula_step(alpha),
            seed=seed * 1000 + i,
            x0=x,
            score_fn=lambda y, s=s: score_fn(y, s),
        )
        frames.append(traj.xs[1:].float())
        frame_sigma += [s] * n_steps
        evals += traj.n_evals
        x = traj.final().float()
    if denoise:
        s = float(sig[-1])
        x = x + s**2 * score_fn(x, s).float()
        frames.append(x[None])
        frame_sigma.append(0.0)
        evals += x.shape[0]
    xs = torch.cat(frames)
    return Trajectory(
        xs,
        kind="map",
        label=label,
        n_evals=evals,
        extras={"sigma": torch.tensor(frame_sigma), "step_size": torch.tensor(alphas)},
    )


def _ula_step(alpha: float) -> float:
    """Song & Ermon's alpha (x + alpha/2 s + sqrt(alpha) z) as genmod.mcmc's ULA step size.

    genmod.mcmc's eps is the noise std (x + eps^2/2 s + eps z), so eps = sqrt(alpha).
    """
    return math.sqrt(alpha)


def uniform_box(bounds, n: int, seed: int = 0) -> torch.Tensor:
    """n points uniform over ((x0, x1), (y0, y1)): the uninformed start of Langevin."""
    n = check_n(n)
    (x0, x1), (y0, y1) = bounds
    u = torch.rand(n, 2, generator=generator(seed))
    return torch.stack([x0 + (x1 - x0) * u[:, 0], y0 + (y1 - y0) * u[:, 1]], 1)


def region_errors(
    score_fn: ScoreFn, exact, bounds=None, resolution: int = 100, high: float = 0.1, low=1e-4
) -> dict[str, float]:
    """Relative score error where the density is high and where it is low, on a grid.

    Relative error over a region R: sqrt(sum_R |s - s*|^2 / sum_R |s*|^2), with s* the
    exact score of ``exact`` (e.g. ``mixture.perturbed(sigma)``). High: grid points with
    p > ``high`` * max p; low: p < ``low`` * max p (inside ``bounds``, default exact.bounds).

    Returns
    -------
    dict with ``high`` and ``low`` (relative errors) and ``frac_low`` (share of the box
    that is low density).
    """
    from genmod.targets import grid

    _, _, pts, _ = grid(bounds or exact.bounds, resolution, dtype=torch.float32)
    with torch.no_grad():
        lp = exact.log_prob(pts).double()
        s_true = exact.score(pts).double()
        diff = torch.as_tensor(score_fn(pts)).double() - s_true
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
    """Share of points nearest (by responsibility) to each component of ``mixture``. -> (k,)

    For well-separated modes this estimates the weight a sampler gives each mode.
    """
    x = as_points(x, "x")
    k = mixture.responsibilities(x).argmax(1)
    return torch.bincount(k, minlength=len(mixture.weights)).double() / x.shape[0]


def within_mode_std(x, mixture) -> float:
    """RMS per-coordinate distance of points to the mean of their most responsible component.

    For isotropic unit-std modes an exact sampler gives about 1; unadjusted Langevin with
    step eps gives about 1 / sqrt(1 - eps^2 / 4) (its step-size bias).
    """
    x = as_points(x, "x")
    k = mixture.responsibilities(x).argmax(1)
    return float((x.double() - mixture.means[k]).pow(2).mean().sqrt())


def errors_along(traj: Trajectory, score_fn, mixture) -> list[tuple[float, float]]:
    """Relative error of a learned score where annealed Langevin particles actually are.

    For each level sigma of ``traj`` (from :func:`annealed_langevin`), at the positions where
    that level starts: sqrt(sum |s(x, sigma) - s*(x)|^2 / sum |s*(x)|^2), s* the exact score
    of ``mixture.perturbed(sigma)``. Returns [(sigma, relative error), ...], largest first.
    """
    sig = traj.extras["sigma"]
    out = []
    for s in torch.unique(sig[sig > 0]).flip(0).tolist():
        first = int(torch.nonzero(sig == s)[0])
        x = traj.xs[max(first - 1, 0)]
        exact = mixture.perturbed(s).score(x).double()
        diff = torch.as_tensor(score_fn(x, s)).double() - exact
        out.append((s, float((diff.pow(2).sum() / exact.pow(2).sum()).sqrt())))
    return out


def low_density_share(target, bounds=None, low: float = 1e-4, resolution: int = 100) -> float:
    """Share of the box where the density is below ``low`` times its maximum there."""
    from genmod.targets import grid

    _, _, pts, _ = grid(bounds or target.bounds, resolution)
    lp = target.log_prob(pts).double()
    return float((lp - lp.max() < math.log(low)).double().mean())
