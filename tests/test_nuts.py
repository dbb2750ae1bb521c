"""NUTS (genmod.nuts via mcmc.sample(t, "nuts")): invariance, its one-step limit, records."""

import pytest
import torch

from genmod import kernels, mcmc, metrics, nuts, targets
from genmod.potentials import potential


@pytest.mark.slow
def test_invariance_from_exact_samples(floor):
    """Chains started at exact samples stay distributed as the target (correlated Gaussian).

    1,600 chains, 40 NUTS steps at h = 0.3: the mean over 4 blocks of 400 chains of energy
    distance / noise floor stays below 2 (exact draws give about 1, 0.7 to 1.2 over seeds);
    moments within 0.1 (mean) and 0.12 (covariance), about 4 standard errors of the
    pooled last 10 steps. A wrong acceptance or a biased pick shows as a wider or narrower
    cloud long before 40 steps.
    """
    t = targets.get("correlated_gaussian")
    x0 = t.sample(1600, seed=11)
    traj = mcmc.sample(t, "nuts", 1600, 40, step_size=0.3, seed=3, x0=x0, record_chain=None)
    assert (traj.final() - x0).norm(dim=1).median() > 0.5
    f = floor(t, 400)
    ratios = [
        metrics.energy_distance(traj.final()[i * 400 : (i + 1) * 400], t.sample(400, seed=50 + i))
        / f
        for i in range(4)
    ]
    assert sum(ratios) / 4 < 2, ratios
    x = traj.xs[-10:].reshape(-1, 2).double()
    want = torch.tensor([[1.0, 0.9], [0.9, 1.0]], dtype=torch.float64)
    assert (x.mean(0).abs() < 0.1).all() and ((torch.cov(x.T) - want).abs() < 0.12).all()


def test_depth_one_is_one_leapfrog_step_with_a_metropolis_choice():
    """max_depth = 1: one leapfrog step in a random direction, kept with probability
    min(1, exp(H0 - H1)) (biased progressive sampling between two states is exactly
    Metropolis), i.e. HMC with one leapfrog step (= MALA) with a random time direction.

    Rebuilt here from the same random draws in nuts.step's order: momentum, directions,
    the subtree's uniforms, the merge's uniforms.
    """
    t = targets.get("banana")
    x = t.sample(500, seed=0)
    fn = potential(t)
    logp, grad = fn(x)
    h = 0.9  # large enough that many proposals are rejected
    s, rec = nuts.step(x, logp, grad, fn, h, 1, torch.Generator().manual_seed(7), None)
    g = torch.Generator().manual_seed(7)
    p0 = kernels.randn(x, g)
    v = torch.where(torch.rand(500, generator=g) < 0.5, -1.0, 1.0)[:, None]
    torch.rand((1, 500), generator=g)
    u = torch.rand(500, generator=g)
    y, p1, logp_y, _, _ = kernels.leapfrog(x, p0, grad, fn, v * h, 1)
    log_alpha = logp_y - logp + 0.5 * ((p0 * p0).sum(1) - (p1 * p1).sum(1))
    take = u.log() < log_alpha
    assert 0.2 < take.float().mean() < 0.9
    assert torch.allclose(s.x, torch.where(take[:, None], y, x), atol=1e-5)
    assert torch.allclose(s.accept_prob, log_alpha.clamp(max=0).exp(), atol=1e-5)
    assert (rec["n_leapfrog"] == 1).all() and (rec["tree_depth"] == 1).all()


def test_doubling_record_of_one_chain():
    """The recorded chain's states: as many as its leapfrog steps, 2^j at most per doubling j."""
    t = targets.get("banana")
    traj = mcmc.sample(t, "nuts", 16, 5, step_size=0.3, seed=0, record_chain=2)
    for k, d in enumerate(traj.extras["doubling"]):
        n_lf = int(traj.extras["n_leapfrog"][k, 2])
        assert d["states"].shape == (n_lf, 2) and d["depth"].shape == (n_lf,)
        assert torch.equal(d["start"], traj.xs[k, 2]) and torch.equal(
            d["selected"], traj.xs[k + 1, 2]
        )
        counts = torch.bincount(d["depth"], minlength=len(d["direction"]))
        assert (counts <= 2 ** torch.arange(len(counts))).all()
        assert len(d["direction"]) == int(traj.extras["tree_depth"][k, 2])
    # a long trajectory: the chain's steps are the selected state's neighbours in time
    assert traj.extras["tree_depth"].float().mean() > 2


def test_costs_and_adaptation():
    """NUTS counts a density and a gradient per leapfrog step and adapts towards 0.8."""
    t = targets.get("gaussian")
    traj = mcmc.sample(t, "nuts", 64, 100, step_size="auto", warmup=150, seed=0)
    ex = traj.extras
    assert ex["grad_evals"] == ex["density_evals"] >= 64 + int(ex["n_leapfrog"].sum())
    assert float(ex["accept_prob"][150:].mean()) == pytest.approx(0.8, abs=0.05)
    assert ex["tree_depth"].max() <= nuts.MAX_DEPTH


def test_divergences_are_counted_on_the_funnel():
    t = targets.get("funnel")
    with pytest.warns(RuntimeWarning, match="diverged"):
        traj = mcmc.sample(t, "nuts", 100, 20, step_size=3.0, seed=0, max_depth=4)
    assert traj.extras["divergences"] > 0 and torch.isfinite(traj.xs).all()
    with pytest.raises(ValueError, match="max_depth"):
        mcmc.sample(t, "nuts", 4, 2, step_size=0.1, max_depth=0)
