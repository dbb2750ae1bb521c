"""Score models: one network class and one denoising loss for every noise schedule.

The score ``grad_x log p(x)`` does not see the normalizing constant, and it can be
learned from samples alone. Every model here is called as ``score_fn(x, t)``:

- denoising score matching (DSM, Vincent 2011): perturb data ``x_t = alpha_t x + sigma_t z``;
  the minimizer of ``E |sigma_t s(x_t, t) + z|^2`` is the score of the perturbed density.
  The noise schedule says what t is: one fixed level (:class:`Level`, t unused), a
  geometric ladder of levels (:class:`Ladder`, Song & Ermon 2019: t is the position of
  log sigma on the ladder), or a diffusion SDE (:mod:`genmod.sde`, Song et al. 2021);
- sliced score matching (Song et al. 2019): no noise, ``E[v^T grad(v^T s) + (v^T s)^2 / 2]``.

A function of (x, sigma), such as the exact ``mixture.perturbed(sigma).score(x)``, becomes
a ``score_fn(x, t)`` on a ladder through :func:`from_sigma`. Sampling: Langevin with a
score is :func:`genmod.mcmc.sample` (``method="ula"``); annealed Langevin is
:mod:`genmod.langevin`; the reverse SDE and the PF-ODE are :func:`genmod.sde.sample`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from genmod import training
from genmod.arrays import as_points, check_dim, check_n
from genmod.nets import MLP
from genmod.sde import EPS, SDE

ScoreFn = Callable[[torch.Tensor, torch.Tensor | float], torch.Tensor]
METHODS = ("dsm", "ladder", "ssm", "esm", "sde")
WEIGHTINGS = ("sigma2", "likelihood")


def geometric_sigmas(sigma_max: float, sigma_min: float, n_levels: int) -> torch.Tensor:
    """A geometric ladder sigma_1 = sigma_max > ... > sigma_L = sigma_min. -> (L,) tensor.

    Consecutive ratios are constant, so neighbouring perturbed densities overlap equally
    (Song & Ermon 2020, technique 2).
    """
    n_levels = check_n(n_levels, "n_levels")
    if not (0 < sigma_min <= sigma_max and math.isfinite(sigma_max)):
        raise ValueError(f"need 0 < sigma_min <= sigma_max, got {sigma_min}, {sigma_max}")
    return torch.logspace(math.log10(sigma_max), math.log10(sigma_min), n_levels)


def max_pairwise_distance(data, n: int = 2000) -> float:
    """Largest distance between two of the first ``n`` points: a choice of sigma_max.

    Song & Ermon (2020), technique 1: sigma_max about the largest pairwise distance lets
    Langevin at the top level move between any two data points.
    """
    x = as_points(data, "data", dim=None, finite=True)[:n].double()
    return float(torch.cdist(x, x).max())


class Level:
    """One fixed noise level: x_t = x + sigma z for every t (the model ignores t)."""

    def __init__(self, sigma: float):
        if not (sigma > 0 and math.isfinite(sigma)):
            raise ValueError(f"sigma must be a positive number, got {sigma}")
        self.sigma = float(sigma)

    def marginal(self, t):
        """(alpha_t, sigma_t) = (1, sigma)."""
        return torch.ones(()), torch.tensor(self.sigma)

    def draw(self, n: int, g: torch.Generator) -> torch.Tensor:
        return torch.zeros(n)


class Ladder:
    """A ladder of noise levels as a time: sigma(t) = sigma_min (sigma_max / sigma_min)^t.

    t = 0 is the smallest level and t = 1 the largest; training draws one of the levels
    uniformly per sample (Song & Ermon 2019, eq. 6).
    """

    def __init__(self, sigmas):
        self.levels = torch.as_tensor(sigmas, dtype=torch.float32).reshape(-1)
        if len(self.levels) == 0 or (self.levels <= 0).any() or not self.levels.isfinite().all():
            raise ValueError("sigmas must be a non-empty list of positive numbers")
        lo, hi = float(self.levels.min()), float(self.levels.max())
        self.log_lo, self.log_span = math.log(lo), max(math.log(hi / lo), 1e-6)

    def time(self, sigma) -> torch.Tensor:
        """The t of noise level sigma (a float or tensor)."""
        return (torch.as_tensor(sigma, dtype=torch.float32).log() - self.log_lo) / self.log_span

    def marginal(self, t):
        """(alpha_t, sigma_t) = (1, sigma(t))."""
        sigma = torch.exp(self.log_lo + self.log_span * torch.as_tensor(t, dtype=torch.float32))
        return torch.ones_like(sigma), sigma

    def draw(self, n: int, g: torch.Generator) -> torch.Tensor:
        return self.time(self.levels[torch.randint(len(self.levels), (n,), generator=g)])


def from_sigma(score_at_sigma: Callable, sigmas) -> ScoreFn:
    """The adapter for sigma-indexed scores: (x, sigma) -> score becomes score_fn(x, t).

    t is the position on the ladder of ``sigmas`` (see :class:`Ladder`), so the result goes
    wherever a ladder-trained model does, e.g.
    ``from_sigma(lambda x, s: mixture.perturbed(s).score(x), sigmas)``.
    """
    ladder = Ladder(sigmas)
    return lambda x, t: score_at_sigma(x, float(ladder.marginal(t)[1]))


class ScoreModel(nn.Module):
    """s(x, t) = net(x, t) / sigma_t: the one score model class.

    The net predicts -z, the (negated) noise that made x_t, so ``noise(x, t)`` is DDPM's
    eps_theta; dividing by sigma_t (Song & Ermon 2020, technique 3) keeps the net's outputs
    O(1) at every noise level, since |grad log p_t| scales like 1 / sigma_t.

    Parameters
    ----------
    schedule: what t means and how noisy x_t is (``marginal(t) -> (alpha_t, sigma_t)``):
        a :class:`Level`, a :class:`Ladder` or a :class:`genmod.sde.SDE`; None for a
        noise-free model (sliced score matching: s(x) = net(x)).
    hidden, depth, embed: MLP width, number of hidden layers, time-embedding size (the net
        sees t only when the schedule has more than one level).
    seed: initialization seed (a local generator state: the global one is untouched).
    dim: d, the dimension of the points (``fit`` takes it from the data).
    base: an optional known score_fn(x, t) the net corrects: s = base + net / sigma_t
        (e.g. ``sde.exact_score`` of the data's best Gaussian: the net then learns only
        what the Gaussian misses). Conditional schedules only.
    """

    def __init__(self, schedule=None, hidden=128, depth=3, embed=32, seed=0, dim=2, base=None):
        super().__init__()
        self.schedule, self.base = schedule, base
        self.dim = check_dim(dim, "dim")
        self.conditional = isinstance(schedule, Ladder | SDE)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            time_embed = embed if self.conditional else 0
            self.net = MLP(self.dim, self.dim, hidden, depth, time_embed=time_embed)
        self.history: list[float] = []

    @property
    def sigmas(self) -> torch.Tensor:
        """The noise levels of a ladder model, largest first."""
        if not isinstance(self.schedule, Ladder):
            raise AttributeError("only a ladder model has sigmas")
        return self.schedule.levels

    def _net(self, x, t):
        if not self.conditional:
            if self.base is not None:
                raise ValueError("a base score needs a conditional schedule (a ladder or an SDE)")
            return self.net(x)
        if t is None:
            raise ValueError("this score model is noise-conditional: call it as model(x, t)")
        t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])
        out = self.net(x, t)
        if self.base is not None:  # sigma_t s_base: the net's output scale (see forward)
            out = out + self.schedule.marginal(t)[1].to(x.dtype)[:, None] * self.base(x, t)
        return out

    def forward(self, x: torch.Tensor, t=None) -> torch.Tensor:
        """Score at x: (n, d); t: a float or (n,) tensor (ignored for one fixed level)."""
        out = self._net(x, t)
        if self.schedule is None:
            return out
        if self.conditional:
            t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])
        sigma = self.schedule.marginal(t)[1].to(x.dtype)
        return out / (sigma[:, None] if sigma.ndim else sigma)

    def noise(self, x: torch.Tensor, t=None) -> torch.Tensor:
        """DDPM's eps_theta(x_t, t) = -sigma_t * score."""
        return -self._net(x, t)

    @torch.no_grad()
    def score(self, x, t=None) -> torch.Tensor:
        """The learned score, detached, float32: use it wherever ``target.score`` goes."""
        return self(as_points(x, dim=self.dim).float(), t)


