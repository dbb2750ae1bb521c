"""Beyond 2D: targets, samplers, models and likelihoods in d dimensions, and clear errors
where only 2D makes sense.

Statistical checks use fixed seeds; each threshold states its margin. Quality claims
average metrics.quality over three sampler seeds (one exact draw alone scatters from
0.3x to 2.5x its noise floor at n = 2,000).
"""

import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from genmod import (
    control,
    digits,
    flow_matching,
    inverse,
    likelihood,
    mcmc,
    metrics,
    plots,
    score,
    score_metrics,
    sde,
    targets,
)
from genmod.densities import grid_sample
from genmod.trajectory import Trajectory

DIMS = [2, 8, 32, 64]
VP = sde.VP()


def mean_quality(fn, target, seeds=(0, 1, 2)):
    return sum(metrics.quality(fn(s), target, seed=s) for s in seeds) / len(seeds)


def scipy_mixture_logpdf(t, x):
    """Reference: log sum_k w_k N(x; m_k, s_k^2 I) with scipy, one component at a time."""
    comps = [
        math.log(w) + multivariate_normal(m.numpy(), s**2 * np.eye(t.dim)).logpdf(x)
        for w, m, s in zip(t.weights.tolist(), t.means, t.stds.tolist())
    ]
    return np.logaddexp.reduce(np.stack(comps), axis=0)


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("family", ["mixture", "mixture_unequal", "correlated_gaussian"])
def test_registry_builds_exact_targets_in_d_dims(family, d):
    t = targets.get(f"{family}_d{d}")
    assert t.dim == d and t.name == f"{family}_d{d}" and len(t.box) == d
    x = t.sample(50, seed=3)
    assert x.shape == (50, d) and torch.equal(x, t.sample(50, seed=3))
    lp = t.log_prob(x.double()).numpy()
    if family == "correlated_gaussian":
        ref = multivariate_normal(np.zeros(d), t.cov.numpy()).logpdf(x.double().numpy())
    else:
        ref = scipy_mixture_logpdf(t, x.double().numpy())
    assert np.allclose(lp, ref, atol=1e-8)
    # the closed-form score is the gradient of log p (autograd reference)
    xg = x.double().requires_grad_(True)
    (auto,) = torch.autograd.grad(t.log_prob(xg).sum(), xg)
    assert torch.allclose(t.score(x.double()), auto, atol=1e-8)


def test_unequal_style_has_unequal_weights_and_stds():
    t = targets.mixture_nd(8, "unequal")
    assert len(set(t.weights.tolist())) == 4 and len(set(t.stds.tolist())) == 4
    # mode weights of exact samples: within 0.03 of the weights (3.4 binomial sd at n=2000)
    w = score_metrics.mode_weights(t.sample(2000, seed=0), t)
    assert torch.allclose(w, t.weights, atol=0.03)


def test_correlated_gaussian_covariance_and_2d_case():
    t = targets.correlated_gaussian_nd(8, rho=0.9)
    x = t.sample(20000, seed=0).double()
    # sample covariance entries have sd <= sqrt(2 / n) = 0.01: a 0.05 margin is 5 sd
    assert torch.allclose(torch.cov(x.T), t.cov, atol=0.05)
    two, ref = targets.correlated_gaussian_nd(2), targets.get("correlated_gaussian")
    y = ref.sample(10, seed=1)
    assert torch.allclose(two.log_prob(y), ref.log_prob(y))


@pytest.mark.parametrize("d", [8, 64])
def test_perturbed_mixture_is_the_vp_marginal(d):
    t = targets.get(f"mixture_unequal_d{d}")
    x0 = t.sample(4000, seed=0).double()
    alpha, sigma = (float(v) for v in VP.marginal(0.3))
    xt = alpha * x0 + sigma * torch.randn(x0.shape, generator=torch.Generator().manual_seed(1))
    marg = sde.marginal_target(t, VP, 0.3)
    # second moment per coordinate of the noised draw vs the marginal's exact one; the
    # estimate has relative sd about sqrt(2 / (n d)): 0.03 is > 5 sd at d = 8
    exact = (marg.weights * (marg.stds**2 * d + (marg.means**2).sum(1))).sum() / d
    assert float((xt**2).mean()) == pytest.approx(float(exact), rel=0.03)
    # exact_score is the autograd score of that marginal
    xg = xt[:20].clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(marg.log_prob(xg).sum(), xg)
    fn = sde.exact_score(t, VP)
    assert fn.dim == d and torch.allclose(fn(xt[:20], 0.3), auto, atol=1e-8)


