"""Issue 19: bad input gets a clear error naming the argument, or a correct answer.

One test per class of bad input in the issue, numbered as there (cases 1-9); each
reproduces the issue's call with today's names (``n_steps=``, ``score_fn(x, t)``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from genmod import (
    diagnostics,
    flow_matching,
    flows,
    gan,
    inverse,
    likelihood,
    mcmc,
    metrics,
    score,
    sde,
    targets,
)
from genmod.arrays import check_n
from genmod.trajectory import Trajectory

NAN = float("nan")
BOX = ((-3, 3), (-3, 3))


def gauss_logp(x):
    return -0.5 * (x**2).sum(1)


def mixture():
    return targets.get("eight_gaussians")


# 1. a score of the wrong shape is not broadcast
@pytest.mark.parametrize("method", sde.METHODS)
def test_1_reverse_samplers_check_the_score_shape(method):
    with pytest.raises(ValueError, match=r"score_fn must return shape \(20, 2\).*got \(20, 1\)"):
        sde.sample(lambda x, t: -x[:, :1], sde.VP(), 20, method=method, n_steps=20)


def test_1_likelihood_and_odes_check_the_score_shape():
    with pytest.raises(ValueError, match="score_fn must return shape"):
        likelihood.log_likelihood(lambda x, t: -x[:, :1], sde.VP(), torch.zeros(3, 2))
    from genmod import odes

    with pytest.raises(ValueError, match="field f"):
        odes.rk4(lambda x, t: x.sum(1), torch.zeros(4, 2), 0.0, 1.0, 3)
    with pytest.raises(TypeError, match="field f"):
        odes.rk45(lambda x, t: x.numpy(), torch.zeros(4, 2), 0.0, 1.0)


# 2. custom densities: NaN regions and +inf are errors that say where
def test_2_nan_region_is_an_error_with_the_fraction_of_the_box():
    fn = lambda x: torch.where(x[:, 0] > 0, NAN, gauss_logp(x))  # noqa: E731
    with pytest.raises(ValueError, match=r"fn returns NaN on 50\.0% of the box"):
        targets.from_log_prob(fn, BOX)
    quarter = lambda x: torch.where((x > 0).all(1), NAN, gauss_logp(x))  # noqa: E731
    with pytest.raises(ValueError, match=r"25\.0% of the box"):
        targets.from_log_prob(quarter, BOX, normalize=False)


def test_2_plus_inf_at_one_grid_point_is_an_error():
    fn = lambda x: torch.where((x.abs() < 0.01).all(1), math.inf, gauss_logp(x))  # noqa: E731
    with pytest.raises(ValueError, match=r"fn returns \+inf at 4 grid points"):
        targets.from_log_prob(fn, BOX)


def test_2_a_valid_custom_density_still_normalizes():
    t = targets.from_log_prob(gauss_logp, ((-6, 6), (-6, 6)))
    # normalized on the grid: log N(0; 0, I) = -log(2 pi), to grid accuracy
    assert float(t.log_prob(torch.zeros(1, 2))) == pytest.approx(-math.log(2 * math.pi), abs=1e-3)


# 3. a zero density is an error, and grids keep -inf as -inf
def test_3_all_zero_density_is_an_error():
    fn = lambda x: torch.full((x.shape[0],), -math.inf)  # noqa: E731
    with pytest.raises(ValueError, match="fn returns -inf everywhere"):
        targets.from_log_prob(fn, BOX, normalize=False)


def test_3_grid_sample_keeps_zero_density_regions_empty():
    half = lambda x: torch.where(x[:, 0] > 0, -math.inf, gauss_logp(x))  # noqa: E731
    x = targets.from_log_prob(half, BOX, normalize=False).sample(2000)
    # -inf on x > 0: every point lies in x <= 0 up to the jitter of half a cell (6 / 512 / 2)
    assert float(x[:, 0].max()) <= 6 / 512 / 2 + 1e-6


class _Zero(targets.Target):
    """A hand-made target whose density is zero everywhere (bypasses from_log_prob's check)."""

    def _log_prob(self, x):
        return torch.full((x.shape[0],), -math.inf)


def test_3_grid_sample_refuses_a_density_that_is_zero_in_the_box():
    with pytest.raises(ValueError, match="zero .or NaN. everywhere"):
        targets.grid_sample(_Zero(), 10)


# 4. GaussianMixture checks every parameter
@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(means=[[NAN, 0.0]], stds=1.0), "means"),
        (dict(means=[[math.inf, 0.0]], stds=1.0), "means"),
        (dict(means=[[0.0, 0.0]], stds=math.inf), "stds"),
        (dict(means=[[0.0, 0.0]], stds=NAN), "stds"),
        (dict(means=[[0.0, 0.0]], stds=-1.0), "stds"),
        (dict(means=[[0.0, 0.0], [1.0, 1.0]], stds=1.0, weights=[NAN, 1.0]), "weights"),
        (dict(means=[[0.0, 0.0], [1.0, 1.0]], stds=1.0, weights=[0.0, 0.0]), "weights"),
    ],
)
def test_4_mixture_rejects_non_finite_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        targets.GaussianMixture(**kwargs)


