"""A RealNVP-style normalizing flow on 2D: affine couplings with bounded scales.

The generative direction (``forward``) maps Gaussian noise z to a sample x through
layers that are each easy to invert and whose Jacobian determinant is cheap:

    coupling (Dinh et al. 2017):  x_b <- x_b * exp(s(x_a)) + t(x_a),  x_a unchanged,

with s bounded by ``scale_max * tanh`` (keeps training stable), the kept coordinate
a alternating between x and y, and a fixed random rotation between couplings (as
Glow's 1x1 convolutions: lets every layer mix both coordinates; log det 0). A final
affine layer undoes the data standardization. The change of variables gives

    log p(x) = log N(z; 0, I) - sum over layers of log |det d(layer)/d(input)|,

so the flow is trained by maximum likelihood on samples (``fit``).

The noise is N(0, I) unless ``base_components`` = k > 0: then it is a learnable mixture of
k Gaussians (weights, means and diagonal scales trained with the couplings; log N(z; 0, I)
above becomes the mixture's log density). A bijection of a one-piece Gaussian has to tear
it to reach separate modes, and leaves some mass on the tears; a mixture lets the noise
come in pieces already (a resampled or mixture base: Stimper et al. 2022). Notebook 02
teaches the N(0, I) form; benchmarks/run.py trains with k = 8 (benchmarks/results.md,
"RealNVP: a mixture of Gaussians as the noise").
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genmod import training
from genmod.arrays import as_points, check_n, generator
from genmod.nets import MLP
from genmod.trajectory import Trajectory


class AffineCoupling(nn.Module):
    """One coupling layer: keep coordinate ``keep``, scale and shift the other one.

    Layers return (output, log|det|) with the log det as an (n, 1) column (None when it is
    0), so the flow adds columns without reshaping; slices, not selects, keep the
    per-layer op count (the cost of a small flow's step) low.
    """

    def __init__(self, keep: int, hidden: int = 64, depth: int = 2, scale_max: float = 2.0):
        super().__init__()
        self.keep, self.scale_max = keep, scale_max
        self.net = MLP(1, 2, hidden=hidden, depth=depth)
        # start at the identity map: zero last layer -> s = t = 0
        nn.init.zeros_(self.net.net[-1].weight)
        nn.init.zeros_(self.net.net[-1].bias)

    def _split(self, x):
        """(kept column, changed column), each (n, 1)."""
        k = self.keep
        return x[:, k : k + 1], x[:, 1 - k : 2 - k]

    def _join(self, a, b):
        return torch.cat([a, b] if self.keep == 0 else [b, a], 1)

    def _st(self, xa):
        st = self.net.net(xa)  # (n, 2): raw log-scale and shift
        c = self.scale_max
        return c * torch.tanh(st[:, :1] / c), st[:, 1:]

    def forward(self, x):
        """z-side -> x-side. Returns (y, log|det dy/dx|) with shapes (n, 2), (n, 1)."""
        a, b = self._split(x)
        s, t = self._st(a)
        return self._join(a, b * torch.exp(s) + t), s

    def inverse(self, y):
        """x-side -> z-side. Returns (x, log|det dx/dy|) with shapes (n, 2), (n, 1)."""
        a, b = self._split(y)
        s, t = self._st(a)
        return self._join(a, (b - t) * torch.exp(-s)), -s


class Rotation(nn.Module):
    """A fixed rotation by ``angle`` (volume preserving: log det 0, returned as None)."""

    def __init__(self, angle: float):
        super().__init__()
        c, s = math.cos(angle), math.sin(angle)
        self.register_buffer("R", torch.tensor([[c, -s], [s, c]]))

    def forward(self, x):
        return x @ self.R.T, None

    def inverse(self, y):
        return y @ self.R, None


class MixtureBase(nn.Module):
    """The flow's noise as a learnable mixture of k diagonal Gaussians in 2D.

    Starts as equal weights, means drawn from N(0, I) with a fixed generator (not the
    training seed: the couplings then start as they do without the mixture) and scales 0.5;
    :func:`fit` then moves the means to k-means centres of the data (:meth:`start_at`).
    """

    def __init__(self, k: int):
        super().__init__()
        g = torch.Generator().manual_seed(1234)
        self.logits = nn.Parameter(torch.zeros(k))
        self.mu = nn.Parameter(torch.randn(k, 2, generator=g))
        self.log_sigma = nn.Parameter(torch.full((k, 2), math.log(0.5)))

    @torch.no_grad()
    def start_at(self, z: torch.Tensor) -> None:
        """Move the component means to the k-means centres of the points z (n, 2).

        The textbook start of a Gaussian mixture's fit (scikit-learn's KMeans, k-means++
        seeding, 4 starts, fixed random state); weights and scales keep their start.
        """
        from sklearn.cluster import KMeans  # imported here: only a mixture fit needs it

        k = len(self.logits)
        pts = as_points(z, "z", finite=True, min_n=k).double().numpy()
        centres = KMeans(n_clusters=k, n_init=4, random_state=0).fit(pts).cluster_centers_
        self.mu.copy_(torch.as_tensor(centres, dtype=self.mu.dtype))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log of the mixture density. z: (n, 2) -> (n,)"""
        log_w = torch.log_softmax(self.logits, 0)
        d = (z[:, None, :] - self.mu) / self.log_sigma.exp()
        comp = -0.5 * (d**2).sum(-1) - self.log_sigma.sum(-1) - math.log(2 * math.pi)
        return torch.logsumexp(log_w + comp, 1)

    def sample(self, n: int, g: torch.Generator) -> torch.Tensor:
        """n draws: a component by its weight, then its Gaussian. -> (n, 2)"""
        with torch.no_grad():
            k = torch.multinomial(torch.softmax(self.logits, 0), n, replacement=True, generator=g)
            return self.mu[k] + self.log_sigma.exp()[k] * torch.randn(n, 2, generator=g)