def _draw_t(schedule, n: int, g: torch.Generator, t_power: float) -> torch.Tensor:
    if isinstance(schedule, SDE):  # t = EPS + (T - EPS) u^t_power, u ~ U(0, 1)
        return EPS + (schedule.T - EPS) * torch.rand(n, generator=g) ** t_power
    return schedule.draw(n, g)


def dsm_loss(
    model: ScoreModel,
    x0: torch.Tensor,
    g: torch.Generator,
    weighting: str = "sigma2",
    t_power: float = 1.0,
) -> torch.Tensor:
    """Denoising score matching: E_t lambda(t) E |s(x_t, t) + z / sigma_t|^2, sigma_t^2-scaled.

    x_t = alpha_t x0 + sigma_t z with t drawn from the model's schedule; the target
    -z / sigma_t is the score of the Gaussian kernel q(x_t | x0), and the minimizer is
    grad log p_t. ``weighting="sigma2"``: lambda = sigma_t^2 (Song & Ermon's, = |net + z|^2,
    DDPM's noise-prediction loss); ``"likelihood"`` (SDEs only): lambda = g(t)^2, a bound
    on the negative log-likelihood (Song et al. 2021b), at the price of a noisier gradient.
    ``t_power`` > 1 (SDEs): t = EPS + (T - EPS) u^t_power, more training near t = 0.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")
    schedule = model.schedule
    t = _draw_t(schedule, x0.shape[0], g, t_power)
    z = torch.randn(x0.shape, generator=g)
    alpha, sigma = (v.float().expand(x0.shape[0])[:, None] for v in schedule.marginal(t))
    err = ((model._net(alpha * x0 + sigma * z, t) + z) ** 2).sum(1)
    if weighting == "likelihood":
        err = err * (schedule.diffusion(t).float() / sigma[:, 0]) ** 2
    return err.mean()


def ssm_loss(model: ScoreModel, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Sliced score matching: E_v [v^T grad_x (v^T s(x)) + (v^T s(x))^2 / 2], v ~ N(0, I).

    Equal to (1/2) E |s - grad log p|^2 up to a constant, with no noise and no density:
    one Hessian-vector product per sample, through autograd.
    """
    x = x.detach().requires_grad_(True)
    v = torch.randn(x.shape, generator=g)
    s = model(x)
    (grad_sv,) = torch.autograd.grad((s * v).sum(), x, create_graph=True)
    return ((grad_sv * v).sum(1) + 0.5 * ((s * v).sum(1)) ** 2).mean()


