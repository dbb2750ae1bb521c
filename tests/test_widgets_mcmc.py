"""The figures and the step-size widget of notebook 01 build and react."""

import warnings

import numpy as np

from genmod import diagnostics, mcmc, targets
from genmod import widgets_mcmc as WM


def test_figures_build_with_finite_data():
    t = targets.get("banana")
    a = mcmc.sample(t, "rwm", n_chains=8, n_steps=50, step_size=1.0, x0=t.sample(8))
    b = mcmc.sample(t, "mala", n_chains=8, n_steps=50, step_size=0.5, x0=t.sample(8))
    fig = WM.trace_acf_figure({"RWM": a, "MALA": b}, max_lag=20)
    assert len(fig.data) == 4 and all(np.isfinite(np.asarray(d.y)).all() for d in fig.data)
    times = [0, 10, 50]
    q = diagnostics.quality_over_time(a, t, times)
    assert q.shape == (3,) and np.isfinite(q).all()
    fig = WM.burn_in_figure(times, q, diagnostics.running_acceptance(a))
    assert len(fig.data) == 2  # distance and acceptance (the y = 1 line is a shape)
    assert len(WM.cost_figure({"RWM": 50.0, "HMC": 20.0}).data) == 1


def test_step_size_explorer_reacts():
    w = WM.step_size_explorer(n_chains=20, n_steps=40)
    pick, eps = w.children[0].children
    fig, readout = w.children[1], w.children[2]
    before = readout.value
    y_before = np.asarray(fig.data[2].y).copy()
    eps.value = 3.0
    assert readout.value != before and "acceptance" in readout.value
    assert not np.array_equal(np.asarray(fig.data[2].y), y_before)
    pick.value = "hmc"
    assert np.isfinite(np.asarray(fig.data[1].x)).all()


def test_step_size_explorer_at_the_slider_extremes():
    # issue 19: every sampler at the smallest and largest step size gives finite traces and
    # a readout; trouble (divergent or stuck chains) is reported in the readout, not on stderr
    w = WM.step_size_explorer(n_chains=20, n_steps=40)
    pick, eps = w.children[0].children
    fig, readout = w.children[1], w.children[2]
    for method in ("rwm", "mala", "hmc"):
        pick.value = method
        for value in (10**eps.min, 10**eps.max):
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                eps.value = value
            assert "acceptance" in readout.value and "nan" not in readout.value
            assert np.isfinite(np.asarray(fig.data[1].x)).all()
    # HMC with step 10 on a correlated Gaussian: leapfrog is unstable, most proposals diverge
    assert "warning" in readout.value and "diverged" in readout.value
