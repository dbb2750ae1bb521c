"""Diagnostics against arviz-stats and AR(1) closed forms (within 5%)."""

import math

import numpy as np
import pytest
import torch
from arviz_stats.base import array_stats

from genmod import diagnostics as D
from genmod import mcmc, targets
from genmod.trajectory import Trajectory


def _traj_from(x: np.ndarray, n_evals: int = 1) -> Trajectory:
    """(2, n_chains, n_draws) -> a chain Trajectory with xs (n_draws, n_chains, 2)."""
    return Trajectory(torch.from_numpy(x).permute(2, 1, 0).float(), n_evals=n_evals)


def test_autocorr_matches_arviz_and_ar1():
    x = D.ar1(0.7, 8, 4000, seed=0)
    mine = D.autocorr(x, max_lag=30)
    ref = array_stats.autocorr(x, axis=-1)[:, :31]
    assert np.allclose(mine, ref, atol=1e-10)
    # chain-averaged estimate against the closed form phi^t, within 0.03 at lags <= 5
    assert np.abs(mine.mean(0)[:6] - 0.7 ** np.arange(6)).max() < 0.03


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_ess_on_ar1_matches_closed_form(phi):
    """ESS = N (1 - phi) / (1 + phi); Geyer's estimate and arviz's bulk ESS within 5%.

    At N = 64 x 8000 draws both estimates scatter by about 1.3% over seeds (checked on
    seeds 0-4, phi in {0, 0.5, 0.9}): 5% is a margin of about 4 standard deviations.
    """
    n_chains, n_draws = 64, 8000
    x = D.ar1(phi, n_chains, n_draws, seed=1)
    want = n_chains * n_draws * (1 - phi) / (1 + phi)
    mine = D.ess_geyer(x)
    ref = float(array_stats.ess(x, method="bulk"))
    assert abs(mine / want - 1) < 0.05, (mine, want)
    assert abs(ref / want - 1) < 0.05, (ref, want)
    assert abs(mine / ref - 1) < 0.05


def test_trajectory_ess_and_rhat_match_arviz():
    x = np.stack([D.ar1(0.8, 6, 1000, seed=2), D.ar1(0.3, 6, 1000, seed=3)])
    traj = _traj_from(x)
    xf = x.astype(np.float32).astype(np.float64)  # the trajectory stores float32
    for method, prob in (("bulk", None), ("tail", (0.05, 0.95))):
        got = D.ess(traj, method)
        ref = array_stats.ess(xf, method=method, prob=prob)
        assert np.allclose(got, ref, rtol=1e-9)
    assert np.allclose(D.rhat(traj), array_stats.rhat(xf, method="rank"), rtol=1e-9)
    assert np.all(np.abs(D.rhat(traj) - 1) < 0.01)
    # our Geyer ESS agrees with the bulk ESS within 5% on these well-mixed chains
    for d in range(2):
        assert abs(D.ess_geyer(xf[d]) / D.ess(traj)[d] - 1) < 0.05


def test_rhat_flags_chains_stuck_in_different_modes():
    """Half the chains around -3, half around +3: R-hat far above 1, ESS collapses."""
    x = D.ar1(0.5, 8, 500, seed=4)
    x[:4] += 3
    x[4:] -= 3
    traj = _traj_from(np.stack([x, x]))
    assert D.rhat(traj).min() > 1.5
    assert D.ess_geyer(x) < 0.05 * x.size
    assert D.ess(traj).max() < 0.05 * x.size


def test_running_acceptance():
    acc = torch.tensor([[1, 0], [1, 1], [0, 0], [0, 1]], dtype=torch.bool)
    traj = Trajectory(torch.zeros(5, 2, 2), accepted=acc, proposals=torch.zeros(4, 2, 2))
    assert np.allclose(D.running_acceptance(traj), [0.5, 0.75, 0.5, 0.5])
    assert np.allclose(D.running_acceptance(traj, window=2), [0.5, 0.75, 0.5, 0.25])
    with pytest.raises(ValueError):
        D.running_acceptance(traj, window=0)