def esm_loss(model: ScoreModel, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Explicit score matching (Hyvarinen 2005): E [tr(grad_x s(x)) + |s(x)|^2 / 2].

    The Fisher divergence (1/2) E |s - grad log p|^2 after integrating by parts: the
    unknown grad log p is gone, but the trace of the Jacobian costs one backward pass per
    dimension (d of them; sliced score matching replaces them by one random projection).
    ``g`` is unused (no noise); it keeps the signature of the other losses.
    """
    x = x.detach().requires_grad_(True)
    s = model(x)
    trace = sum(
        torch.autograd.grad(s[:, i].sum(), x, create_graph=True)[0][:, i] for i in range(x.shape[1])
    )
    return (trace + 0.5 * (s**2).sum(1)).mean()


def _schedule(method, sigma, sigmas, an_sde, data):
    if method == "dsm":
        return Level(sigma)
    if method == "ladder":
        if sigmas is None:  # from the largest pairwise distance to well below the toys' noise
            sigmas = geometric_sigmas(max_pairwise_distance(data), 0.05, 10)
        return Ladder(sigmas)
    if method == "sde":
        if not isinstance(an_sde, SDE):
            raise ValueError(f"method 'sde' needs an_sde (a genmod.sde.SDE), got {an_sde!r}")
        return an_sde
    return None


def fit(
    data,
    *,
    method: str | None = None,
    sigma: float = 0.1,
    sigmas=None,
    an_sde: SDE | None = None,
    weighting: str = "sigma2",
    t_power: float = 1.0,
    n_steps: int = 3000,
    batch_size: int = 512,
    lr: float | None = None,
    hidden: int = 128,
    depth: int | None = None,
    base=None,
    progress: bool = True,
    seed: int = 0,
) -> ScoreModel:
    """Train a :class:`ScoreModel` on (n, d) data with :func:`genmod.training.fit` (d from
    the data: the same call trains on 2D toys and on 64-pixel digits).

    Parameters
    ----------
    method: ``"dsm"`` (one noise level ``sigma``), ``"ladder"`` (the levels ``sigmas``,
        default geometric, 10 levels from the largest pairwise distance of the data down to
        0.05), ``"sde"`` (every time of ``an_sde``; ``weighting``, ``t_power``: see
        :func:`dsm_loss`), ``"ssm"`` (sliced score matching on the clean data) or
        ``"esm"`` (explicit score matching, :func:`esm_loss`).
        None: ``"sde"`` when ``an_sde`` is given, else ``"dsm"``.
    lr, depth: None for 3e-3 and 4 hidden layers with an SDE, else 1e-2 and 3.
    base: a known score_fn the model corrects (see :class:`ScoreModel`).
    seed: initialization, minibatches and noise (local generators).

    Returns
    -------
    ScoreModel with ``.history`` (loss per step).
    """
    method = method or ("sde" if an_sde is not None else "dsm")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    x = as_points(data, "data", dim=None, finite=True, min_n=2).float()
    schedule = _schedule(method, sigma, sigmas, an_sde, x)
    lr = lr or (3e-3 if method == "sde" else 1e-2)
    depth = depth or (4 if method == "sde" else 3)
    model = ScoreModel(schedule, hidden, depth, seed=seed, dim=x.shape[1], base=base)
    if method in ("ssm", "esm"):
        fn = ssm_loss if method == "ssm" else esm_loss
        loss = lambda batch, g: fn(model, batch, g)  # noqa: E731
    else:
        loss = lambda batch, g: dsm_loss(model, batch, g, weighting, t_power)  # noqa: E731
    desc = f"score matching ({an_sde.name if method == 'sde' else method})"
    model.history = training.fit(
        model,
        loss,
        x,
        n_steps=n_steps,
        batch_size=batch_size,
        lr=lr,
        progress=progress,
        desc=desc,
        seed=seed,
    )
    return model