# 5. chains that never move say so, once per call
def test_5_ula_with_a_nan_score_warns_once():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        nan_score = lambda x: torch.full_like(x, NAN)  # noqa: E731
        mcmc.sample(None, "ula", 8, 50, 0.1, x0=torch.zeros(8, 2), score=nan_score)
    msgs = [str(m.message) for m in w if issubclass(m.category, RuntimeWarning)]
    assert len(msgs) == 1 and "400 of 400 proposals diverged" in msgs[0]


def test_5_mala_far_out_warns_once_and_a_good_run_does_not():
    with pytest.warns(RuntimeWarning, match="200 of 200 proposals diverged"):
        mcmc.sample(targets.get("banana"), "mala", 4, 50, 0.1, x0=torch.tensor([1e6, 1e6]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mcmc.sample(targets.get("gaussian"), "mala", 4, 50, 0.5)


def test_5_chains_that_never_move_warn():
    # RWM with a step of 1e4 on a standard Gaussian: every proposal lands at log p ~ -5e7
    with pytest.warns(RuntimeWarning, match="no chain moved"):
        mcmc.sample(targets.get("gaussian"), "rwm", 4, 20, 1e4, x0=torch.zeros(2))


# 6. bounded work
def test_6_n_leapfrog_and_stored_work_are_bounded():
    t = targets.get("gaussian")
    with pytest.raises(ValueError, match="n_leapfrog must be <= 1024"):
        mcmc.sample(t, "hmc", 4, 3, n_leapfrog=10**7, store_paths=False)
    with pytest.raises(ValueError, match="n_steps x n_chains"):
        mcmc.sample(t, "rwm", 10**4, 10**5)
    with pytest.raises(ValueError, match="n_steps x n_leapfrog"):
        mcmc.sample(t, "hmc", 1, 10**5, n_leapfrog=1000, store_paths=False)
    with pytest.raises(ValueError, match="n_steps x n_chains"):
        sde.sample(sde.exact_score(mixture(), sde.VP()), sde.VP(), 10**5, "em", n_steps=10**4)


def test_6_pairwise_metrics_refuse_above_the_limit_and_block_below(monkeypatch):
    x = torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    y = x[:200] + 0.3
    full = metrics.energy_distance(x, y)
    monkeypatch.setattr(metrics, "_CHUNK", 64)  # blocks of 64 x 64: the same sum
    assert metrics.energy_distance(x, y) == pytest.approx(full, rel=1e-12)
    monkeypatch.setattr(metrics, "MAX_PAIRS", 400**2)
    with pytest.raises(ValueError, match="x and y have 300 and 200 points.*MAX_PAIRS"):
        metrics.energy_distance(x, y)


# 7. diagnostics of degenerate chains
def test_7_burn_in_leaving_fewer_than_4_draws_is_an_error():
    traj = mcmc.sample(targets.get("gaussian"), "rwm", 4, 20)
    with pytest.raises(ValueError, match=r"burn_in must be an integer in \[0, 17\]"):
        diagnostics.summary(traj, burn_in=traj.n_times - 1)
    assert diagnostics.summary(traj, burn_in=traj.n_times - 4)["ess_bulk"] > 0


def test_7_constant_chains_give_documented_values_with_a_warning():
    with pytest.warns(RuntimeWarning, match="never moved"):
        assert diagnostics.ess_geyer(np.ones((4, 100))) == 0.0
    with pytest.warns(RuntimeWarning, match="constant"):
        rho = diagnostics.autocorr(np.ones(100))
    assert np.array_equal(rho, np.ones(100))
    stuck = torch.zeros(30, 4, 2)
    stuck[:, 1] = 1.0  # two chains stuck at different points
    with pytest.warns(RuntimeWarning, match="never moved"):
        s = diagnostics.summary(Trajectory(stuck))
    assert s["ess_bulk"] == 0.0 and s["rhat"] == math.inf and s["evals_per_ess"] == math.inf


def test_7_nan_and_empty_trajectories_are_errors():
    with pytest.raises(ValueError, match="traj.xs has 160 NaN"):
        diagnostics.summary(Trajectory(torch.full((20, 4, 2), NAN)))
    with pytest.raises(ValueError, match="xs must hold at least one time"):
        Trajectory(torch.zeros(0, 3, 2))


# 8. errors give the right cause
@pytest.mark.parametrize(
    "fit", [flows.fit, score.fit, flow_matching.fit, gan.fit], ids=lambda f: f.__module__
)
def test_8_nan_training_data_names_data(fit):
    data = torch.randn(50, 2)
    data[3, 0] = NAN
    with pytest.raises(ValueError, match="data has 1 of 50 points with NaN"):
        fit(data, n_steps=2, progress=False)


def test_8_gan_on_one_sample_names_data():
    with pytest.raises(ValueError, match="data must hold at least 2 points"):
        gan.fit(torch.zeros(1, 2), n_steps=2, progress=False)


def test_8_reverse_sampler_inputs_are_named_not_more_steps():
    an_sde, fn = sde.VP(), sde.exact_score(mixture(), sde.VP())
    with pytest.raises(ValueError, match="x_T has 4 of 4 points with NaN"):
        sde.sample(fn, an_sde, 4, method="em", n_steps=10, x_T=torch.full((4, 2), NAN))
    with pytest.raises(ValueError, match=r"prior_mean must have shape .* got \(3,\)"):
        sde.sample(fn, an_sde, 4, method="ode", n_steps=3, prior_mean=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="prior_mean has 1 non-finite values"):
        sde.sample(fn, an_sde, 4, method="ode", n_steps=3, prior_mean=[NAN, 0.0])
    with pytest.raises(TypeError, match=r"prior_mean must be an \(1, 2\) or \(2,\) array"):
        sde.sample(fn, an_sde, 4, method="ode", n_steps=3, prior_mean="mean")
    with pytest.raises(ValueError, match="give x_T or prior_mean, not both"):
        sde.sample(fn, an_sde, 4, method="ode", n_steps=3, x_T=torch.zeros(4, 2), prior_mean=[0, 0])
    with pytest.raises(ValueError, match="score_fn returned NaN or inf at 4 of 4"):
        sde.sample(lambda x, t: torch.full_like(x, NAN), an_sde, 4, method="em", n_steps=10)
    with pytest.raises(ValueError, match="beta_max must be finite"):
        sde.VP(beta_max=math.inf)
    with pytest.raises(ValueError, match="snr must be finite"):
        sde.sample(fn, an_sde, 4, method="pc", n_steps=10, snr=NAN)
    from genmod import control

    with pytest.raises(ValueError, match="known_x must be a finite number"):
        control.inpaint(fn, an_sde, NAN, 4, n_steps=5)
    with pytest.raises(ValueError, match="score_fn must return shape"):
        control.inpaint(lambda x, t: x[:, :1], an_sde, 0.5, 4, n_steps=5)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: flows.fit(torch.randn(50, 2), n_steps=2, batch_size=0), "batch_size"),
        (lambda: flows.fit(torch.randn(50, 2), n_steps=2, n_layers=0), "n_layers"),
        (lambda: gan.fit(torch.randn(50, 2), n_steps=2, latent_dim=0), "latent_dim"),
        (
            lambda: inverse.sample(targets.get("gaussian"), 10, frames_per_stage=0),
            "frames_per_stage",
        ),
        (lambda: inverse.sample(targets.get("gaussian"), 10, resolution=0), "resolution"),
        (lambda: metrics.noise_floor(targets.get("gaussian"), 100, repeats=0), "repeats"),
        (lambda: score.geometric_sigmas(1.0, 0.1, 0), "n_levels"),
        (lambda: sde.sample(lambda x, t: -x, sde.VP(), 3, "em", n_steps=2.5), "n_steps"),
        (lambda: mcmc.sample(targets.get("gaussian"), "rwm", n_chains=None), "n_chains"),
    ],
)
def test_8_every_count_is_named_in_its_own_message(call, name):
    with pytest.raises(ValueError, match=f"^{name} must be a positive integer"):
        call()


