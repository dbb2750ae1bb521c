"""A GAN on 2D: a generator maps noise to points, a discriminator tells real from fake.

The two networks play a game (Goodfellow et al. 2014), with the non-saturating loss:

    D maximizes  E log D(x_real) + E log(1 - D(G(z)))
    G maximizes  E log D(G(z))

There is no likelihood anywhere: the generator only ever sees the discriminator's
gradient. Snapshots taken during training (fake points, the discriminator's field on a
grid, the image of a latent grid under G) let a widget replay the game, GAN Lab style.

Known fixes for mode collapse and unstable training, each an option of :func:`fit`:
``grad_penalty`` (R1, Mescheder et al. 2018: penalize |grad D| on real data), ``lr_g``
(two time-scale learning rates, Heusel et al. 2017), ``instance_noise`` (blur real and fake
points with Gaussian noise, Sonderby et al. 2017), ``minibatch_std`` (the discriminator also
sees the spread of the whole batch, Karras et al. 2018: a simplified minibatch
discrimination, Salimans et al. 2016), ``ema`` (average the generator's iterates,
Yazici et al. 2019), ``betas`` (Adam without momentum) and ``activation`` (piecewise-linear
nets); :data:`BENCHMARK_RECIPE` combines what benchmarks/run.py trains with.
"""

from __future__ import annotations

import math
import sys

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from genmod import config, training
from genmod.arrays import Bounds, as_points, check_n, generator, grid
from genmod.nets import MLP
from genmod.trajectory import Trajectory

SNAPSHOT_POINTS = 500  # fake points per training snapshot (one fixed noise batch)
#: how benchmarks/run.py trains its GAN, on top of :func:`fit`'s defaults: leaky ReLU nets,
#: a batch of 1,024 for 9,000 steps, Adam without momentum and an EMA of the generator's
#: weights (about 47 CPU s). On 50,000 points its mean over 5 seeds is 0.91-1.56 noise
#: floors on the benchmark's five targets (1 of the 25 trainings over 3), where the
#: defaults' means are 3.6-9.2 (benchmarks/results.md, "GAN, fourth round" to "GAN,
#: sixth round").
BENCHMARK_RECIPE = {
    "activation": "leaky_relu",
    "batch_size": 1024,
    "n_steps": 9000,
    "betas": (0.0, 0.99),
    "ema": 0.999,
}
FIELD_RESOLUTION = 50  # grid points per axis of the snapshots' discriminator field


class MinibatchStd(nn.Module):
    """A discriminator that also sees the spread of its whole batch (Karras et al. 2018).

    Each point's input gets one more coordinate: the batch's std, averaged over the two
    coordinates. A generator that puts every sample on one mode makes batches that are
    too narrow, and the discriminator can see that from the batch, which it cannot from one
    point. ``forward(x, spread)``: (n, 2) -> (n, 1); ``spread``: None (the batch's own) or a
    fixed value (the discriminator field uses 1, the spread of standardized data).
    """

    def __init__(self, hidden: int, depth: int, activation: str = "silu"):
        super().__init__()
        self.net = MLP(3, 1, hidden=hidden, depth=depth, activation=activation)

    def forward(self, x: torch.Tensor, spread: float | None = None) -> torch.Tensor:
        s = x.std(0).mean() if spread is None else torch.tensor(float(spread))
        return self.net(torch.cat([x, s.to(x.dtype).expand(x.shape[0], 1)], 1))


