"""2D toy targets by name: ``get``, ``names``, and the public target types.

The registry of the built-in toys (their classes are in :mod:`genmod.toys`); what a
target is (``Target``, ``GaussianMixture``, ``from_log_prob``) is in
:mod:`genmod.densities`, imported here so a notebook needs only ``targets``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from genmod import toys
from genmod.densities import CustomTarget, GaussianMixture, Target, from_log_prob, grid_sample

__all__ = ["CustomTarget", "GaussianMixture", "Target", "from_log_prob", "get", "grid_sample"]
__all__ += ["names"]

_REGISTRY: dict[str, Callable[[], Target]] = {}


def register(name: str):
    """Decorator adding a zero-argument target factory to the registry."""

    def deco(factory):
        _REGISTRY[name] = factory
        return factory

    return deco


def names() -> list[str]:
    """Names of the built-in targets, in gallery order."""
    return list(_REGISTRY)


def get(name: str) -> Target:
    """A built-in target by name; ValueError listing the valid names otherwise."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown target {name!r}; valid names: {', '.join(names())}")
    target = _REGISTRY[name]()
    target.name = name
    return target


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