# 9. numpy integers are counts; shapes are named
def test_9_numpy_integers_are_accepted():
    traj = mcmc.sample(targets.get("gaussian"), "rwm", n_chains=np.int64(8), n_steps=np.int32(5))
    assert traj.xs.shape == (6, 8, 2)
    assert check_n(np.uint8(3), "n") == 3 and targets.get("gaussian").sample(np.int64(4)).shape == (
        4,
        2,
    )


def test_9_mixture_shapes_are_named():
    with pytest.raises(ValueError, match=r"stds must be a number or have shape \(2,\)"):
        targets.GaussianMixture([[0.0, 0.0], [1.0, 1.0]], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"means must have shape \(k, d\).*got \(2, 2, 2\)"):
        targets.GaussianMixture(torch.zeros(2, 2, 2), 1.0)
    with pytest.raises(ValueError, match=r"means must have shape \(k, d\).*got \(0, 2\)"):
        targets.GaussianMixture(torch.zeros(0, 2), 1.0)
    # since issue 18 a (d,) mean is one component in d dimensions: a correct answer
    one = targets.GaussianMixture([0.0, 1.0, 2.0], 1.0)
    assert one.dim == 3 and one.means.shape == (1, 3)
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\)"):
        targets.GaussianMixture([[0.0, 0.0], [1.0, 1.0]], 1.0, [1.0])


