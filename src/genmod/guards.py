"""Guards against bad input and silent failure: checks where data enters, and warnings.

Every check raises ``ValueError`` (a bad value) or ``TypeError`` (a bad kind of thing) whose
message names the argument, the value and what is allowed (``mixture_params`` checks a
Gaussian mixture's means, stds and weights; ``grid_log_density`` is the one rule for log
densities on a grid). Samplers call
:func:`warn_chain_trouble` once per run, so chains that never move say so. The limits on
work are module constants, documented here and named in their errors:

- ``MAX_LEAPFROG``: leapfrog steps per HMC step (Stan's largest tree, depth 10, has 1024;
  NUTS's ``max_depth`` is capped at 10 to match, :func:`genmod.nuts.check_depth`);
- ``MAX_LOOP``: Python-level sampler iterations per call (n_steps x n_leapfrog): at the
  ~260 us per HMC leapfrog iteration measured on the shared 2-core machine (4 chains on
  the Gaussian target), 10^6 iterations are about 4 minutes;
- ``MAX_STORED``: numbers a Trajectory stores (frames x particles x d, x n_leapfrog + 1
  with HMC paths): 2 x 10^8 numbers (10^8 positions in 2D) are 0.8 GB in float32, plus
  proposals.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch

MAX_LEAPFROG = 1024
MAX_LOOP = 10**6
MAX_STORED = 2 * 10**8
#: A run warns when more than this share of all proposals diverged.
DIVERGENT_SHARE = 0.5


def check_real(value, name: str) -> float:
    """A finite real number as a float, or an error naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return v


def check_positive(value, name: str, allow_zero: bool = False) -> float:
    """A finite real number > 0 (>= 0 with ``allow_zero``), or an error naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        allowed = "finite and >= 0" if allow_zero else "finite and > 0"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return v


def check_work(
    n_steps: int, n_particles: int, n_leapfrog: int = 1, store_paths: bool = False, dim: int = 2
):
    """Raise a clear error when a sampler run would exceed the documented work limits."""
    if n_leapfrog > MAX_LEAPFROG:
        raise ValueError(
            f"n_leapfrog must be <= {MAX_LEAPFROG} (guards.MAX_LEAPFROG), got {n_leapfrog}; "
            "a longer trajectory rarely helps: lower n_leapfrog or raise step_size"
        )
    if n_steps * n_leapfrog > MAX_LOOP:
        raise ValueError(
            f"n_steps x n_leapfrog = {n_steps} x {n_leapfrog} is above the limit of {MAX_LOOP:.0e} "
            "sampler iterations per call (guards.MAX_LOOP); lower n_steps or n_leapfrog"
        )
    positions = (n_steps + 1) * n_particles * ((n_leapfrog + 1) if store_paths else 1)
    if positions * dim > MAX_STORED:
        raise ValueError(
            f"n_steps x n_chains = {n_steps} x {n_particles} would store {positions:.2e} "
            f"positions of d = {dim} ({positions * dim:.2e} numbers), above the limit of "
            f"{MAX_STORED:.0e} numbers (guards.MAX_STORED); lower n_steps or the number of "
            "chains (or store_paths=False)"
        )


def check_start(x0, n: int, name: str = "x0", dim: int | None = 2) -> torch.Tensor:
    """Start points as an (n, d) float32 tensor: from (n, d) or one (d,) point, all finite.

    dim: the target's d (None: any d >= 1, e.g. ULA on a score alone).
    """
    d = "d" if dim is None else dim
    try:
        x = torch.as_tensor(x0, dtype=torch.float32).detach()
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(
            f"{name} must be an ({n}, {d}) or ({d},) array of numbers, got {x0!r}"
        ) from None
    if x.ndim == 1 and x.shape[0] >= 1 and dim in (None, x.shape[0]):
        x = x.expand(n, x.shape[0])
    if x.ndim != 2 or x.shape[0] != n or x.shape[1] < 1 or dim not in (None, x.shape[1]):
        where = "" if dim is None else f" (the target has d = {dim})"
        raise ValueError(
            f"{name} must have shape ({n}, {d}) or ({d},){where}, got {tuple(x.shape)}"
        )
    check_finite_tensor(x, name)
    return x.clone()


def check_finite_tensor(value: torch.Tensor, name: str) -> None:
    """ValueError naming ``name`` with the count of non-finite entries, if there are any."""
    bad = ~torch.isfinite(value)
    if bad.any():
        raise ValueError(
            f"{name} has {int(bad.sum())} non-finite values (NaN or inf) out of {value.numel()}; "
            "all values must be finite"
        )


def check_field(value, x: torch.Tensor, name: str) -> torch.Tensor:
    """Check one output of a vector field or score: a tensor of x's shape, finite where x is."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must return a torch tensor of shape {tuple(x.shape)}, "
            f"got {type(value).__name__}"
        )
    if value.shape != x.shape:
        raise ValueError(
            f"{name} must return shape {tuple(x.shape)} (the shape of x), got {tuple(value.shape)}"
        )
    bad = ~torch.isfinite(value.detach()) & torch.isfinite(x.detach())
    if bad.any():
        rows = int(bad.any(-1).sum()) if bad.ndim > 1 else int(bad.sum())
        raise ValueError(
            f"{name} returned NaN or inf at {rows} of {x.shape[0]} finite points on its first "
            "call; it must return finite values"
        )
    return value


