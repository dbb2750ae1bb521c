"""The animation widget through its Python API (no browser): build, frames, controls, readouts.

The static (kernel-free) form of every widget is tested in test_static_forms.py."""

import math
import re

import numpy as np
import pytest
import torch

from genmod import drawing, metrics, readouts, targets, widgets
from genmod.trajectory import Trajectory


@pytest.fixture(scope="module")
def gauss():
    return targets.get("gaussian")


def _chain(n_steps=30, n=80, seed=0, extras=True):
    """A hand-built random-walk chain with proposals, accept flags and mcmc-style extras."""
    g = torch.Generator().manual_seed(seed)
    xs = torch.empty(n_steps + 1, n, 2)
    xs[0] = 3 * torch.rand(n, 2, generator=g) - 1.5
    props = torch.empty(n_steps, n, 2)
    acc = torch.rand(n_steps, n, generator=g) < 0.6
    for k in range(n_steps):
        props[k] = xs[k] + 0.5 * torch.randn(n, 2, generator=g)
        xs[k + 1] = torch.where(acc[k, :, None], props[k], xs[k])
    ex = {"method": "rwm", "step_size": 0.5} if extras else {}
    return Trajectory(xs, kind="chain", label="RWM", proposals=props, accepted=acc, extras=ex)


def _map(n_times=6, n=300, seed=1):
    """Noise shrinking onto N(0, I) samples: a map trajectory (fewer frames than the chain)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=g)
    s = torch.linspace(3, 1, n_times)
    return Trajectory(s[:, None, None] * z, torch.linspace(0, 1, n_times), kind="map", label="map")


def _xy(fig, name, panel):
    tr = fig.data[panel.idx[name]]
    return np.asarray(tr.x, dtype=float), np.asarray(tr.y, dtype=float)


def test_one_trajectory_builds_and_renders_finite_first_and_last(gauss):
    traj = _chain()
    anim = widgets.animate(traj, target=gauss)
    assert len(anim.figures) == 1 and anim.slider.max == len(traj) - 1
    panel, fig = anim.panels[0], anim.figures[0]
    for k in (0, anim.slider.max):
        anim.slider.value = k
        x, y = _xy(fig, "particles", panel)
        assert x.shape == (traj.n_particles,) and np.isfinite(x).all() and np.isfinite(y).all()
        np.testing.assert_allclose(np.c_[x, y], traj.xs[k].numpy(), rtol=0, atol=1e-6)
        hx = np.asarray(fig.data[panel.idx["hist_x"]].y)
        assert np.isfinite(hx).all() and hx.sum() > 0


def test_two_trajectories_share_one_slider_and_move(gauss):
    chain, mp = _chain(n_steps=30), _map(n_times=6)
    anim = widgets.animate(chain, mp, target=gauss)
    assert len(anim.figures) == 2 and anim.slider.max == 30
    before = [_xy(f, "particles", p)[0].copy() for f, p in zip(anim.figures, anim.panels)]
    anim.slider.value = 30
    after = [_xy(f, "particles", p)[0] for f, p in zip(anim.figures, anim.panels)]
    for b, a in zip(before, after):
        assert not np.allclose(a, b)
    # proportional alignment: the map's last frame is shown at the shared last frame
    np.testing.assert_allclose(after[1], mp.xs[-1, :, 0].numpy(), atol=1e-6)
    anim.slider.value = 15
    assert anim.frame_index(mp, 15) == 2 and anim.frame_index(mp, 18) == 3
    step = widgets.animate(chain, mp, target=gauss, align="step")
    assert step.frame_index(mp, 15) == 5 and step.frame_index(chain, 15) == 15


def test_proposals_drawn_green_and_red_for_highlighted_chains(gauss):
    traj = _chain()
    anim = widgets.animate(traj, target=gauss, highlight=3)
    p, fig = anim.panels[0], anim.figures[0]
    anim.slider.value = 0
    assert len(_xy(fig, "accepted", p)[0]) == 0  # no move before the first step
    anim.slider.value = 5
    acc = traj.accepted[4, :3].numpy()
    # an arrow is 6 path points (shaft, two head strokes, break)
    assert len(_xy(fig, "accepted", p)[0]) == 6 * acc.sum()
    assert len(_xy(fig, "rejected", p)[0]) == 6 * (~acc).sum()
    rings = fig.data[p.idx["highlight"]].marker.line.color
    assert list(rings) == ["#2ca02c" if a else "#d62728" for a in acc]
    ex, ey = _xy(fig, "circles", p)
    ok = np.isfinite(ex)
    # 1-sigma circle around the old position of chain 0 has radius step_size
    r = np.hypot(ex[ok][:33] - traj.xs[4, 0, 0].item(), ey[ok][:33] - traj.xs[4, 0, 1].item())
    np.testing.assert_allclose(r, 0.5, rtol=1e-4)


def test_mcmc_extras_mala_drift_and_hmc_leapfrog(gauss):
    from genmod import mcmc

    mala = mcmc.sample(gauss, "mala", n_chains=20, n_steps=5, step_size=0.5, seed=0)
    anim = widgets.animate(mala, target=gauss, readout=False)
    anim.show_frame(3)
    assert len(_xy(anim.figures[0], "drift", anim.panels[0])[0]) == 6 * 3
    hmc = mcmc.sample(gauss, "hmc", n_chains=20, n_steps=5, step_size=0.2, seed=0, n_leapfrog=4)
    anim = widgets.animate(hmc, target=gauss, readout=False, highlight=[0, 2])
    anim.show_frame(2)
    lx, ly = _xy(anim.figures[0], "leapfrog", anim.panels[0])
    assert len(lx) == 2 * (4 + 1 + 1)  # two paths of 5 points and a break each
    np.testing.assert_allclose(lx[:5], hmc.extras["paths"][1, :, 0, 0].numpy(), atol=1e-6)
    assert len(_xy(anim.figures[0], "circles", anim.panels[0])[0]) == 0  # no Gaussian proposal


def test_missing_extras_and_map_degrade_gracefully(gauss):
    anim = widgets.animate(_chain(extras=False), _map())  # no target, no extras
    anim.show_frame(10)
    p = anim.panels[0]
    assert len(_xy(anim.figures[0], "circles", p)[0]) == 0
    arrows = [len(_xy(anim.figures[0], name, p)[0]) for name in ("accepted", "rejected")]
    assert sum(arrows) == 6 * 3  # accept flags still drawn without extras
    assert "circles" not in anim.panels[1].idx and anim.exact_toggle is None
    thinned = _chain().thin(3)  # proposals dropped by thin
    widgets.animate(thinned, target=gauss).show_frame(4)


def test_step_reset_speed_and_clamping(gauss):
    anim = widgets.animate(_chain(n_steps=10), target=gauss, interval_ms=5, readout=False)
    assert anim.play.interval == 60
    anim.speed.value = 300
    assert anim.play.interval == 300
    anim.step_button.click()
    anim.step_button.click()
    assert anim.slider.value == 2 and anim.play.value == 2
    anim.slider.value = 10
    anim.step_button.click()
    assert anim.slider.value == 10
    anim.reset_button.click()
    assert anim.slider.value == 0 and anim.play.value == 0 and not anim.play.playing
    anim.show_frame(10_000)  # clamped, no error, controls follow
    assert anim.slider.value == 10 and anim.play.value == 10
    anim.show_frame(-5)
    assert anim.slider.value == 0
    anim.exact_toggle.value = True
    assert anim.figures[0].data[anim.panels[0].idx["exact"]].visible is True


def test_nan_positions_not_drawn_and_max_points(gauss):
    traj = _chain(n=50)
    traj.xs[3, :5] = float("nan")
    anim = widgets.animate(traj, target=gauss, max_points=30, readout=False)
    anim.show_frame(3)
    x, _ = _xy(anim.figures[0], "particles", anim.panels[0])
    assert len(x) == 25 and np.isfinite(x).all()
    anim.show_frame(4)
    assert len(_xy(anim.figures[0], "particles", anim.panels[0])[0]) == 30


def test_readouts_quality_and_independent_samples(gauss):
    chain, mp = _chain(n_steps=40, n=100), _map(n_times=5, n=300)
    anim = widgets.animate(chain, mp, target=gauss, quality_points=200)
    anim.slider.value = 40
    text = anim.readouts[0].value
    assert "distance / noise floor" in text and "independent samples" in text
    assert "acceptance so far" in text and "title=" in text
    assert "independent samples <b>300</b>" in anim.readouts[1].value
    anim.slider.value = 20
    assert "independent samples <b>0</b>" in anim.readouts[1].value
    # the quality readout equals metrics.quality on the same particles
    p = anim.panels[1].readout
    j = anim.frame_index(mp, 40)
    q = metrics.quality(mp.xs[j, :200], gauss, seed=0)
    assert math.isclose(p.quality(j), q, rel_tol=1e-6)
    assert j in p.q_cache


def test_independent_samples_iid_sticky_and_unmixed():
    g = torch.Generator().manual_seed(0)
    iid = torch.randn(201, 40, 2, generator=g).numpy()
    n, tau, rhat = readouts.independent_samples(iid, 200, burn_in=0)
    assert 0.7 * 40 * 200 < n <= 40 * 200 and 0.9 < tau < 1.4 and rhat < 1.05
    sticky = np.repeat(iid[::10], 10, axis=0)[:201]  # each value held 10 steps: tau ~ 10
    n2, tau2, _ = readouts.independent_samples(sticky, 200, burn_in=0)
    assert 6 < tau2 < 15 and n2 < n / 5
    # default burn-in drops the first half: 100 kept steps
    assert readouts.independent_samples(iid, 200).count <= 40 * 100
    n3, tau3, _ = readouts.independent_samples(iid, 5)  # too few kept steps
    assert n3 == 0 and math.isnan(tau3)
    apart = iid + np.where(np.arange(40) < 20, -5.0, 5.0)[None, :, None]  # two unmixed groups
    n4, _, rhat4 = readouts.independent_samples(apart, 200)
    assert n4 == 0 and rhat4 > 1.1
    # one chain: ESS still counts; diagnostics.rhat needs >= 4 chains, so R-hat is NaN, unchecked
    one = readouts.independent_samples(iid[:, :1], 200, burn_in=0)
    assert 100 < one.count <= 200 and math.isnan(one.rhat)


def test_independent_samples_readout_on_ar1_chains_with_a_known_ess(gauss):
    """AR(1) chains with coefficient phi: ESS = n (1 - phi) / (1 + phi) (n draws in all).

    64 chains x 500 kept steps, phi = 0.5: ESS = 10,667. The readout (burn_in=0 keeps the
    steps 1..500 after the start) equals diagnostics.ess on the same draws (positions
    xs[1:]), and both are within 10% of the formula: over 8 seed pairs they scattered by
    2.3% (0.96-1.04), so 10% is about 4 standard deviations.
    """
    from genmod import diagnostics

    phi, n_chains, n_kept = 0.5, 64, 500
    x = np.stack([diagnostics.ar1(phi, n_chains, n_kept + 1, seed=s) for s in (10, 11)])
    traj = Trajectory(torch.from_numpy(x).permute(2, 1, 0).float(), kind="chain", label="AR(1)")
    want = n_chains * n_kept * (1 - phi) / (1 + phi)
    ess = float(diagnostics.ess(traj, burn_in=1).min())
    assert abs(ess / want - 1) < 0.10, (ess, want)
    anim = widgets.animate(traj, target=gauss, burn_in=0)
    anim.slider.value = n_kept
    shown = float(
        re.search(r"independent samples <b>([\d,]+)</b>", anim.readouts[0].value)[1].replace(
            ",", ""
        )
    )
    assert abs(shown - ess) <= 0.5  # printed to the unit
    assert abs(shown / want - 1) < 0.10
    # halfway, half the draws: about half the independent samples
    anim.slider.value = n_kept // 2
    half = float(diagnostics.ess(Trajectory(traj.xs[: n_kept // 2 + 1]), burn_in=1).min())
    assert abs(anim.panels[0].readout.independent(n_kept // 2) - half) < 1e-6 * half
    assert abs(half / (want / 2) - 1) < 0.15


def test_marginals_integrate_to_one(gauss):
    d = drawing.density_layers(gauss, resolution=100)
    h = d["x"][1] - d["x"][0]
    assert abs(d["px"].sum() * h - 1) < 1e-4 and abs(d["py"].sum() * h - 1) < 1e-4
    # standard normal marginal at 0 is 1 / sqrt(2 pi)
    assert abs(np.interp(0, d["x"], d["px"]) - 1 / math.sqrt(2 * math.pi)) < 0.01


def test_bad_input_gives_clear_errors(gauss):
    with pytest.raises(ValueError, match="at least one trajectory"):
        widgets.animate()
    with pytest.raises(TypeError, match="expected Trajectory"):
        widgets.animate(torch.zeros(3, 4, 2))
    with pytest.raises(TypeError, match="Target"):
        widgets.animate(_chain(), target="gaussian")
    with pytest.raises(ValueError, match="align"):
        widgets.animate(_chain(), align="bogus")
    with pytest.raises(ValueError, match="max_points"):
        widgets.animate(_chain(), max_points=0)
    # particles far outside the target's bounds are fine
    far = Trajectory(torch.full((3, 10, 2), 50.0), kind="map")
    widgets.animate(far, target=gauss).show_frame(2)


def test_target_explorer_still_builds():
    box = widgets.target_explorer(names=["gaussian", "banana"], n=200)
    pick = box.children[0].children[0]
    pick.value = "banana"
    assert "noise floor" in box.children[2].value


def test_blank_view_report_swaps_in_a_fresh_figure(gauss):
    anim = widgets.animate(_chain(n_steps=5), target=gauss, readout=False)
    old = anim.figures[0]
    # a browser view that drew before the figure's state arrived reports no traces
    old._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": -1}
    new = anim.figures[0]
    assert new is not old and anim.columns[0].children[0] is new and len(new.data) == len(old.data)
    anim.show_frame(3)
    x, _ = _xy(new, "particles", anim.panels[0])
    assert len(x) == 80


def test_target_explorer_recovers_from_a_blank_view():
    box = widgets.target_explorer(names=["gaussian", "banana"], n=200)
    old = box.children[1]
    old._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": -1}
    new = box.children[1]
    assert new is not old and len(new.data) == 2
    box.children[0].children[0].value = "banana"
    assert new.layout.title.text.startswith("banana")