class Flow(nn.Module):
    """A stack of couplings (and rotations) from the noise to data, then un-standardization.

    Parameters
    ----------
    n_layers: number of affine couplings; hidden, depth: their MLP sizes.
    rotate: put a fixed rotation (angles spread over [0, pi)) between couplings.
    shift, scale: (2,) data mean and std; the last layer is x = shift + scale * h.
    base_components: 0 for N(0, I) noise, k > 0 for a learnable mixture of k Gaussians
        (:class:`MixtureBase`).
    """

    def __init__(
        self,
        n_layers: int = 12,
        hidden: int = 64,
        depth: int = 2,
        rotate: bool = True,
        shift=(0.0, 0.0),
        scale=(1.0, 1.0),
        scale_max: float = 2.0,
        base_components: int = 0,
    ):
        super().__init__()
        n_layers = check_n(n_layers, "n_layers")
        if isinstance(base_components, bool) or not isinstance(base_components, int):
            raise TypeError(f"base_components must be an int, got {base_components!r}")
        if base_components < 0:
            raise ValueError(f"base_components must be 0 (N(0, I)) or more, got {base_components}")
        layers: list[nn.Module] = []
        for k in range(n_layers):
            if rotate and k > 0:
                layers.append(Rotation(math.pi * (0.25 + 0.618 * k)))
            layers.append(AffineCoupling(k % 2, hidden, depth, scale_max))
        self.layers = nn.ModuleList(layers)
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.base = MixtureBase(base_components) if base_components else None

    def forward(self, z: torch.Tensor, return_path: bool = False):
        """Noise to samples. z: (n, 2) -> x: (n, 2) (and the list of per-layer positions)."""
        z = as_points(z, "z").float()
        path = [z]
        for layer in self.layers:
            z, _ = layer(z)
            path.append(z)
        x = self.shift + self.scale * z
        path.append(x)
        return (x, path) if return_path else x

    def inverse(self, x: torch.Tensor, with_logdet: bool = False):
        """Samples to noise. x: (n, 2) -> z: (n, 2) (and log|det dz/dx|: (n,))."""
        x = as_points(x, "x").float()
        h = (x - self.shift) / self.scale
        logdet = -torch.log(self.scale).sum()
        for layer in reversed(self.layers):
            h, ld = layer.inverse(h)
            if ld is not None:
                logdet = logdet + ld
        return (h, logdet.expand(x.shape[0], 1)[:, 0]) if with_logdet else h

    def log_prob(self, x) -> torch.Tensor:
        """Exact log density by change of variables. x: (n, 2) -> (n,)."""
        z, logdet = self.inverse(x, with_logdet=True)
        if self.base is not None:
            return self.base.log_prob(z) + logdet
        return -0.5 * (z**2).sum(1) - math.log(2 * math.pi) + logdet

    def noise(self, n: int, seed: int | None = 0) -> torch.Tensor:
        """n draws of the flow's noise (N(0, I), or its mixture). -> (n, 2)"""
        g = generator(seed)
        if self.base is not None:
            return self.base.sample(check_n(n), g)
        return torch.randn(check_n(n), 2, generator=g)

    def sample(self, n: int, seed: int | None = 0) -> torch.Tensor:
        """n independent samples: fresh noise pushed through the layers. -> (n, 2)"""
        z = self.noise(n, seed)
        with torch.no_grad():
            return self.forward(z)

    def trajectory(self, n: int = 2000, seed: int | None = 0, between: int = 3) -> Trajectory:
        """Noise becoming samples, layer by layer, as a map Trajectory.

        ``between`` interpolated frames between consecutive layers make the animation
        smooth; times are the layer index (0 = noise; the last = samples in data units,
        shown in data units throughout: frame k plots ``shift + scale * h_k``).
        """
        z = self.noise(n, seed)
        with torch.no_grad():
            _, path = self.forward(z, return_path=True)
        # show hidden states in data units, so the picture does not jump at the last layer
        pts = [self.shift + self.scale * h for h in path[:-1]]
        frames, times = [], []
        for k in range(len(pts) - 1):
            for j in range(between + 1):
                s = j / (between + 1)
                frames.append(pts[k] + s * (pts[k + 1] - pts[k]))
                times.append(k + s)
        frames.append(pts[-1])
        times.append(float(len(pts) - 1))
        return Trajectory(
            torch.stack(frames),
            torch.tensor(times),
            kind="map",
            label="RealNVP flow",
            n_evals=n,
            extras={"layers": len(self.layers)},
        )