def test_9_a_density_written_in_numpy_gets_a_clear_error():
    with pytest.raises(TypeError, match="fn must return a torch tensor.*ndarray"):
        targets.from_log_prob(lambda x: -0.5 * (x.numpy() ** 2).sum(1), BOX)


def test_5_annealed_langevin_warns_once_per_call():
    from genmod import langevin

    nan_score = lambda x, t: torch.full_like(x, NAN)  # noqa: E731
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        langevin.annealed(nan_score, [1.0, 0.5, 0.1], torch.zeros(4, 2), n_steps=5, denoise=False)
    msgs = [str(m.message) for m in w if issubclass(m.category, RuntimeWarning)]
    assert len(msgs) == 1 and "at 3 of 3 noise levels" in msgs[0]


def test_3_density_grids_keep_zero_density_at_zero():
    from genmod import density_image, plots

    half = lambda x: torch.where(x[:, 0] > 0, -math.inf, gauss_logp(x))  # noqa: E731
    t = targets.from_log_prob(half, BOX)
    xs, _, z = plots.density_grid(t, 40)
    assert np.all(z[:, xs > 0] == 0) and z.max() == 1.0  # p / max p: zero stays zero
    _, _, lz = plots.density_grid(t, 40, log=True)
    assert np.all(lz[:, xs > 0] == lz.max() - 12)  # the log floor, not -1.8e308
    with pytest.raises(ValueError, match="zero .or NaN. everywhere"):
        plots.density_grid(_Zero(), 10)
    scale = [(0.0, "#000000"), (1.0, "#ffffff")]
    rgb = density_image.colorize(np.array([[NAN, -math.inf, 0.0], [1.0, 2.0, math.inf]]), scale)
    assert rgb[0, :2].max() == 0 and rgb[1, 2].min() == 255 and rgb[1, 1].min() == 255
    spike = lambda x: torch.where(x.abs() < 1e-3, math.inf, -(x**2))  # noqa: E731
    with pytest.raises(ValueError, match=r"inverse CDF on the interval: .* \+inf at 1 grid"):
        inverse.InverseCDF1D(spike, -1.0, 1.0, resolution=999)