class GAN(nn.Module):
    """Generator ``G: (n, latent_dim) -> (n, 2)`` and discriminator ``D: (n, 2) -> (n,)`` logits.

    minibatch_std: D is a :class:`MinibatchStd` (it sees the batch's spread too).
    activation: both nets' hidden nonlinearity (:data:`genmod.nets.ACTIVATIONS`).
    """

    def __init__(
        self, latent_dim: int = 2, hidden: int = 64, depth: int = 2, shift=(0, 0), scale=(1, 1),
        minibatch_std: bool = False, activation: str = "silu",
    ):  # fmt: skip
        super().__init__()
        self.latent_dim = check_n(latent_dim, "latent_dim")
        self.G = MLP(latent_dim, 2, hidden=hidden, depth=depth, activation=activation)
        self.D = (
            MinibatchStd(hidden, depth, activation)
            if minibatch_std
            else MLP(2, 1, hidden, depth, activation=activation)
        )
        # both nets work in standardized data units; shift/scale map back
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.snapshots: list[dict] = []
        self.history: dict[str, list[float]] = {"d_loss": [], "g_loss": []}
        self.bounds: Bounds | None = None

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Latent noise (n, latent_dim) -> points (n, 2) in data units."""
        return self.shift + self.scale * self.G(z)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Discriminator logits for (n, 2) points in data units -> (n,).

        With ``minibatch_std``, each point is judged as if in a batch as spread as the
        data (spread 1 in standardized units), not by the spread of ``x``.
        """
        z = (x - self.shift) / self.scale
        return (self.D(z, 1.0) if isinstance(self.D, MinibatchStd) else self.D(z))[:, 0]

    def sample(self, n: int, seed: int | None = 0) -> torch.Tensor:
        """n independent samples: one generator pass per noise draw. -> (n, 2)"""
        z = torch.randn(check_n(n), self.latent_dim, generator=generator(seed))
        with torch.no_grad():
            return self.generate(z)

    def discriminator_field(self, x) -> torch.Tensor:
        """D(x) in (0, 1): the discriminator's belief that x is real. (n, 2) -> (n,)"""
        with torch.no_grad():
            return torch.sigmoid(self.logits(as_points(x).float()))

    def trajectory(self) -> Trajectory:
        """The generator's output for one fixed noise batch at every training snapshot.

        A map Trajectory whose time is the training step (not a sampling time): use it to
        replay learning with ``widgets.animate``.
        """
        if not self.snapshots:
            raise ValueError("no snapshots: fit with snapshot_every > 0")
        return Trajectory(
            torch.stack([s["fake"] for s in self.snapshots]),
            torch.tensor([s["step"] for s in self.snapshots]),
            kind="map",
            label="GAN during training",
        )


def latent_grid(latent_dim: int, lines: int = 9, points: int = 40, extent: float = 2.5):
    """Lines of a square grid in the first two latent coordinates (the others 0).

    Returns (2 * lines, points, latent_dim): horizontal lines, then vertical ones
    ((1, points, 1) for a 1D latent).
    """
    t = torch.linspace(-extent, extent, points)
    c = torch.linspace(-extent, extent, lines)
    if latent_dim == 1:  # a 1D latent space is one line
        return t[None, :, None]
    z = torch.zeros(2 * lines, points, latent_dim)
    z[:lines, :, 0], z[:lines, :, 1] = t[None, :], c[:, None]
    z[lines:, :, 0], z[lines:, :, 1] = c[:, None], t[None, :]
    return z


def _snapshot(model: GAN, step: int, z_fixed, z_grid, field_pts, res):
    with torch.no_grad():
        lines = model.generate(z_grid.reshape(-1, model.latent_dim)).reshape(*z_grid.shape[:2], 2)
        return {
            "step": step,
            "fake": model.generate(z_fixed),
            "field": torch.sigmoid(model.logits(field_pts)).reshape(res, res),
            "grid": lines,
        }


def _data_box(data: torch.Tensor) -> Bounds:
    lo, hi = data.min(0).values, data.max(0).values
    pad = 0.15 * (hi - lo)
    return (
        (float(lo[0] - pad[0]), float(hi[0] + pad[0])),
        (float(lo[1] - pad[1]), float(hi[1] + pad[1])),
    )


