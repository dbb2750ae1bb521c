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
WEIGHTINGS = ("sigma2", "likelihood", "edm")
TIME_INPUTS = ("t", "log_sigma")


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


def clamped(score_fn: ScoreFn, schedule, data) -> ScoreFn:
    """``score_fn`` with its denoiser clamped to the data's bounding box.

    Tweedie's denoiser ``D(x) = (x + sigma_t^2 s(x, t)) / alpha_t`` is E[x_0 | x_t = x]; with
    the exact score of the data's empirical law it is an average of data points, so it lies
    in their box [min, max] (per coordinate). Clamping a learned model's D into that box, and
    returning ``(alpha_t clamp(D) - x) / sigma_t^2``, therefore only moves D toward the
    truth, and where the model extrapolates outward beyond every data point it pulls
    particles back in: the ladder model with EDM's preconditioning under annealed Langevin,
    and the VP model's rare PF-ODE runaways on banana (benchmarks/results.md). This is
    DDPM's ``clip_denoised`` and Imagen's static thresholding, for a box of any size.

    schedule: what t means, as for :class:`ScoreModel`: a ladder's ``sigmas`` (see
        :class:`Ladder`) or anything with ``marginal(t) -> (alpha_t, sigma_t)`` (a
        :class:`genmod.sde.SDE`, a :class:`Ladder`, a :class:`Level`);
    data: (n, d) points that set the box, e.g. the training data. The result has ``.dim``
        = d, so :func:`genmod.sde.sample` knows its dimension.
    """
    sched = schedule if hasattr(schedule, "marginal") else Ladder(schedule)
    x = as_points(data, "data", dim=None, finite=True, min_n=1).float()
    lo, hi = x.min(0).values, x.max(0).values

    def fn(y, t):
        alpha, sigma = (torch.as_tensor(v).to(y.dtype) for v in sched.marginal(t))
        if alpha.ndim:  # one t per row
            alpha, sigma = alpha[:, None], sigma[:, None]
        var = sigma**2
        y = as_points(y, "x", dim=x.shape[1])
        d = torch.clamp((y + var * score_fn(y, t)) / alpha, lo.to(y.dtype), hi.to(y.dtype))
        return (alpha * d - y) / var

    fn.dim = x.shape[1]
    return fn


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
    precondition: None, or ``(mean, std)`` of the data: the preconditioning of Karras et
        al. (2022, EDM) written for noise prediction. With v_t = alpha_t^2 std^2 + sigma_t^2
        (the variance of x_t if the data were N(mean, std^2 I)),
        ``-z_hat = -sigma_t (x_t - alpha_t mean) / v_t + (alpha_t std / sqrt(v_t)) F(c_in x_t)``:
        the first term is the exact answer for Gaussian data (EDM's c_skip), the network F
        only adds the residual (scaled by EDM's c_out) and sees x_t scaled to unit variance
        (c_in). As t -> T the residual's weight alpha_t -> 0, so the prior end is exact.
        F's hidden layers start from He init (see ``nets.MLP``'s ``init``).
    time_input: what the time embedding sees: ``"t"``, or ``"log_sigma"`` (SDEs: the
        position of log(sigma_t / alpha_t) between t = EPS and T, EDM's c_noise), which
        spreads the small noise levels out instead of crowding them near t = 0.
        None: ``"log_sigma"`` with ``precondition``, else ``"t"``.
    seed: initialization seed (a local generator state: the global one is untouched).
    dim: d, the dimension of the points (``fit`` takes it from the data).
    base: an optional known score_fn(x, t) the net corrects: s = base + net / sigma_t
        (e.g. ``sde.exact_score`` of the data's best Gaussian: the net then learns only
        what the Gaussian misses). Conditional schedules only.
    """

    def __init__(
        self, schedule=None, hidden=128, depth=3, embed=32, seed=0, dim=2, base=None,
        precondition=None, time_input=None,
    ):  # fmt: skip
        super().__init__()
        time_input = time_input or ("log_sigma" if precondition is not None else "t")
        if time_input not in TIME_INPUTS:
            raise ValueError(f"time_input must be one of {', '.join(TIME_INPUTS)}")
        self.schedule, self.base = schedule, base
        self.dim = check_dim(dim, "dim")
        self.conditional = isinstance(schedule, Ladder | SDE)
        self.time_input = time_input if isinstance(schedule, SDE) else "t"
        if precondition is not None and schedule is None:
            raise ValueError("precondition needs a noise schedule")
        if precondition is not None and base is not None:  # both would add a Gaussian's score
            raise ValueError("give precondition or base, not both")
        self.precondition = None
        if precondition is not None:
            mean, std = precondition
            self.precondition = (torch.as_tensor(mean).float().reshape(1, -1), float(std))
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            time_embed = embed if self.conditional else 0
            # He init under preconditioning: the skip term takes the data's Gaussian part,
            # so on a symmetric target (eight_gaussians) the residual has no linear part,
            # and at torch's init (hidden activations about 0.002 after four layers) the
            # net sat at that saddle and never learned (results.md, "EDM's
            # preconditioning, again")
            init = "torch" if precondition is None else "he"
            self.net = MLP(self.dim, self.dim, hidden, depth, time_embed=time_embed, init=init)
        self.history: list[float] = []

    @property
    def sigmas(self) -> torch.Tensor:
        """The noise levels of a ladder model, largest first."""
        if not isinstance(self.schedule, Ladder):
            raise AttributeError("only a ladder model has sigmas")
        return self.schedule.levels

    def _time(self, t):
        if self.time_input == "t":
            return t
        log_snr = lambda u: torch.log(_sigma_over_alpha(self.schedule, u))  # noqa: E731
        lo, hi = log_snr(torch.tensor(EPS)), log_snr(torch.tensor(self.schedule.T))
        return ((log_snr(t) - lo) / (hi - lo)).to(t.dtype)

    def _net(self, x, t):
        """-z_hat(x_t, t), the negated noise prediction (plus sigma_t s_base): (n, d)."""
        if not self.conditional:
            if self.base is not None:
                raise ValueError("a base score needs a conditional schedule (a ladder or an SDE)")
        elif t is None:
            raise ValueError("this score model is noise-conditional: call it as model(x, t)")
        else:
            t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])
        if self.precondition is None:
            out = self.net(x, self._time(t)) if self.conditional else self.net(x)
        else:
            out = self._preconditioned(x, t)
        if self.base is not None:  # sigma_t s_base: the net's output scale (see forward)
            out = out + self.schedule.marginal(t)[1].to(x.dtype)[:, None] * self.base(x, t)
        return out

    def _preconditioned(self, x, t):
        """EDM's c_skip, c_in, c_out around the net (see the class docstring)."""
        mean, std = self.precondition
        alpha, sigma = (v.to(x.dtype).expand(x.shape[0])[:, None] for v in self.schedule.marginal(
            torch.zeros(x.shape[0]) if t is None else t))  # fmt: skip
        sd = (alpha**2 * std**2 + sigma**2).sqrt()  # the std x_t would have for Gaussian data
        centred = x - alpha * mean
        inner = centred / sd
        out = self.net(inner, self._time(t)) if self.conditional else self.net(inner)
        return -sigma * centred / sd**2 + (alpha * std / sd) * out

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


def _sigma_over_alpha(schedule, t):
    alpha, sigma = schedule.marginal(t)
    return (sigma / alpha).float()


def _draw_t(
    schedule, n: int, g: torch.Generator, t_power: float, t_band=None, stratified=False
) -> torch.Tensor:
    if not isinstance(schedule, SDE):
        return schedule.draw(n, g)
    if stratified:  # one u0 ~ U(0, 1) per batch, u_i = (u0 + i / n) mod 1: each u ~ U(0, 1)
        u = (torch.rand(1, generator=g) + torch.arange(n) / n) % 1.0
    else:
        u = torch.rand(n, generator=g)
    t = EPS + (schedule.T - EPS) * u**t_power
    if t_band is not None:  # a share of the batch redrawn uniformly from [lo, hi]
        lo, hi, share = t_band
        band = torch.rand(n, generator=g) < share
        t = torch.where(band, lo + (hi - lo) * torch.rand(n, generator=g), t)
    return t


def check_t_band(t_band, an_sde) -> tuple[float, float, float] | None:
    """Validate ``t_band = (lo, hi, share)`` for :func:`dsm_loss`: EPS <= lo < hi <= T,
    0 < share < 1. None passes through."""
    if t_band is None:
        return None
    try:
        lo, hi, share = (float(v) for v in t_band)
    except (TypeError, ValueError):
        raise ValueError(f"t_band must be None or (lo, hi, share), got {t_band!r}") from None
    T = an_sde.T if isinstance(an_sde, SDE) else 1.0
    if not (EPS <= lo < hi <= T and 0 < share < 1):
        raise ValueError(
            f"t_band = (lo, hi, share) needs {EPS} <= lo < hi <= {T} and 0 < share < 1, "
            f"got {t_band!r}"
        )
    return lo, hi, share


#: EDM's training noise levels: log(sigma / alpha) ~ N(P_MEAN + log(std / 0.5), P_STD^2),
#: their values for data of std 0.5 (Karras et al. 2022, Table 1), rescaled to the data.
P_MEAN, P_STD = -1.2, 1.2


def _draw_t_edm(an_sde: SDE, n: int, g: torch.Generator, std: float) -> torch.Tensor:
    """t whose sigma_t / alpha_t is log-normal as in EDM, by inverting a fine table of t."""
    grid = torch.linspace(EPS, an_sde.T, 2001, dtype=torch.float64)
    log_snr = torch.log(_sigma_over_alpha(an_sde, grid).double())  # increasing in t
    want = P_MEAN + math.log(std / 0.5) + P_STD * torch.randn(n, generator=g, dtype=torch.float64)
    i = torch.searchsorted(log_snr, want.clamp(log_snr[0], log_snr[-1])).clamp(1, len(grid) - 1)
    w = (want.clamp(log_snr[0], log_snr[-1]) - log_snr[i - 1]) / (log_snr[i] - log_snr[i - 1])
    return (grid[i - 1] + w * (grid[i] - grid[i - 1])).float()


def dsm_loss(
    model: ScoreModel,
    x0: torch.Tensor,
    g: torch.Generator,
    weighting: str = "sigma2",
    t_power: float = 1.0,
    t_band: tuple[float, float, float] | None = None,
    t_stratified: bool = False,
    reference: torch.Tensor | None = None,
) -> torch.Tensor:
    """Denoising score matching: E_t lambda(t) E |s(x_t, t) + z / sigma_t|^2, sigma_t^2-scaled.

    x_t = alpha_t x0 + sigma_t z with t drawn from the model's schedule; the target
    -z / sigma_t is the score of the Gaussian kernel q(x_t | x0), and the minimizer is
    grad log p_t. ``weighting="sigma2"``: lambda = sigma_t^2 (Song & Ermon's, = |net + z|^2,
    DDPM's noise-prediction loss); ``"likelihood"`` (SDEs only): lambda = g(t)^2, a bound
    on the negative log-likelihood (Song et al. 2021b), at the price of a noisier gradient;
    ``"edm"`` (preconditioned SDE models): EDM's training (Karras et al. 2022): lambda =
    sigma_t^2 v_t / (alpha_t std)^2, unit weight on the residual net, and t drawn so that
    sigma_t / alpha_t is log-normal around the data's scale (``t_power`` unused).
    ``t_power`` > 1 (SDEs): t = EPS + (T - EPS) u^t_power, more training near t = 0.
    ``t_band = (lo, hi, share)`` (SDEs): a fraction ``share`` of the batch has t uniform on
    [lo, hi] instead (no reweighting: the minimizer at each t is the same, the net only
    spends more of its capacity there). See :func:`fit`.
    ``t_stratified`` (SDEs): the batch's t evenly spaced on [0, 1) with one random offset
    (the low-discrepancy sampler of Kingma et al. 2021): every t is still uniform, so the
    loss is unbiased, but the batch covers the times evenly and its variance is lower.
    ``reference`` (SDEs and ladders, lambda = sigma^2): an (r, d) batch of other training
    points; the target -z / sigma_t is replaced by the stable target field of Xu et al.
    2023, the score of q(x_t | x0) averaged over x0 and the reference points, each weighted
    by its posterior q(x_t | x_j) / sum_k q(x_t | x_k): the same minimizer as r grows, and a
    target of far lower variance wherever several data points could have made x_t (on
    eight_gaussians, squared error against the exact target 0.8-1.7 -> 0.0001-0.04 at
    t = 0.5-0.05, tests/test_learned.py).
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")
    schedule = model.schedule
    if weighting == "edm":
        if model.precondition is None or not isinstance(schedule, SDE):
            raise ValueError("weighting 'edm' needs a preconditioned model (precondition=...)")
        t = _draw_t_edm(schedule, x0.shape[0], g, model.precondition[1])
    else:
        t = _draw_t(schedule, x0.shape[0], g, t_power, t_band, t_stratified)
    z = torch.randn(x0.shape, generator=g)
    alpha, sigma = (v.float().expand(x0.shape[0])[:, None] for v in schedule.marginal(t))
    x_t = alpha * x0 + sigma * z
    if reference is not None:
        z = _stable_target(x_t, z, alpha, sigma, reference)
    err = ((model._net(x_t, t) + z) ** 2).sum(1)
    if weighting == "likelihood":
        err = err * (schedule.diffusion(t).float() / sigma[:, 0]) ** 2
    elif weighting == "edm":  # EDM's lambda = 1 / c_out^2: the residual net F has unit weight
        std = model.precondition[1]
        err = err * (alpha[:, 0] ** 2 * std**2 + sigma[:, 0] ** 2) / (alpha[:, 0] * std) ** 2
    return err.mean()


def _stable_target(x_t, z, alpha, sigma, reference) -> torch.Tensor:
    """(x_t - alpha_t xbar) / sigma_t, xbar the posterior mean of x0 over {x0} and the
    reference points under q(x_t | x0) = N(alpha_t x0, sigma_t^2): the noise the network
    should predict, averaged over the data points that could have made x_t (Xu et al. 2023).
    """
    with torch.no_grad():
        own = -0.5 * (z**2).sum(1, keepdim=True)  # log q(x_t | x0) up to a shared constant
        # |x_t - alpha r|^2 - |x_t|^2, the part that differs between reference points r
        # (expanded: half the time of the (n, r, d) difference; its float32 cancellation,
        # about 1e-6 |x|^2, stays below 0.02 in the logits down to sigma_EPS^2 = 1.1e-4)
        d2 = alpha * (alpha * (reference**2).sum(1) - 2 * x_t @ reference.T)
        logits = torch.cat(
            [own + 0.5 * (x_t**2).sum(1, keepdim=True) / sigma**2, -0.5 * d2 / sigma**2], 1
        )
        w = torch.softmax(logits, 1)
        x0 = (x_t - sigma * z) / alpha
        xbar = w[:, :1] * x0 + w[:, 1:] @ reference
        return (x_t - alpha * xbar) / sigma


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


def fit(  # noqa: PLR0913 (one keyword per training option, each measured in benchmarks/)
    data,
    *,
    method: str | None = None,
    sigma: float = 0.1,
    sigmas=None,
    an_sde: SDE | None = None,
    weighting: str = "sigma2",
    t_band: tuple[float, float, float] | None = None,
    t_stratified: bool = False,
    reference: int | None = None,
    n_steps: int = 3000,
    batch_size: int = 512,
    lr: float | None = None,
    hidden: int = 128,
    depth: int | None = None,
    base=None,
    ema: float | None = None,
    fused: bool = False,
    time_input: str | None = None,
    progress: bool = True,
    seed: int = 0,
) -> ScoreModel:
    """Train a :class:`ScoreModel` on (n, d) data with :func:`genmod.training.fit` (d from
    the data: the same call trains on 2D toys and on 64-pixel digits).

    Parameters
    ----------
    method: ``"dsm"`` (one noise level ``sigma``), ``"ladder"`` (the levels ``sigmas``,
        default geometric, 10 levels from the largest pairwise distance of the data down to
        0.05), ``"sde"`` (every time of ``an_sde``; ``weighting``: see
        :func:`dsm_loss`), ``"ssm"`` (sliced score matching on the clean data) or
        ``"esm"`` (explicit score matching, :func:`esm_loss`).
        None: ``"sde"`` when ``an_sde`` is given, else ``"dsm"``.
    lr, depth: None for 3e-3 and 4 hidden layers with an SDE, else 1e-2 and 3.
    base: a known score_fn the model corrects (see :class:`ScoreModel`), or ``"edm"``:
        EDM's preconditioning with the data's mean and std (its skip term is the score of
        that Gaussian), and its time input log(sigma_t / alpha_t) (see ``precondition`` of
        :class:`ScoreModel`; its residual net starts from He et al.'s init). EDM is off by
        default: in benchmarks/learned.py (``--part edm``, 5 seeds, paired, 50,000 points)
        it moved the PF-ODE by -0.45 on two_moons and -0.16 to +0.16 on the other four
        targets (noise floors, each within its spread), and with ``reference=64`` as well
        by -0.61 on two_moons and -0.28 to +0.08 elsewhere, the PF-ODE still over 1.3 on
        three targets. (Before the He init its net never learned symmetric targets:
        eight_gaussians read 28 noise floors.) On the ladder model, with ``ema=0.999`` and
        annealed Langevin through :func:`clamped`, it puts 24 of 25 trainings within 1.3
        noise floors (``--part expected``, row 17; without the clamp a rare particle runs
        far out along banana's arms): benchmarks/run.py's annealed row trains that way.
    ema: decay of an EMA of the weights (see :func:`genmod.training.fit`); None or 0: off.
        benchmarks/run.py samples its VP model through one (0.999, with 4,000 steps):
        Euler-Maruyama's two trainings over 1.3 noise floors read 1.16 and 1.11 with it.
    fused: Adam's fused kernel (see :func:`genmod.training.fit`): the same maths with other
        float rounding; 10-12% off a step of these nets (benchmarks/results.md).
    time_input: what the time embedding sees (see :class:`ScoreModel`): None (its default),
        ``"t"`` or ``"log_sigma"``; only SDE models tell them apart.
    t_band: ``method="sde"`` only: None (t uniform), or ``(lo, hi, share)``: that share of
        every batch has t uniform on [lo, hi] (see :func:`dsm_loss`), e.g. ``(0.4, 0.8,
        0.75)`` for the VP SDE, where separated modes split and particles choose their mode.
        Off by default: in benchmarks/learned.py (5 seeds, 2,000 steps) it left
        separated_mixture within one sd of uniform t (PF-ODE 4.7 -> 3.0, PC 2.3 -> 3.0, EM
        3.3 -> 3.3 noise floors) and made two_moons and eight_gaussians 2-3x worse.
    t_stratified: ``method="sde"`` only: each batch's t evenly spaced with one random offset
        (see :func:`dsm_loss`) instead of i.i.d. Off by default: in benchmarks/learned.py
        (5 seeds, 3,000 steps, paired) it moved the PF-ODE on two_moons from 1.81 to 1.39
        noise floors (lower on every seed), on the other four targets by -0.21 to +0.13
        (each within its spread), and EM and PC by at most 0.13; at 2,000 steps it did not
        make up for the lost steps.
    reference: ``method="sde"`` or ``"ladder"`` with ``weighting="sigma2"`` only: None
        (the plain DSM target), or r, the size of a reference batch drawn from the data at
        every step for the stable target field of Xu et al. 2023 (see :func:`dsm_loss`).
        Off by default: in benchmarks/learned.py (5 seeds, paired) r = 64 moved the VP
        model's PF-ODE on two_moons from 1.81 to 1.35 noise floors (lower on every seed)
        and on banana, checkerboard and eight_gaussians by -0.16 to -0.23 (within the
        spread), but raised every sampler on separated_mixture by 0.18-0.29; about 7% more
        time per step.
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
    if t_band is not None and method != "sde":
        raise ValueError(f"t_band needs method 'sde' (a diffusion time), got method {method!r}")
    if t_stratified and method != "sde":
        raise ValueError(f"t_stratified needs method 'sde', got method {method!r}")
    if reference is not None and (method not in ("sde", "ladder") or weighting != "sigma2"):
        raise ValueError("reference needs method 'sde' or 'ladder' and weighting 'sigma2'")
    if reference is not None and (
        isinstance(reference, bool) or not (isinstance(reference, int) and reference >= 1)
    ):
        raise ValueError(f"reference must be None or a positive int, got {reference!r}")
    t_band = check_t_band(t_band, an_sde)
    lr = lr or (3e-3 if method == "sde" else 1e-2)
    depth = depth or (4 if method == "sde" else 3)
    edm = isinstance(base, str)
    if edm and base != "edm":
        raise ValueError(f"base must be None, a score_fn(x, t) or 'edm', got {base!r}")
    stats = (x.mean(0), float(x.std(0).pow(2).mean().sqrt())) if edm else None
    model = ScoreModel(
        schedule, hidden, depth, seed=seed, dim=x.shape[1], base=None if edm else base,
        precondition=stats, time_input=time_input,
    )  # fmt: skip
    if method in ("ssm", "esm"):
        fn = ssm_loss if method == "ssm" else esm_loss
        loss = lambda batch, g: fn(model, batch, g)  # noqa: E731
    else:

        def loss(batch, g):
            ref = None if reference is None else x[torch.randint(len(x), (reference,), generator=g)]
            return dsm_loss(
                model, batch, g, weighting, t_band=t_band, t_stratified=t_stratified, reference=ref
            )

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
        ema=ema,
        fused=fused,
        seed=seed,
    )
    return model