def first_call_checked(fn: Callable, name: str, x_arg: int = 0) -> Callable:
    """``fn`` whose first call's output is checked with :func:`check_field` against argument
    number ``x_arg``; later calls pass straight through (one check per sampler run)."""
    checked = False

    def wrapped(*args):
        nonlocal checked
        out = fn(*args)
        if not checked:
            check_field(out, args[x_arg], name)
            checked = True
        return out

    if hasattr(fn, "dim"):  # a ScoreModel's or exact score's dimension (sde.model_dim)
        wrapped.dim = fn.dim
    return wrapped


def grid_log_density(logp: torch.Tensor, what: str) -> torch.Tensor:
    """Log densities on a grid, ready for softmax: NaN becomes -inf (zero density), -inf stays
    -inf (``torch.nan_to_num`` would make it -1.8e308, a finite number); +inf anywhere or
    -inf everywhere is a ValueError starting with ``what`` ("cannot sample 'name'", ...)."""
    logp = torch.where(torch.isnan(logp), -math.inf, logp)
    if (logp == math.inf).any():
        raise ValueError(
            f"{what}: its log density is +inf at {int((logp == math.inf).sum())} "
            "grid points; a log density must be finite or -inf"
        )
    if not torch.isfinite(logp).any():
        raise ValueError(f"{what}: its density is zero (or NaN) everywhere on the grid")
    return logp


def warn_chain_trouble(
    method: str, n_divergent: int, n_proposals: int, moved: torch.Tensor
) -> str | None:
    """Warn once when most proposals diverged or no chain ever moved; returns the message.

    n_divergent of n_proposals diverged; moved: (n_chains,) bool, True where the chain left
    its start (both counted by the caller over the steps kept, after any warm-up).
    """
    share = n_divergent / n_proposals if n_proposals else 0.0
    msg = None
    if share > DIVERGENT_SHARE:
        msg = (
            f"{method}: {n_divergent} of {n_proposals} proposals diverged "
            "(non-finite log density, score or position, or an energy error); check the "
            "score or target for NaN, the start x0 for far-away points, or lower step_size"
        )
    elif n_proposals and not bool(moved.any()):
        msg = (
            f"{method}: no chain moved from its start in {n_proposals // moved.numel()} "
            "proposals each (every proposal rejected); lower step_size or check the target's "
            "log density"
        )
    if msg is not None:
        warnings.warn(msg, RuntimeWarning, stacklevel=4)  # the caller of mcmc.sample
    return msg


def divergence_cause(method: str, an_sde, n_steps) -> str:
    """The message of a reverse sampler whose end points are not finite.

    Inputs are checked on entry (x_T, the score's first call, the SDE's parameters), so what
    is left is the integration itself: too few steps for a stiff score, or a score that
    explodes later in time.
    """
    return (
        f"{method} sampler diverged: the end points are not finite although x_T and the first "
        f"score call were; with {an_sde!r} and n_steps={n_steps}, use more n_steps (or a "
        "smaller snr), or check score_fn at small t (it must stay finite down to sde.EPS)"
    )


def _as_float64(value, name: str) -> torch.Tensor:
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be an array of numbers, got {value!r}") from None


def mixture_params(means, stds, weights):
    """Checked (k, d) means, (k,) stds and (k,) unnormalized weights of a mixture.

    means: (k, d) with k, d >= 1, or (d,) for one component; stds: a scalar or (k,);
    weights: (k,) or None. Every value must be finite; stds > 0; weights >= 0 with a
    positive sum.
    """
    m = _as_float64(means, "means")
    m = m[None] if m.ndim == 1 else m
    if m.ndim != 2 or m.shape[1] == 0 or m.shape[0] == 0:
        raise ValueError(
            f"means must have shape (k, d) with k, d >= 1 (or (d,) for one component), "
            f"got {tuple(_as_float64(means, 'means').shape)}"
        )
    k = m.shape[0]
    s = _as_float64(stds, "stds")
    if s.ndim > 1 or (s.ndim == 1 and s.shape[0] not in (1, k)):
        raise ValueError(
            f"stds must be a number or have shape ({k},) for {k} means, got shape {tuple(s.shape)}"
        )
    s = s.reshape(-1).expand(k).clone()
    w = torch.ones(k, dtype=torch.float64) if weights is None else _as_float64(weights, "weights")
    if w.shape != (k,):
        raise ValueError(f"weights must have shape ({k},) for {k} means, got {tuple(w.shape)}")
    for name, v in (("means", m), ("stds", s), ("weights", w)):
        if not torch.isfinite(v).all():
            raise ValueError(f"{name} must be finite, got {_short(v)}")
    if (s <= 0).any():
        raise ValueError(f"stds must be positive (> 0), got {_short(s)}")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be >= 0 with a positive sum, got {_short(w)}")
    return m, s, w


def _short(v: torch.Tensor) -> str:
    """A tensor's values for an error message, cut short when there are many (64-D means)."""
    flat = v.reshape(-1).tolist()
    return str(flat) if len(flat) <= 12 else f"{flat[:12]}[:12] of {len(flat)} values"