@pytest.mark.parametrize("d", DIMS)
def test_noise_floor_and_quality_run_in_d_dims(d):
    t = targets.get(f"mixture_d{d}")
    floor = metrics.noise_floor(t, 500, repeats=3)
    assert floor.mean > 0
    # exact samples are at the floor: quality below 2.5 (the scatter of one draw)
    assert metrics.quality(t.sample(500, seed=7), t, seed=7) < 2.5


@pytest.mark.slow
@pytest.mark.parametrize("method", ["mala", "hmc"])
def test_mcmc_runs_unchanged_in_8d(method):
    t = targets.get("mixture_d8")
    opts = {"n_leapfrog": 5} if method == "hmc" else {}
    step = 0.6 if method == "mala" else 0.35

    def run(s):
        tr = mcmc.sample(t, method, n_chains=2000, n_steps=60, step_size=step, seed=s, **opts)
        assert tr.xs.shape == (61, 2000, 8) and tr.proposals.shape == (60, 2000, 8)
        return tr.final()

    # from the uniform box over all 8 coordinates to within 2x the floor (measured:
    # MALA 1.2x, HMC 1.0x; the chains start 3x too wide)
    assert mean_quality(run, t) < 2.0


def test_mcmc_start_and_width_errors():
    t = targets.get("mixture_d8")
    tr = mcmc.sample(t, "mala", n_chains=4, n_steps=2, x0=torch.zeros(8))
    assert tr.xs.shape == (3, 4, 8)
    with pytest.raises(ValueError, match=r"x0 must have shape \(4, 8\)"):
        mcmc.sample(t, "mala", n_chains=4, n_steps=2, x0=torch.zeros(4, 2))
    # ULA with a score alone takes its dimension from x0
    tr = mcmc.sample(None, "ula", n_chains=3, n_steps=2, x0=torch.zeros(3, 5), score=lambda x: -x)
    assert tr.xs.shape == (3, 3, 5)


@pytest.mark.slow
def test_vp_ode_with_exact_score_reaches_the_floor_in_32d():
    t = targets.get("mixture_unequal_d32")
    fn = sde.exact_score(t, VP)

    def draw(s):
        tr = sde.sample(fn, VP, 1000, method="ode", n_steps=40, seed=s)
        assert tr.xs.shape == (41, 1000, 32)
        return tr.final()

    # measured 1.1x; 2x leaves room for the seeds' scatter
    assert mean_quality(draw, t) < 2.0
    w = score_metrics.mode_weights(draw(0), t)
    assert torch.allclose(w, t.weights, atol=0.045)  # 3 binomial sd at n = 1000


def test_exact_likelihood_in_8d_matches_the_density():
    t = targets.get("mixture_unequal_d8")
    x = t.sample(30, seed=2)
    ll = likelihood.log_likelihood(sde.exact_score(t, VP), VP, x, rtol=1e-6, atol=1e-6)
    # exact divergence (8 autograd passes) and a tight RK45: within 0.02 nats
    assert ll.x_T.shape == (30, 8)
    assert torch.allclose(ll.logp, t.log_prob(x), atol=0.02)


def test_learned_models_take_their_dimension_from_the_data():
    data = targets.get("correlated_gaussian_d8").sample(512, seed=0)
    m = score.fit(data, an_sde=VP, n_steps=20, hidden=32, progress=False, seed=0)
    assert m.dim == 8 and m(data[:5], 0.5).shape == (5, 8)
    assert sde.sample(m, VP, 7, method="em", n_steps=5).xs.shape == (6, 7, 8)
    fm = flow_matching.fit(data, n_steps=20, hidden=32, progress=False, seed=0)
    assert fm.dim == 8 and fm.trajectory(6, n_steps=3).xs.shape == (4, 6, 8)
    with pytest.raises(ValueError, match=r"x0 must have shape \(n, 8\)"):
        fm.trajectory(6, n_steps=3, x0=torch.zeros(6, 2))
    with pytest.raises(ValueError, match="does not match"):
        sde.sample(m, VP, 7, n_steps=5, dim=4)