# issue 16's entry points: adaptation, NUTS and parallel tempering name what is wrong
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(method="mala", step_size="auto"), r"step_size='auto' .* give warmup > 0"),
        (dict(method="mala", step_size="fast", warmup=5), r"step_size must be .* or 'auto'"),
        (dict(method="ula", step_size="auto", warmup=5), r"'ula' has none: give a number"),
        (dict(method="gibbs"), r"unknown method 'gibbs'; valid methods: rwm, .*nuts, pt"),
        (dict(method="mala", step_size="auto", warmup=5, target_accept=1.2), r"target_accept"),
        (dict(method="hmc", target_accept=0.0), r"target_accept must be in \(0, 1\)"),
        (dict(method="mala", warmup=-1), r"warmup must be an integer >= 0, got -1"),
        (dict(method="pt", temperatures=[1, 3, 2]), r"temperatures must be strictly increasing"),
        (dict(method="pt", temperatures=[2, 3]), r"temperatures must start at 1"),
        (dict(method="pt", n_temperatures=1), r"n_temperatures must be an integer >= 2"),
        (dict(method="pt", max_temperature=NAN), r"max_temperature must be a finite number"),
        (dict(method="nuts", max_depth=11), r"max_depth must be an integer in 1..10"),
        (dict(method="nuts", record_chain=4), r"record_chain must be None or a chain index < 4"),
    ],
)
def test_16_adaptation_nuts_and_tempering_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mcmc.sample(targets.get("gaussian"), n_chains=4, n_steps=5, **kwargs)


def test_16_numpy_counts_and_the_new_methods_warn_like_the_others():
    t = targets.get("gaussian")
    traj = mcmc.sample(t, "nuts", 4, 3, 0.5, warmup=np.int64(2), record_chain=np.int64(1))
    assert traj.warmup == 2 and traj.xs.shape == (6, 4, 2)
    far = torch.tensor([1e6, 1e6])
    for method in ("nuts", "pt"):  # every proposal from (1e6, 1e6) on the banana diverges
        with pytest.warns(RuntimeWarning, match=r"proposals diverged"):
            mcmc.sample(targets.get("banana"), method, 4, 10, 0.1, x0=far)
    with warnings.catch_warnings():  # an adapted run that mixes says nothing
        warnings.simplefilter("error")
        mcmc.sample(t, "pt", 4, 20, "auto", warmup=20)


# issue 18: dimensions are checked against the target, and 2D-only helpers say so
def test_18_dimensions_are_checked():
    from genmod import plots, views

    t64 = targets.mixture_nd(64)
    for make in (lambda: targets.mixture_nd(0), lambda: targets.correlated_gaussian_nd(2.5)):
        with pytest.raises(ValueError, match=r"^d must be an integer >= 1"):
            make()
    with pytest.raises(ValueError, match="spread must be a finite number"):
        targets.mixture_nd(3, spread=NAN)
    with pytest.raises(ValueError, match=r"x0 must have shape \(4, 64\) or \(64,\).*got \(4, 2\)"):
        mcmc.sample(t64, "mala", 4, 5, x0=torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"x must have shape \(n, 64\), got \(3, 2\)"):
        t64.log_prob(torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"samples must have shape \(n, 64\)"):
        metrics.quality(torch.zeros(10, 2), t64)
    with pytest.raises(ValueError, match=r"x_T must have shape \(n, 64\)"):
        fn = sde.exact_score(t64, sde.VP())
        sde.sample(fn, sde.VP(), 4, "em", n_steps=3, x_T=torch.zeros(4, 2))
    with pytest.raises(ValueError, match="the target has d = 64, the view d = 3"):
        views.View.coords(3).target(t64)
    with pytest.raises(ValueError, match="basis has 6 non-finite"):
        views.View(torch.full((3, 2), NAN))
    for helper in (plots.density_grid, lambda t: inverse.sample(t, 10)):
        with pytest.raises(ValueError, match="is 2D only .* has d = 64; use a 2D view"):
            helper(t64)
    with pytest.raises(ValueError, match=r"must have shape \(n, 2\).*a 2D-only helper"):
        plots.density_figure(targets.get("gaussian"), torch.zeros(5, 64))


def test_18_stored_work_counts_every_coordinate():
    # 400 steps x 10^4 chains in 64-D: 2.6e8 numbers, above guards.MAX_STORED (2e8)
    with pytest.raises(ValueError, match=r"positions of d = 64 \(2\.57e\+08 numbers\)"):
        mcmc.sample(targets.mixture_nd(64), "rwm", 10**4, 400)
