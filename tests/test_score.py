"""Score models and (annealed) Langevin: closed-form checks, then the claims of notebooks 04-05.

Trained models are built once per module (fixtures); every run has a fixed seed. Margins are
stated next to each threshold (measured values in comments, torch 2.13 CPU, one thread).
"""

import math

import pytest
import torch

from genmod import langevin, mcmc, metrics, score, sde, targets
from genmod import score_metrics as sm
from genmod.arrays import uniform_box
from genmod.trajectory import Trajectory

N = 2000  # particles for every sampler test (weight standard error ~0.009 at w = 0.2)


class Fixed(torch.nn.Module):
    """A 'model' that returns a given score function (for loss tests)."""

    def __init__(self, fn, sigma=None):
        super().__init__()
        self.fn, self.schedule = fn, None if sigma is None else score.Level(sigma)

    def _net(self, x, t):  # what a ScoreModel's net predicts: sigma * score
        return self.schedule.sigma * self.fn(x)

    def forward(self, x, t=None):
        return self.fn(x)


# ---------- closed-form and API checks (fast) ----------


def test_geometric_sigmas():
    s = score.geometric_sigmas(10.0, 0.1, 5)
    assert s.shape == (5,)
    assert math.isclose(float(s[0]), 10.0, rel_tol=1e-6)
    assert math.isclose(float(s[-1]), 0.1, rel_tol=1e-6)
    ratios = s[:-1] / s[1:]
    assert torch.allclose(ratios, ratios[0].expand(4), rtol=1e-5)
    for bad in [(0.1, 10.0, 5), (10.0, 0.0, 5), (10.0, 0.1, 0)]:
        with pytest.raises(ValueError):
            score.geometric_sigmas(*bad)


def test_max_pairwise_distance():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    assert score.max_pairwise_distance(x) == pytest.approx(5.0)


def test_dsm_loss_is_minimized_by_the_exact_perturbed_score():
    # E|sigma s(x~) + z|^2 is smallest at s = grad log p_sigma (Vincent 2011)
    t = targets.get("eight_gaussians")
    sigma = 0.5
    p = t.perturbed(sigma)
    x = t.sample(20000, seed=3)
    losses = {}
    for a in (0.8, 1.0, 1.25):
        model = Fixed(lambda y, a=a: a * p.score(y).float(), sigma)
        g = torch.Generator().manual_seed(0)
        losses[a] = float(score.dsm_loss(model, x, g))
    assert losses[1.0] < losses[0.8] and losses[1.0] < losses[1.25]


def test_ssm_loss_closed_form_on_a_gaussian():
    # s(x) = -a x on N(0, I): E[v^T grad(v^T s) + (v^T s)^2 / 2] = -2a + a^2, minimal at a = 1
    x = targets.get("gaussian").sample(50000, seed=0)
    for a in (0.5, 1.0, 2.0):
        g = torch.Generator().manual_seed(1)
        loss = float(score.ssm_loss(Fixed(lambda y, a=a: -a * y), x, g).detach())
        assert loss == pytest.approx(-2 * a + a * a, abs=0.1)  # standard error <= 0.025


def test_ssm_fit_learns_a_gaussian_score():
    t = targets.get("gaussian")
    model = score.fit(
        t.sample(5000, seed=1), method="ssm", n_steps=400, progress=False, hidden=32, depth=2
    )
    err = sm.region_errors(model.score, t, bounds=((-2, 2), (-2, 2)), high=0.1, low=0.3)
    assert err["high"] < 0.25  # measured ~0.1


def test_bad_input():
    x = torch.zeros(10, 2)
    with pytest.raises(ValueError, match="unknown method"):
        score.fit(x, method="nope")
    with pytest.raises(ValueError):
        score.Level(-1.0)
    with pytest.raises(ValueError, match="noise-conditional"):
        score.ScoreModel(score.Ladder([1.0, 0.1]))(x)
    with pytest.raises(ValueError, match=r"data must have shape \(n, d\)"):
        score.fit(torch.zeros(10), method="dsm")  # (n, 3) data is fine: d = 3
    with pytest.raises(ValueError, match="an_sde"):
        score.fit(x, method="sde")
    with pytest.raises(ValueError):
        langevin.annealed(lambda y, t: -y, [1.0, 0.1], x, alpha_min=-1.0)
    with pytest.raises(ValueError):
        langevin.annealed(lambda y, t: -y, [], x)
    with pytest.raises(ValueError):
        langevin.annealed(lambda y, t: -y, [1.0], x, n_steps=0)