def test_inpainting_in_8d_keeps_the_known_and_draws_the_rest():
    t = targets.get("mixture_d8")
    known = torch.tensor([2.5, 2.5, 0, 0, 0, 0, 0, 0.0])
    mask = torch.tensor([True, True] + [False] * 6)
    tr = control.inpaint_mask(sde.exact_score(t, VP), VP, known, mask, n=1000, n_steps=200)
    x = tr.final()
    assert tr.xs.shape == (201, 1000, 8)
    assert torch.allclose(x[:, :2], known[:2].expand(1000, 2), atol=0.05)  # alpha_EPS ~ 1
    # given the first two coordinates, the rest are N(0, 1): std within 0.1 (the estimate's
    # sd is 0.01 at n = 6000) and mean within 0.1 (sd 0.013)
    rest = x[:, 2:]
    assert abs(float(rest.std()) - 1) < 0.1 and abs(float(rest.mean())) < 0.1


def test_classifier_guidance_with_exact_logits_is_the_exact_guided_score():
    t = targets.get("mixture_unequal_d8")

    def logits(x, time):  # log p_t(y = k | x): responsibilities of the VP marginal
        return sde.marginal_target(t, VP, float(time)).component_log_probs(x)

    fn = control.classifier_guided(sde.exact_score(t, VP), logits, label=2, strength=2.0)
    ref = control.guided_score(t, VP, label=2, strength=2.0)
    x = t.sample(50, seed=4).double()
    assert fn.dim == 8 and torch.allclose(fn(x, 0.4), ref(x, 0.4), atol=1e-8)


def test_classifier_guidance_takes_one_label_per_particle():
    t = targets.get("mixture_unequal_d8")

    def logits(x, time):
        return sde.marginal_target(t, VP, float(time)).component_log_probs(x)

    x = t.sample(6, seed=4).double()
    labels = [0, 0, 2, 2, 1, 1]
    both = control.classifier_guided(sde.exact_score(t, VP), logits, labels, strength=2.0)
    for k in (0, 1, 2):  # rows asking for class k get the score guided to class k alone
        one = control.classifier_guided(sde.exact_score(t, VP), logits, k, strength=2.0)
        rows = [i for i, y in enumerate(labels) if y == k]
        assert torch.allclose(both(x, 0.4)[rows], one(x, 0.4)[rows], atol=1e-12)
    with pytest.raises(ValueError, match="6 labels for 4 particles"):
        both(x[:4], 0.4)
    with pytest.raises(ValueError, match="integer or a 1-D sequence"):
        control.classifier_guided(sde.exact_score(t, VP), logits, 1.5)


@pytest.mark.slow
def test_noisy_classifier_learns_the_modes():
    t = targets.get("mixture_d8")
    x = t.sample(4000, seed=0)
    y = t.responsibilities(x).argmax(1)
    clf = control.fit_classifier(x, y, an_sde=VP, n_steps=300, hidden=64, progress=False)
    xt = t.sample(1000, seed=9)
    acc = float((clf(xt, sde.EPS).argmax(1) == t.responsibilities(xt).argmax(1)).float().mean())
    # modes are 5 std apart: the Bayes accuracy is 0.99; 0.9 leaves room for 300 steps
    assert acc > 0.9


