"""genmod: explorable notes on how generative models produce samples.

Two ways to sample, one picture: every sampler moves a cloud of particles
through time and returns a :class:`~genmod.trajectory.Trajectory`.
Submodules are imported on first use, so ``import genmod`` stays light.
"""

import importlib

from genmod.claims import ClaimError, check, sig
from genmod.config import setup

__version__ = "0.1.0"

_SUBMODULES = (
    "arrays",
    "claims",
    "config",
    "densities",
    "targets",
    "toys",
    "trajectory",
    "metrics",
    "plots",
    "widgets",
    "mcmc",
    "potentials",
    "diagnostics",
    "inverse",
    "nets",
    "training",
    "flows",
    "gan",
    "score",
    "score_metrics",
    "langevin",
    "sde",
    "likelihood",
    "odes",
    "control",
    "digits",
    "views",
    "flow_matching",
    "drawing",
    "overlays",
    "readouts",
    "scene",
    "options",
    "trajectory_panel",
    "panel_layout",
    "render_live",
    "render_static",
    "static_animation",
    "explorer",
    "density_image",
    "figures_maps",
    "figures_mcmc",
    "figures_scores",
    "figures_sde",
    "showdown",
    "staged",
    "widgets_maps",
    "widgets_mcmc",
    "widgets_scores",
    "widgets_sde",
)
__all__ = [*_SUBMODULES, "setup", "check", "sig", "ClaimError"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"genmod.{name}")
    raise AttributeError(f"module 'genmod' has no attribute {name!r}")