def test_annealed_langevin_trajectory_shape_and_seed():
    sig = score.geometric_sigmas(2.0, 0.1, 4)
    x0 = uniform_box(((-3, 3), (-3, 3)), 50, seed=0)
    gauss = score.from_sigma(lambda y, s: -y / (1 + s**2), sig)  # N(0, I) perturbed by sigma
    a = langevin.annealed(gauss, sig, x0, n_steps=5, seed=1)
    b = langevin.annealed(gauss, sig, x0, n_steps=5, seed=1)
    assert isinstance(a, Trajectory) and a.kind == "map"
    assert a.xs.shape == (1 + 4 * 5 + 1, 50, 2)  # start, 5 steps per level, denoised frame
    assert torch.equal(a.xs, b.xs)
    assert a.extras["sigma"].shape == (a.n_times,)
    assert (a.extras["sigma"][:-1].diff() <= 0).all() and a.extras["sigma"][-1] == 0
    assert torch.allclose(a.extras["step_size"] / sig.float() ** 2, torch.tensor(0.2), rtol=1e-5)
    # the last frame is Tweedie's denoising step: for N(0, I) seen through noise sigma_L,
    # E[x_0 | x] = x / (1 + sigma_L^2) (the posterior mean of a Gaussian prior)
    s_last = float(sig[-1])
    assert torch.allclose(a.xs[-1], a.xs[-2] / (1 + s_last**2), atol=1e-6)
    assert (a.xs[-1] - a.xs[-2]).abs().max() > 1e-3  # the step moved the points
    c = langevin.annealed(gauss, sig, x0, n_steps=5, seed=1, denoise=False)
    assert c.xs.shape[0] == a.xs.shape[0] - 1 and torch.equal(c.xs, a.xs[:-1])


def test_annealed_langevin_takes_one_step_count_per_level():
    sig = score.geometric_sigmas(2.0, 0.1, 4)
    x0 = uniform_box(((-3, 3), (-3, 3)), 50, seed=0)
    gauss = score.from_sigma(lambda y, s: -y / (1 + s**2), sig)
    a = langevin.annealed(gauss, sig, x0, n_steps=[5, 5, 5, 5], seed=1)
    assert torch.equal(a.xs, langevin.annealed(gauss, sig, x0, n_steps=5, seed=1).xs)
    b = langevin.annealed(gauss, sig, x0, n_steps=[2, 7, 1, 3], seed=1)
    assert b.xs.shape == (1 + 13 + 1, 50, 2)
    # each frame carries its level: the start and 2 steps at sigma_1, 7 at sigma_2, ...
    levels = [float(sig[0])] * 3 + [float(v) for v, k in zip(sig[1:], (7, 1, 3)) for _ in range(k)]
    assert torch.allclose(b.extras["sigma"], torch.tensor(levels + [0.0]))
    for bad, match in (([5, 5, 5], "one per level"), ([5, 0, 5, 5], r"n_steps\[1\]")):
        with pytest.raises(ValueError, match=match):
            langevin.annealed(gauss, sig, x0, n_steps=bad)


def test_annealed_langevin_takes_one_step_ratio_per_level():
    """step_ratio sets alpha_i = ratio_i sigma_i^2; 0.2 everywhere is the default's path."""
    sig = score.geometric_sigmas(2.0, 0.1, 4)
    x0 = uniform_box(((-3, 3), (-3, 3)), 50, seed=0)
    gauss = score.from_sigma(lambda y, s: -y / (1 + s**2), sig)
    a = langevin.annealed(gauss, sig, x0, n_steps=5, seed=1, step_ratio=[0.2, 0.2, 0.05, 0.05])
    want = torch.tensor([0.2, 0.2, 0.05, 0.05]) * sig.float() ** 2
    assert torch.allclose(a.extras["step_size"], want, rtol=1e-6)
    b = langevin.annealed(gauss, sig, x0, n_steps=5, seed=1, step_ratio=0.2)
    assert torch.allclose(b.xs, langevin.annealed(gauss, sig, x0, n_steps=5, seed=1).xs)
    assert not torch.allclose(a.xs[-1], b.xs[-1])  # the smaller steps moved other paths
    bad = (
        (dict(step_ratio=[0.2, 0.2, 0.2]), "one per level"),
        (dict(step_ratio=[0.2, -0.1, 0.2, 0.2]), r"step_ratio\[1\]"),
        (dict(step_ratio=float("nan")), r"step_ratio\[0\]"),
        (dict(step_ratio=0.1, alpha_min=0.01), "not both"),
    )
    for kw, match in bad:
        with pytest.raises(ValueError, match=match):
            langevin.annealed(gauss, sig, x0, n_steps=5, **kw)