def test_bad_dimensions_raise_clear_errors():
    for bad in ("mixture_d0", "correlated_gaussian_d0"):
        with pytest.raises(ValueError, match="integer >= 1"):
            targets.get(bad)
    with pytest.raises(ValueError, match="need d >= 2"):
        targets.mixture_nd(1)
    with pytest.raises(ValueError, match="integer >= 1"):
        score.ScoreModel(VP, dim=0)
    t = targets.get("mixture_d64")
    with pytest.raises(ValueError, match=r"must have shape \(n, 64\)"):
        t.log_prob(torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"samples must have shape \(n, 64\)"):
        metrics.quality(torch.zeros(10, 8), t)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 8\)"):
        likelihood.log_likelihood(sde.exact_score(targets.get("mixture_d8"), VP), VP, [[0.0]])
    with pytest.raises(ValueError, match="does not match"):
        sde.sample(sde.exact_score(t, VP), VP, 5, dim=8)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: inverse.InverseCDF2D(t),
        lambda t: inverse.sample(t, 10),
        lambda t: plots.density_grid(t),
        lambda t: grid_sample(t, 10),
        lambda t: score_metrics.low_density_share(t),
    ],
    ids=["inverse_cdf", "inverse_sample", "heatmap", "grid_sample", "low_density_share"],
)
def test_2d_only_helpers_refuse_a_64d_target(call):
    with pytest.raises(ValueError, match="2D only"):
        call(targets.get("mixture_d64"))


def test_2d_only_point_helpers_name_the_problem():
    with pytest.raises(ValueError, match="2D-only helper"):
        plots.points_trace(torch.zeros(5, 64))


def test_trajectories_hold_d_dimensional_points():
    tr = Trajectory(torch.zeros(4, 3, 64), kind="map")
    assert tr.dim == 64 and tr.final().shape == (3, 64)
    with pytest.raises(ValueError, match="proposals must have shape"):
        Trajectory(torch.zeros(4, 3, 8), proposals=torch.zeros(3, 3, 2))


def test_digits_load_scale_and_split():
    data = digits.load(n_heldout=297, seed=0)
    assert data.train.shape == (1500, 64) and data.heldout.shape == (297, 64)
    assert float(data.train.min()) >= -1 and float(data.train.max()) < 1
    assert sorted(set(data.heldout_labels.tolist())) == list(range(10))
    # bin centres map back to the integer pixels exactly
    centres = digits.load(seed=0, dequantize=False)
    imgs = digits.to_images(centres.train)
    assert torch.allclose(imgs, imgs.round(), atol=1e-4) and imgs.shape == (1500, 8, 8)
    # a uniform density on [-1, 1]^64 costs log2(17) bits per pixel
    bpd = digits.bits_per_dim(torch.tensor([-64 * math.log(2.0)]))
    assert float(bpd) == pytest.approx(math.log2(17))
    assert int(digits.top_half().sum()) == 32 and bool(digits.top_half()[:32].all())


def test_digit_baseline_and_judge():
    data = digits.load()
    base = digits.gaussian_baseline(data.train)
    bpd = float(digits.bits_per_dim(base.log_prob(data.heldout.double())).mean())
    # measured 2.99 bits: a Gaussian beats the uniform 4.09 by over a bit per pixel
    assert bpd < 3.2
    judge = digits.Judge(data.train, data.train_labels)
    assert judge.accuracy(data.heldout, data.heldout_labels) > 0.93  # measured 0.966
    conf = judge.confidence(data.heldout)
    assert conf.shape == (297,) and bool((conf >= 0.1).all() & (conf <= 1).all())


def test_exact_score_of_a_full_covariance_gaussian():
    t = targets.correlated_gaussian_nd(8)
    fn = sde.exact_score(t, VP)
    x = t.sample(20, seed=5).double()
    for time in (0.05, 0.5):
        a, s = (float(v) for v in VP.marginal(time))
        cov = a**2 * t.cov + s**2 * torch.eye(8, dtype=torch.float64)
        ref = -torch.linalg.solve(cov, x.T).T  # the mean is 0
        assert torch.allclose(fn(x, time), ref, atol=1e-10)
    # per-point times (training) give the same as one time at a time
    tt = torch.tensor([0.05] * 10 + [0.5] * 10)
    both = torch.cat([fn(x[:10], 0.05), fn(x[10:], 0.5)])
    assert torch.allclose(fn(x, tt), both, atol=1e-12)


