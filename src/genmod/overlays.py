"""How each kind of sampler draws its moves: one overlay function per sampler.

An animation panel shows, for a few highlighted chains, the move that led to the
current frame. What that move looks like depends on the sampler, and all of it is here:

- :func:`rwm` (random-walk Metropolis): the Gaussian proposal N(x, eps^2 I) as 1- and
  2-sigma circles around x, the proposal arrow x -> y, green if accepted, red if not;
- :func:`mala` (MALA, and ULA which accepts every move): the drift arrow
  x -> x + (eps^2 / 2) score(x), circles of N(x + drift, eps^2 I), the proposal arrow;
- :func:`hmc`: the initial momentum's arrow (where it alone would go in half the path),
  the leapfrog path x -> y, the proposal arrow;
- :func:`accept_reject`: any other chain with proposals and accept flags.

Maps (flows, SDEs, inverse transform) have no proposals: no overlay, only particles.
Each function takes the highlighted chains' :class:`Moves` and a step index s and
returns ``{layer: (m, 2) NaN-broken path}`` for the layers in :data:`LAYERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from genmod import drawing
from genmod.trajectory import Trajectory

#: the overlay layers every chain panel with proposals has (each one plotly trace)
LAYERS = ("circles", "drift", "leapfrog", "accepted", "rejected")
NO_POINTS = np.zeros((0, 2), dtype=np.float32)


@dataclass
class Moves:
    """The moves of the highlighted chains, read once from a chain Trajectory.

    x: (n_steps + 1, m, 2) positions; proposals: (n_steps, m, 2); accepted: (n_steps, m) bool;
    step_size: eps or None; drift: (n_steps, m, 2) (MALA, ULA) or None; momenta:
    (n_steps, m, 2) (HMC) or None; paths: (n_steps, n_leapfrog + 1, m, 2) (HMC) or None.
    """

    x: np.ndarray
    proposals: np.ndarray
    accepted: np.ndarray
    step_size: float | None = None
    drift: np.ndarray | None = None
    momenta: np.ndarray | None = None
    paths: np.ndarray | None = None
    n_leapfrog: int = 1

    @classmethod
    def of(cls, traj: Trajectory, chains: list[int]) -> Moves | None:
        """The moves of ``chains`` (indices), or None without proposals (maps, thinned chains).

        Reads ``traj.extras`` as :func:`genmod.mcmc.sample` writes it; a missing or
        misshapen key is skipped (that part of the overlay is not drawn).
        """
        if traj.proposals is None or not chains:
            return None
        n_steps, n = len(traj) - 1, traj.n_particles
        acc = traj.accepted
        acc = np.ones((n_steps, n), bool) if acc is None else acc.detach().cpu().numpy()
        eps = traj.extras.get("step_size")
        nl = traj.extras.get("n_leapfrog")
        nl = nl if isinstance(nl, int) and nl > 0 else 1
        full = (n_steps, n, 2)
        paths = _extra(traj, "paths", (n_steps, nl + 1, n, 2))
        drift, momenta = _extra(traj, "drift", full), _extra(traj, "momenta", full)
        return cls(
            x=_np(traj.xs)[:, chains],
            proposals=_np(traj.proposals)[:, chains],
            accepted=acc[:, chains],
            step_size=float(eps) if isinstance(eps, int | float) and eps > 0 else None,
            drift=None if drift is None else drift[:, chains],
            momenta=None if momenta is None else momenta[:, chains],
            paths=None if paths is None else paths[:, :, chains],
            n_leapfrog=nl,
        )


def accept_reject(m: Moves, s: int) -> dict[str, np.ndarray]:
    """Proposal arrows x -> y of step s: green (accepted) and red (rejected)."""
    x, y, acc = m.x[s], m.proposals[s], m.accepted[s]
    return {
        "accepted": drawing.arrows(x[acc], y[acc]),
        "rejected": drawing.arrows(x[~acc], y[~acc]),
    }


def rwm(m: Moves, s: int) -> dict[str, np.ndarray]:
    """Random-walk Metropolis: y ~ N(x, eps^2 I), 1- and 2-sigma circles around x."""
    out = accept_reject(m, s)
    if m.step_size is not None:
        out["circles"] = drawing.ellipses(m.x[s], m.step_size)
    return out


def mala(m: Moves, s: int) -> dict[str, np.ndarray]:
    """MALA / ULA: y ~ N(x + drift, eps^2 I), drift = (eps^2 / 2) score(x) drawn as an arrow."""
    if m.drift is None:
        return rwm(m, s)
    out = accept_reject(m, s)
    center = m.x[s] + m.drift[s]
    out["drift"] = drawing.arrows(m.x[s], center)
    if m.step_size is not None:
        out["circles"] = drawing.ellipses(center, m.step_size)
    return out


def hmc(m: Moves, s: int) -> dict[str, np.ndarray]:
    """HMC: the leapfrog path from x to the proposal, and the initial momentum's arrow.

    The arrow ends where the momentum alone would carry x in half the path,
    x + (eps * n_leapfrog / 2) p (unit mass), to show the direction the path starts in.
    """
    out = accept_reject(m, s)
    if m.momenta is not None and m.step_size is not None:
        half = 0.5 * m.step_size * m.n_leapfrog
        out["drift"] = drawing.arrows(m.x[s], m.x[s] + half * m.momenta[s])
    if m.paths is not None:
        out["leapfrog"] = drawing.polylines(m.paths[s])
    return out


#: sampler name (``traj.extras["method"]``) -> overlay; anything else: accept_reject
OVERLAYS: dict[str, Callable[[Moves, int], dict[str, np.ndarray]]] = {
    "rwm": rwm,
    "mala": mala,
    "ula": mala,
    "hmc": hmc,
}


def overlay_for(traj: Trajectory) -> Callable[[Moves, int], dict[str, np.ndarray]]:
    """The overlay of a trajectory's sampler (``extras["method"]``), accept/reject by default."""
    return OVERLAYS.get(traj.extras.get("method"), accept_reject)


def _np(t) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def _extra(traj: Trajectory, key: str, shape: tuple) -> np.ndarray | None:
    """traj.extras[key] as float32 numpy if present with the expected shape, else None."""
    v = traj.extras.get(key)
    if v is None:
        return None
    try:
        v = _np(v) if isinstance(v, torch.Tensor) else np.asarray(v, dtype=np.float32)
    except (TypeError, ValueError):
        return None
    return v if v.shape == shape else None