def test_mode_weights():
    t = targets.get("separated_mixture")
    w = sm.mode_weights(t.sample(N, seed=0), t)
    assert float(w.sum()) == pytest.approx(1.0)
    assert abs(float(w[0]) - 0.2) < 0.03  # exact draws: standard error 0.009


# ---------- pitfall (b): Langevin with the exact score gets the weights wrong ----------


@pytest.fixture(scope="module")
def separated():
    t = targets.get("separated_mixture")
    return t, uniform_box(t.bounds, N, seed=0)


def test_exact_score_langevin_gets_the_weight_wrong_mala_too(separated):
    t, x0 = separated
    runs = {}
    for method, eps in (("ula", 0.5), ("ula", 1.2), ("mala", 1.2)):
        tr = mcmc.sample(t, method, n_chains=N, n_steps=500, step_size=eps, seed=1, x0=x0)
        runs[method, eps] = tr.final()
    for x in runs.values():
        # true 0.2; from a uniform start each chain stays in its basin: ~0.5 (off by > 0.15)
        assert float(sm.mode_weights(x, t)[0]) > 0.35
    # ULA's step-size bias inflates each mode (std 1/sqrt(1 - eps^2/4) = 1.25 at eps = 1.2);
    # MALA's accept/reject removes it: what remains wrong in MALA's weights is mixing
    assert sm.within_mode_std(runs["ula", 1.2], t) > 1.15  # measured 1.23
    assert abs(sm.within_mode_std(runs["mala", 1.2], t) - 1.0) < 0.06  # measured 1.01
    assert abs(sm.within_mode_std(runs["ula", 0.5], t) - 1.0) < 0.06  # measured 1.04 (bias 1.03)


def test_annealed_langevin_with_exact_scores_recovers_the_weight(separated):
    t, x0 = separated
    sig = score.geometric_sigmas(score.max_pairwise_distance(t.sample(N, seed=1)), 0.05, 10)
    exact = score.from_sigma(lambda x, s: t.perturbed(s).score(x), sig)
    tr = langevin.annealed(exact, sig, x0, seed=0)
    w = float(sm.mode_weights(tr.final(), t)[0])
    assert abs(w - 0.2) < 0.05  # measured 0.227


# ---------- learned scores ----------


@pytest.fixture(scope="module")
def moons_dsm():
    t = targets.get("two_moons")
    model = score.fit(
        t.sample(10000, seed=1), method="dsm", sigma=0.2, n_steps=2000, progress=False
    )
    return t, model


def test_dsm_matches_where_data_is_and_fails_where_it_is_rare(moons_dsm):
    t, model = moons_dsm
    err = sm.region_errors(model.score, t.perturbed(0.2))
    assert err["high"] < 0.2  # p_sigma > 10% of its peak; measured 0.089
    assert err["low"] > 2 * err["high"]  # p_sigma < 0.01% of its peak; measured 0.32 (3.6x)


@pytest.fixture(scope="module")
def ladder_models():
    out = {}
    for name in ("separated_mixture", "two_moons", "eight_gaussians"):
        t = targets.get(name)
        out[name] = (
            t,
            score.fit(t.sample(10000, seed=1), method="ladder", n_steps=2000, progress=False),
        )
    return out


def test_learned_noise_conditional_score_recovers_the_weight(ladder_models, separated):
    t, model = ladder_models["separated_mixture"]
    _, x0 = separated
    tr = langevin.annealed(model.score, model.sigmas, x0, seed=0)
    w = float(sm.mode_weights(tr.final(), t)[0])
    assert abs(w - 0.2) < 0.08  # measured 0.217


@pytest.mark.parametrize("name", ["two_moons", "eight_gaussians"])
def test_annealed_langevin_learned_quality(ladder_models, name):
    t, model = ladder_models[name]
    x0 = uniform_box(t.bounds, N, seed=0)
    tr = langevin.annealed(model.score, model.sigmas, x0, seed=0)
    q = metrics.quality(tr.final(), t)
    assert q <= 2.0  # measured 0.33 (two_moons), 0.31 (eight_gaussians); other ref seeds <= 1.4


# ---------- figures and widgets (build and drive them) ----------