def test_score_model_with_a_base_corrects_it():
    t = targets.correlated_gaussian_nd(8)
    base = sde.exact_score(t, VP)
    m = score.ScoreModel(VP, hidden=16, depth=1, dim=8, base=base)
    x, time = t.sample(6, seed=1), 0.3
    sigma = float(VP.marginal(time)[1])
    net_only = m.net(x, torch.full((6,), time)) / sigma
    assert torch.allclose(m(x, time), net_only + base(x, time), atol=1e-5)
    with pytest.raises(ValueError, match="conditional schedule"):
        score.ScoreModel(score.Level(0.1), dim=8, base=base)(x)


def test_likelihood_from_a_later_time_is_the_noised_density():
    t = targets.get("mixture_unequal_d8")
    marg = sde.marginal_target(t, VP, 0.3)
    x = marg.sample(20, seed=2)
    ll = likelihood.log_likelihood(sde.exact_score(t, VP), VP, x, rtol=1e-6, atol=1e-6, t0=0.3)
    assert torch.allclose(ll.logp, marg.log_prob(x), atol=0.02)
    with pytest.raises(ValueError, match="t0 must be in"):
        likelihood.log_likelihood(sde.exact_score(t, VP), VP, x, t0=1.0)


def test_inpainting_one_known_vector_per_sample_and_gaussian_conditional_mean():
    t = targets.correlated_gaussian_nd(2, rho=0.9)
    known = torch.tensor([[1.0, 0.0], [-1.0, 0.0]]).repeat(300, 1)  # (600, 2)
    mask = torch.tensor([True, False])
    x = control.inpaint_mask(sde.exact_score(t, VP), VP, known, mask, 600, 200).final()
    # y | x ~ N(0.9 x, 0.19); the replacement method is approximate and undershoots a strong
    # correlation (measured means +-0.68): each sample follows its own known x, mean 0.5 to 1
    assert 0.5 < float(x[0::2, 1].mean()) < 1.0 and -1.0 < float(x[1::2, 1].mean()) < -0.5
    assert torch.equal(x[:, 0].sign(), known[:, 0].sign())
    cm = digits.conditional_mean(t, known[:2], mask)
    assert torch.allclose(cm, torch.tensor([[1.0, 0.9], [-1.0, -0.9]]), atol=1e-6)
    with pytest.raises(ValueError, match="known must have shape"):
        control.inpaint_mask(sde.exact_score(t, VP), VP, torch.zeros(3, 2), mask, 600, 2)


def test_views_project_points_trajectories_and_exact_marginals():
    from genmod import views

    t = targets.get("mixture_unequal_d8")
    x = t.sample(3000, seed=0)
    pv = views.View.principal(x)
    # the modes differ in coordinates 0 and 1 only: the principal plane is theirs (within 2%)
    assert float(pv.basis[:2].pow(2).sum()) / 2 > 0.98
    cv = views.View.coords(8, 0, 1)
    assert torch.equal(cv.points(x), x[:, :2])
    marg = cv.target(t)  # exactly the 2D marginal: the first two coordinates of the means
    assert marg.dim == 2 and torch.allclose(marg.means, t.means[:, :2])
    # a Gaussian's view has covariance U^T C U
    g = targets.correlated_gaussian_nd(8)
    assert torch.allclose(views.View.coords(8, 2, 3).target(g).cov, g.cov[2:4, 2:4])
    tr = mcmc.sample(t, "hmc", n_chains=5, n_steps=3, step_size=0.2, n_leapfrog=2)
    seen = cv.trajectory(tr)
    assert seen.xs.shape == (4, 5, 2) and seen.extras["paths"].shape == (3, 3, 5, 2)
    assert torch.equal(seen.xs, tr.xs[..., :2])
    with pytest.raises(ValueError, match="orthonormal"):
        views.View(torch.ones(8, 2))
    with pytest.raises(ValueError, match="two different coordinates"):
        views.View.coords(8, 1, 1)
    with pytest.raises(ValueError, match="d = 64"):
        cv.target(targets.get("mixture_d64"))


def test_digit_grid_figure():
    from genmod import figures_digits

    data = digits.load()
    fig = figures_digits.grid({"real": data.heldout[:5], "more": data.train[:3]}, title="t")
    assert len(fig.data) == 8 and fig.data[0].z.shape == (8, 8)
    with pytest.raises(ValueError, match="at least one"):
        figures_digits.grid({})
