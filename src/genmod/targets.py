"""Targets by name: ``get``, ``names``, and the public target types.

The registry of the built-in 2D toys (their classes are in :mod:`genmod.toys`) and of the
d-dimensional families (``mixture_nd``, ``correlated_gaussian_nd``; by name
``get("mixture_d8")``, ``get("mixture_unequal_d64")``, ``get("correlated_gaussian_d32")``).
What a target is (``Target``, ``GaussianMixture``, ``from_log_prob``) is in
:mod:`genmod.densities`, imported here so a notebook needs only ``targets``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import torch

from genmod import toys
from genmod.arrays import check_dim
from genmod.densities import CustomTarget, GaussianMixture, Target, from_log_prob, grid_sample
from genmod.guards import check_real

__all__ = ["CustomTarget", "GaussianMixture", "Target", "from_log_prob", "get", "grid_sample"]
__all__ += ["names", "families", "mixture_nd", "correlated_gaussian_nd"]

_REGISTRY: dict[str, Callable[[], Target]] = {}


def register(name: str):
    """Decorator adding a zero-argument target factory to the registry."""

    def deco(factory):
        _REGISTRY[name] = factory
        return factory

    return deco


def names() -> list[str]:
    """Names of the built-in 2D targets, in gallery order (see :func:`families` for d > 2)."""
    return list(_REGISTRY)


def families() -> list[str]:
    """The d-dimensional families: ``get(f"{family}_d{d}")`` builds one in d dimensions."""
    return list(_FAMILIES)


def get(name: str) -> Target:
    """A built-in target by name (``"banana"``, ``"mixture_d8"``, ...); ValueError otherwise."""
    match = re.fullmatch(r"(\w+)_d(\d+)", str(name))
    if name in _REGISTRY:
        target = _REGISTRY[name]()
    elif match and match.group(1) in _FAMILIES:
        target = _FAMILIES[match.group(1)](int(match.group(2)))
    else:
        nd = ", ".join(f"{f}_d<d>" for f in families())
        raise ValueError(f"unknown target {name!r}; valid names: {', '.join(names())}; {nd}")
    target.name = name
    return target


#: The two mixture styles across dimension: (weights, stds) of the four modes.
STYLES = {
    "equal": ([0.25, 0.25, 0.25, 0.25], [1.0, 1.0, 1.0, 1.0]),
    # held out from tuning: unequal weights and stds (in d dims a mode with std s fills a
    # shell of radius s sqrt(d), so unequal stds separate the modes more as d grows)
    "unequal": ([0.45, 0.3, 0.15, 0.1], [0.8, 0.9, 1.1, 1.2]),
}


def mixture_nd(d: int, style: str = "equal", spread: float = 2.5) -> GaussianMixture:
    """Four isotropic Gaussian modes in d >= 2 dimensions, at (+-spread, +-spread, 0, ..., 0).

    The modes differ in the first two coordinates only, so those are the target's top two
    principal directions: its 2D view. The other d - 2 coordinates are N(0, std_k^2) noise
    that every sampler must still get right. style: a key of :data:`STYLES`.
    """
    d = check_dim(d)
    if d < 2:
        raise ValueError(f"mixture_nd lays its modes in two coordinates: need d >= 2, got {d}")
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; valid: {', '.join(STYLES)}")
    weights, stds = STYLES[style]
    means = torch.zeros(4, d, dtype=torch.float64)
    corners = torch.tensor([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    means[:, :2] = check_real(spread, "spread") * corners
    name = f"mixture_d{d}" if style == "equal" else f"mixture_{style}_d{d}"
    return GaussianMixture(means, stds, weights, name=name)


def correlated_gaussian_nd(d: int, rho: float = 0.9) -> Target:
    """N(0, C) in d dimensions with C_ij = rho^|i - j| (neighbouring coordinates correlate,
    as neighbouring pixels do). d = 2 with rho = 0.9 is ``get("correlated_gaussian")``.

    Its condition number grows to (1 + rho) / (1 - rho) squared (361 at rho = 0.9) with d:
    the narrow direction sets the step of an isotropic sampler, the wide one its travel.
    """
    d = check_dim(d)
    if not -1 < rho < 1:
        raise ValueError(f"rho must be in (-1, 1), got {rho}")
    i = torch.arange(d, dtype=torch.float64)
    cov = float(rho) ** (i[:, None] - i[None, :]).abs()
    target = toys.Gaussian(torch.zeros(d), cov, ((-3.5, 3.5), (-3.5, 3.5)))
    target.name = f"correlated_gaussian_d{d}"
    return target


_FAMILIES: dict[str, Callable[[int], Target]] = {
    "mixture": mixture_nd,
    "mixture_unequal": lambda d: mixture_nd(d, "unequal"),
    "correlated_gaussian": correlated_gaussian_nd,
}


register("gaussian")(lambda: toys.Gaussian([0, 0], torch.eye(2), ((-4, 4), (-4, 4))))
register("correlated_gaussian")(
    lambda: toys.Gaussian([0, 0], [[1.0, 0.9], [0.9, 1.0]], ((-3.5, 3.5), (-3.5, 3.5)))
)
# Song & Ermon (2019), sec. 3.2.2: modes so far apart that the score ignores the weights.
register("separated_mixture")(
    lambda: GaussianMixture([[-5, -5], [5, 5]], 1.0, [0.2, 0.8], bounds=((-9, 9), (-9, 9)))
)
register("eight_gaussians")(
    lambda: GaussianMixture(
        4
        * torch.stack(
            [torch.cos(torch.arange(8) * math.pi / 4), torch.sin(torch.arange(8) * math.pi / 4)], 1
        ),
        0.4,
        bounds=((-6, 6), (-6, 6)),
    )
)
register("banana")(toys.Banana)
register("donut")(toys.Donut)
register("funnel")(toys.Funnel)
register("two_moons")(
    lambda: toys.CurveMixture(toys.moons, (0.0, 2.0), 0.2, 64, ((-3.5, 3.5), (-3.0, 3.0)))
)
register("swiss_roll")(
    lambda: toys.CurveMixture(
        toys.swiss, (1.5 * math.pi, 4.5 * math.pi), 0.25, 96, ((-4.5, 4.5), (-4.5, 4.5))
    )
)
register("checkerboard")(toys.Checkerboard)
register("pinwheel")(toys.Pinwheel)