def _d_loss(model: GAN, real, fake, grad_penalty: float) -> torch.Tensor:
    """Discriminator loss, real -> 1 and fake -> 0, plus the R1 penalty on real points."""
    real.requires_grad_(grad_penalty > 0)
    d_real, d_fake = model.D(real)[:, 0], model.D(fake)[:, 0]
    loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    if grad_penalty:
        (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
        loss = loss + grad_penalty / 2 * (grad**2).sum(1).mean()
    return loss


def _adam_step(opt, loss) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def _check_rates(lr, lr_g, grad_penalty, instance_noise, ema, betas) -> tuple[float, float]:
    """Raise on a bad rate; return betas as two floats (torch's Adam refuses (0, 0.99))."""
    lrs_ok = all(v > 0 and math.isfinite(v) for v in (lr, lr_g or lr))
    betas_ok = len(betas) == 2 and all(0 <= b < 1 for b in betas)
    if not lrs_ok or grad_penalty < 0 or instance_noise < 0 or not 0 <= ema < 1 or not betas_ok:
        raise ValueError(
            "lr must be > 0, grad_penalty and instance_noise >= 0, 0 <= ema < 1, "
            "betas two numbers in [0, 1)"
        )
    return float(betas[0]), float(betas[1])


@config.fitting_threads  # as training.fit: the thread count of the small nets, restored after
def fit(  # noqa: PLR0913 (one keyword per remedy of the game, each taught or measured)
    data,
    *,
    n_steps: int = 3000,
    latent_dim: int = 2,
    hidden: int = 64,
    depth: int = 2,
    batch_size: int = 256,
    lr: float = 1e-3,
    lr_g: float | None = None,
    grad_penalty: float = 0.1,
    instance_noise: float = 0.0,
    minibatch_std: bool = True,
    ema: float = 0.0,
    betas: tuple[float, float] = (0.5, 0.999),
    activation: str = "silu",
    snapshot_every: int = 100,
    bounds: Bounds | None = None,
    progress: bool = True,
    seed: int = 0,
) -> GAN:
    """Train a GAN on (n, 2) data with alternating discriminator / generator Adam steps.

    Parameters
    ----------
    lr: Adam learning rate of the discriminator, and of the generator unless ``lr_g`` is set
        (a generator much faster than its critic chases the critic's current favourite
        spot: a recipe for mode collapse).
    grad_penalty: weight gamma of the R1 penalty gamma/2 * E|grad_x D(x_real)|^2 (0: off).
    instance_noise: std (in standardized units) of Gaussian noise added to real and fake
        points seen by D, annealed linearly to 0 over training (0: off).
    minibatch_std: give D the batch's spread as an extra input (:class:`MinibatchStd`).
        The defaults (minibatch std and R1 with gamma = 0.1) are the remedy of issue 17: on
        separated_mixture the plain game (``minibatch_std=False, grad_penalty=0``) lost the
        small mode (weight 0.006 +- 0.005 of 0.2, 3 seeds), the remedy keeps it (0.214 +-
        0.004); see benchmarks/results.md. Notebook 03 switches both off to show the plain
        game and its two classic precautions on their own.
    ema: decay of an exponential moving average of the generator's weights, which replace
        its last iterate at the end (0: off): the game's iterates circle the equilibrium,
        and their average sits nearer to it. The snapshots show the raw iterates.
    betas: Adam's (beta1, beta2) for both nets. (0.5, 0.999) is the DCGAN choice (Radford
        et al. 2016); StyleGAN2 (Karras et al. 2020) uses (0, 0.99) with R1: no momentum,
        so a step follows the current discriminator, not the one of the last steps.
    activation: both nets' hidden nonlinearity, "silu" (smooth) or "leaky_relu" (piecewise
        linear, as most GANs since DCGAN): a piecewise-linear generator can fold its noise
        along sharp creases, as square edges and gaps between modes need
        (:data:`BENCHMARK_RECIPE`).
    snapshot_every: store a snapshot every that many steps (0: none); ``bounds`` is the
        box for the discriminator field (default: the data range, padded).
    seed: initialization, minibatches and noise (local generators).

    Returns the trained GAN with ``.history`` (losses per step) and ``.snapshots``.
    """
    data = as_points(data, "data", finite=True, min_n=2).float()
    steps, batch_size = check_n(n_steps, "n_steps"), check_n(batch_size, "batch_size")
    betas = _check_rates(lr, lr_g, grad_penalty, instance_noise, ema, tuple(betas))
    shift, scale = data.mean(0), data.std(0).clamp(min=1e-6)
    with torch.random.fork_rng():  # the weight initialization, off the global generator
        torch.manual_seed(int(seed))
        model = GAN(latent_dim, hidden, depth, shift, scale, minibatch_std, activation)
    model.bounds = bounds or _data_box(data)
    real_all = (data - shift) / scale
    g = generator(seed)
    z_fixed = torch.randn(SNAPSHOT_POINTS, latent_dim, generator=g)
    _, _, field_pts, _ = grid(model.bounds, FIELD_RESOLUTION, dtype=torch.float32)
    snap = lambda step: _snapshot(  # noqa: E731
        model, step, z_fixed, latent_grid(latent_dim), field_pts, FIELD_RESOLUTION
    )
    # Why not genmod.training.fit: that loop optimizes one loss with one optimizer, and a GAN
    # alternates two optimizers on two opposing losses. Same ingredients (Adam, a seeded
    # generator, tqdm), written out here.
    opt_d = torch.optim.Adam(model.D.parameters(), lr=lr, betas=betas)
    opt_g = torch.optim.Adam(model.G.parameters(), lr=lr_g or lr, betas=betas)
    # cosine-decayed learning rates (as in training.fit): the game's iterates circle the
    # equilibrium, and shrinking steps let the last one settle near it
    scheds = [torch.optim.lr_scheduler.CosineAnnealingLR(o, steps) for o in (opt_d, opt_g)]
    average = training.WeightAverage(model.G.parameters(), ema) if ema else None
    blur = lambda x, s: x + s * torch.randn(x.shape, generator=g) if s else x  # noqa: E731
    bar = tqdm(range(steps), desc="GAN", disable=not progress, mininterval=0.5, file=sys.stdout)
    for step in bar:
        if snapshot_every and step % snapshot_every == 0:
            model.snapshots.append(snap(step))
        noise = instance_noise * (1 - step / steps)
        real = real_all[torch.randint(data.shape[0], (batch_size,), generator=g)]
        fake = model.G(torch.randn(batch_size, latent_dim, generator=g)).detach()
        real = blur(real, noise)
        d_loss = _d_loss(model, real, blur(fake, noise), grad_penalty)
        _adam_step(opt_d, d_loss)
        # generator step (non-saturating): make D call the fakes real
        fake = blur(model.G(torch.randn(batch_size, latent_dim, generator=g)), noise)
        g_loss = F.softplus(-model.D(fake)[:, 0]).mean()
        _adam_step(opt_g, g_loss)
        if average is not None:
            average.update(step)
        for sched in scheds:
            sched.step()
        if not (torch.isfinite(d_loss) and torch.isfinite(g_loss)):
            raise FloatingPointError(
                f"GAN loss became non-finite at step {step} although the data are finite; lower lr"
            )
        model.history["d_loss"].append(d_loss.item())
        model.history["g_loss"].append(g_loss.item())
        if step % 100 == 0:
            bar.set_postfix(d=f"{d_loss.item():.3f}", g=f"{g_loss.item():.3f}", refresh=False)
    if snapshot_every:
        model.snapshots.append(snap(steps))
    if average is not None:
        average.copy_to()
    model.eval()
    return model


def modes_covered(x, means, radius: float, min_share: float = 0.02) -> int:
    """How many of the k modes hold at least ``min_share`` of the points within ``radius``.

    x: (n, 2) samples; means: (k, 2). A collapsed generator covers few modes.
    """
    x = as_points(x).double()
    d = torch.cdist(x, torch.as_tensor(means, dtype=torch.float64))
    near, k = d.min(1)
    share = torch.bincount(k[near < radius], minlength=d.shape[1]).double() / x.shape[0]
    return int((share >= min_share).sum())