def fit(
    data,
    *,
    n_steps: int = 1500,
    n_layers: int = 12,
    hidden: int = 64,
    depth: int = 2,
    batch_size: int = 512,
    lr: float = 5e-3,
    warmup: int = 0,
    ema: float | None = None,
    fused: bool = False,
    scale_max: float = 2.0,
    rotate: bool = True,
    base_components: int = 0,
    base_start: str = "kmeans",
    progress: bool = True,
    seed: int = 0,
) -> Flow:
    """Fit a flow to (n, 2) data by maximum likelihood; returns the trained Flow.

    n_layers, hidden, depth, scale_max, rotate, base_components: the :class:`Flow` (k > 0
    Gaussians as its noise train with the couplings); base_start: where the mixture's
    means start, ``"kmeans"`` (the k-means centres of the first 10,000 training points,
    which should come in random order as samples do, pulled back through the untrained
    flow, :meth:`MixtureBase.start_at`) or ``"random"`` (N(0, I) draws of a fixed
    generator); n_steps, batch_size, lr,
    warmup, ema, fused: Adam with warm-up and cosine decay (:func:`genmod.training.fit`).
    The flow's network weights are initialized under ``seed`` and the minibatches are drawn
    with it too (local generators), so the same call gives the same model.
    ``model.history`` is the loss (mean negative log likelihood) per step.
    """
    x = as_points(data, "data", finite=True, min_n=2).float()
    if base_start not in ("kmeans", "random"):
        raise ValueError(f'base_start must be "kmeans" or "random", got {base_start!r}')
    if base_start == "kmeans" and isinstance(base_components, int) and len(x) < base_components:
        raise ValueError(
            f"base_start='kmeans' needs at least base_components={base_components} data points,"
            f" got {len(x)}; pass base_start='random'"
        )
    shift, scale = x.mean(0), x.std(0).clamp(min=1e-6)
    with torch.random.fork_rng():  # the weight initialization, off the global generator
        torch.manual_seed(int(seed))
        model = Flow(
            n_layers,
            hidden,
            depth,
            rotate,
            shift=shift,
            scale=scale,
            scale_max=scale_max,
            base_components=base_components,
        )
    if model.base is not None and base_start == "kmeans":
        with torch.no_grad():  # the couplings start at the identity: z is x standardized
            model.base.start_at(model.inverse(x[:10_000]))
    model.history = training.fit(
        model,
        lambda batch, g: -model.log_prob(batch).mean(),
        x,
        n_steps=n_steps,
        batch_size=batch_size,
        lr=lr,
        warmup=warmup,
        ema=ema,
        fused=fused,
        progress=progress,
        desc="flow",
        seed=seed,
    )
    return model