def test_figures_and_widgets(moons_dsm, separated):
    import plotly.graph_objects as go

    from genmod import widgets_scores as ws

    t, model = moons_dsm
    sep, x0 = separated
    assert isinstance(ws.score_figure(t), go.Figure)
    fig = ws.learned_vs_exact(model.score, t.perturbed(0.2), bounds=t.bounds)
    assert isinstance(fig, go.Figure) and len(fig.data) == 5
    sig = score.geometric_sigmas(20, 0.05, 4)
    box = ws.noise_explorer(sep, sig, n_points=100)
    z0 = box.figure.data[0].z.copy()
    box.slider.value = 3
    assert "0.05" in box.children[2].value
    assert not (box.figure.data[0].z == z0).all()  # the density changed with sigma
    exact = score.from_sigma(lambda x, s: sep.perturbed(s).score(x), sig)
    tr = langevin.annealed(exact, sig, x0[:50], n_steps=5)
    anim = ws.annealed_animation(tr, target=sep)
    assert "sigma = 20" in anim.children[0].value
    anim.animation.slider.value = anim.animation.n_frames - 1
    assert "denoised" in anim.children[0].value
    wf = ws.weights_figure([("MALA, exact score (notebook 04)", 0.5), ("b", 0.2)], 0.2)
    assert isinstance(wf, go.Figure)
    assert wf.layout.yaxis.automargin  # long sampler names were cut off at the left edge
    assert isinstance(ws.ladder_figure(sig, tr.extras["step_size"]), go.Figure)


def test_clamped_keeps_an_exact_score_and_pulls_a_wrong_one_back():
    """The exact denoiser of an empirical law is an average of its points, so clamping it
    to their box changes nothing; a score that pushes outward is turned inward off the box."""
    g = torch.Generator().manual_seed(0)
    data = torch.randn(20, 2, generator=g) * torch.tensor([3.0, 1.0])
    sig = score.geometric_sigmas(5.0, 0.05, 6)

    def empirical(x, s):  # the score of the 20 points perturbed by N(0, s^2 I)
        w = torch.softmax(-(torch.cdist(x, data) ** 2) / (2 * s**2), dim=1)
        return (w @ data - x) / s**2

    exact = score.from_sigma(empirical, sig)
    kept = score.clamped(exact, sig, data)
    x = torch.randn(500, 2, generator=g) * 10  # most of them off the box
    for t in (0.0, 0.5, 1.0):
        assert torch.allclose(kept(x, t), exact(x, t), rtol=1e-4, atol=1e-4)
    lo, hi = data.min(0).values, data.max(0).values
    outward = score.clamped(lambda y, t: y, sig, data)  # grows away from the origin
    far = torch.tensor([[hi[0] + 5.0, 0.0], [0.0, lo[1] - 5.0]])
    s = outward(far, 0.0)
    assert s[0, 0] < 0 and s[1, 1] > 0  # both pulled back toward the box
    with pytest.raises(ValueError, match="shape"):
        score.clamped(exact, sig, torch.zeros(5))
    with pytest.raises(ValueError, match="shape"):
        kept(torch.zeros(3, 3), 0.0)


def test_clamped_on_the_vp_sde_divides_by_alpha():
    """Under the VP SDE x_t = alpha_t x_0 + sigma_t z, the denoiser is
    (x + sigma_t^2 s) / alpha_t: the exact score of an empirical law is kept at every t (at
    t = 1, alpha_t = 0.0066, so a clamp that forgot alpha would change it), and a score that
    sends particles outward is turned back toward the box."""
    g = torch.Generator().manual_seed(1)
    data = torch.randn(20, 2, generator=g) * torch.tensor([3.0, 1.0]) + 2.0
    vp = sde.VP()

    def empirical(x, t):  # the score of the 20 points pushed through the VP SDE to time t
        a, s = (float(v) for v in vp.marginal(t))
        w = torch.softmax(-(torch.cdist(x, a * data) ** 2) / (2 * s**2), dim=1)
        return (a * (w @ data) - x) / s**2

    kept = score.clamped(empirical, vp, data)
    assert kept.dim == 2
    x = torch.randn(500, 2, generator=g) * 10
    for t in (0.01, 0.5, 1.0):
        assert torch.allclose(kept(x, t), empirical(x, t), rtol=1e-4, atol=1e-4)
    lo, hi = data.min(0).values, data.max(0).values
    outward = score.clamped(lambda y, t: y, vp, data)
    far = torch.tensor([[hi[0] + 5.0, lo[1] + 0.1], [lo[0] + 0.1, lo[1] - 5.0]])
    s = outward(far, 0.01)
    assert s[0, 0] < 0 and s[1, 1] > 0
    # sde.sample takes the clamped score as it is (its .dim), and keeps the samples finite
    tr = sde.sample(kept, vp, 50, method="ode", n_steps=20, seed=0)
    assert tr.final().shape == (50, 2) and tr.final().isfinite().all()
