"""Views of parallel tempering and NUTS (genmod.chain_views): data drawn, static forms."""

import numpy as np
import torch

from genmod import chain_views, mcmc, targets


def test_level_marks_swaps_with_both_neighbours():
    t = targets.get("separated_mixture")
    pt = mcmc.sample(t, "pt", 20, 30, step_size=1.0, seed=0, n_temperatures=3)
    sw = pt.extras["swap_accepted"]
    mid = chain_views.level(pt, 1)
    assert torch.equal(mid.xs, pt.extras["xs_all"][:, 1])
    assert torch.equal(mid.extras["swapped"], sw[:, 0] | sw[:, 1])
    assert torch.equal(chain_views.level(pt, 0).extras["swapped"], sw[:, 0])
    assert mid.label.startswith("T = ")


def test_tempering_animation_has_a_static_form():
    t = targets.get("separated_mixture")
    pt = mcmc.sample(t, "pt", 30, 20, step_size=1.0, seed=0, n_temperatures=4)
    anim = chain_views.tempering_animation(pt, t, every=5, quality_points=50)
    fig = anim.static_figure()
    assert len(fig.frames) == 5  # steps 0, 5, 10, 15, 20
    assert chain_views.swap_rate_figure(pt).data[0].y is not None


def test_nuts_doubling_orders_states_in_time():
    """The states of a doubling view lie on one leapfrog path: sorted by time, consecutive
    states are one step apart (|dx| = h |p| roughly): no jump back to the start."""
    t = targets.get("gaussian")
    tr = mcmc.sample(t, "nuts", 8, 6, step_size=0.2, seed=0, record_chain=0)
    k = int(tr.extras["tree_depth"][:, 0].argmax())
    rec = tr.extras["doubling"][k]
    depth = len(rec["direction"])
    pts, deps = chain_views._ordered(rec, depth - 1)
    assert len(pts) == len(rec["states"]) + 1 and (deps == -1).sum() == 1
    gaps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    assert gaps.max() < 3 * np.median(gaps)
    view = chain_views.nuts_doubling(tr, t, iteration=k)
    assert len(view.static_figure().frames) == depth