def test_summary_and_cost_on_a_real_chain():
    """MALA on the Gaussian: the summary is consistent and evaluations per ESS is >= 1."""
    t = targets.get("gaussian")
    traj = mcmc.sample(
        t, "mala", n_chains=8, n_steps=400, step_size=1.0, seed=0, x0=t.sample(8, seed=1)
    )
    s = D.summary(traj, burn_in=50)
    assert set(s) == {
        "acceptance",
        "ess_bulk",
        "ess_tail",
        "rhat",
        "evals_per_ess",
        "divergences",
    } | {
        "density_evals_per_ess",
        "grad_evals_per_ess",
        "seconds_per_ess",
    }
    # MALA: one density and one gradient per step and chain, plus one each at the start
    assert s["grad_evals_per_ess"] == pytest.approx(8 * 401 / D.ess(traj, burn_in=50).min(), 1e-2)
    assert 0.5 < s["acceptance"] < 1 and s["divergences"] == 0 and s["rhat"] < 1.05
    assert s["evals_per_ess"] >= 1
    # independent reference: arviz on the kept positions xs[50:], sliced here by hand, and
    # the cost counted by hand (MALA: one evaluation per chain per step, one at the start)
    kept = traj.xs[50:].double().permute(2, 1, 0).numpy()  # (2, chains, draws)
    worst = min(float(array_stats.ess(kept[d], method="bulk")) for d in range(2))
    assert traj.n_evals == 8 * (400 + 1)
    assert D.ess_per_eval(traj, burn_in=50) == pytest.approx(worst / (8 * 401), rel=1e-9)
    assert s["evals_per_ess"] == pytest.approx(8 * 401 / worst, rel=5e-3)  # 3 digits
    assert s["ess_bulk"] == pytest.approx(worst, rel=5e-3)


def test_burn_in_counts_positions():
    """burn_in = b keeps xs[b:], xs[0] being the start: n_times - b draws, first one xs[b]."""
    xs = torch.arange(12 * 3 * 2, dtype=torch.float32).reshape(12, 3, 2)
    traj = Trajectory(xs)
    for b in (0, 1, 5):
        d = D.draws(traj, b)
        assert d.shape == (2, 3, 12 - b)
        assert np.array_equal(d[:, :, 0], xs[b].T.numpy())  # (coordinate, chain)
        assert np.array_equal(d[0, 1], xs[b:, 1, 0].numpy())
    # the ESS with burn-in is arviz's on exactly those draws
    x = np.stack([D.ar1(0.6, 6, 400, seed=7), D.ar1(0.2, 6, 400, seed=8)])
    traj = _traj_from(x)
    xf = x.astype(np.float32).astype(np.float64)
    assert np.allclose(D.ess(traj, burn_in=100), array_stats.ess(xf[..., 100:]), rtol=1e-9)
    assert np.allclose(D.rhat(traj, burn_in=100), array_stats.rhat(xf[..., 100:]), rtol=1e-9)


@pytest.mark.parametrize("method", ["rwm", "mala", "hmc"])
def test_divergences_counted_against_a_closed_form(method):
    """A flat density on x <= 0, NaN on x > 0: every proposal into x > 0 is a divergence
    and every other one is accepted (log p(y) - log p(x) = 0, gradient 0: no Hastings or
    energy term), so divergences = rejections, counted from the accept flags.

    One step from (-1, 0) with step 0.8 (HMC: 3 leapfrog steps of 0.8 / 3, the same
    displacement 0.8 p): P(divergence) = P(0.8 z > 1) = 1 - Phi(1.25) = 0.1056;
    4000 chains: expected 423, standard deviation 19; band +-80 (4 sd).
    """
    t = targets.from_log_prob(
        lambda x: torch.where(x[:, 0] > 0, torch.full_like(x[:, 0], math.nan), 0 * x[:, 0]),
        ((-4.0, 0.0), (-4.0, 4.0)),
    )
    eps, opts = (0.8 / 3, {"n_leapfrog": 3}) if method == "hmc" else (0.8, {})
    x0 = torch.tensor([-1.0, 0.0])
    one = mcmc.sample(t, method, n_chains=4000, n_steps=1, step_size=eps, seed=0, x0=x0, **opts)
    assert abs(D.divergences(one) - 4000 * 0.1056) < 80, D.divergences(one)
    many = mcmc.sample(t, method, n_chains=200, n_steps=30, step_size=eps, seed=1, x0=x0, **opts)
    assert D.divergences(many) == int((~many.accepted).sum()) > 0
    # a trajectory without the count (a map, a hand-built chain) has none
    assert D.divergences(Trajectory(torch.zeros(3, 2, 2))) == 0


def test_bad_input():
    traj = _traj_from(D.ar1(0.5, 3, 50)[None].repeat(2, 0))
    with pytest.raises(ValueError, match="4 chains"):
        D.rhat(traj)
    with pytest.raises(ValueError, match="burn_in"):
        D.ess(traj, burn_in=50)
    with pytest.raises(ValueError, match="method"):
        D.ess(traj, method="median")
    with pytest.raises(ValueError, match="chain"):
        D.ess(Trajectory(torch.zeros(5, 4, 2), kind="map"))
    with pytest.raises(ValueError, match="accept"):
        D.running_acceptance(traj)
    with pytest.raises(ValueError, match="n_evals"):
        D.ess_per_eval(Trajectory(torch.randn(50, 4, 2)))
    with pytest.raises(ValueError):
        D.ar1(1.0, 2, 10)
