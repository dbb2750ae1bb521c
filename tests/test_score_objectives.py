"""Explicit, sliced and denoising score matching: the identities behind them."""

import torch

from genmod import score, score_metrics, sde, targets, three_ways

GAUSS = targets.GaussianMixture([[0.0, 0.0]], [0.7])


def test_explicit_loss_is_the_fisher_divergence_up_to_a_constant():
    # Hyvarinen: E[tr grad s + |s|^2 / 2] = (1/2) E|s - s*|^2 - (1/2) E|s*|^2 for every s.
    # Two different untrained models, 40k points: the gap between the two sides agrees
    # to 0.03 (gaps measured below 0.003 over 3 data seeds x 2 models) and equals -(1/2) E|s*|^2
    x = GAUSS.sample(40_000, seed=0).float()
    const = -0.5 * float((GAUSS.score(x) ** 2).sum(1).mean())
    for seed in (0, 1):
        model = score.ScoreModel(None, hidden=32, depth=2, seed=seed)
        esm = float(score.esm_loss(model, x, torch.Generator()).detach())
        with torch.no_grad():
            fisher = 0.5 * float(((model(x) - GAUSS.score(x)) ** 2).sum(1).mean())
        assert abs(esm - fisher - const) < 0.03


def test_irreducible_dsm_loss_has_its_closed_form():
    # x ~ N(0, s0^2 I): the exact score of p_sigma pays d s0^2 / (s0^2 + sigma^2), not 0
    for sigma in (0.1, 0.5):
        want = 2 * 0.49 / (0.49 + sigma**2)
        got = score_metrics.dsm_loss_of(GAUSS.perturbed(sigma).score, GAUSS, sigma, n=40_000)
        assert abs(got - want) < 0.03 * want


def test_compare_objectives_rows():
    # 200 steps on one Gaussian: every method learns the score to within 30% (measured
    # 0.13-0.19), and explicit costs more per step than denoising (d backward passes;
    # measured 64 against 13 ms)
    rows = score_metrics.compare_objectives(GAUSS, n_steps=200, n_data=2000)
    assert [r["method"] for r in rows] == ["explicit", "sliced", "denoising"]
    assert all(r["error_clean"] < 0.3 for r in rows[:2]) and rows[2]["error_perturbed"] < 0.3
    assert rows[0]["ms_per_step"] > rows[2]["ms_per_step"]


def test_three_ways():
    an_sde = sde.VP()
    sf = sde.exact_score(GAUSS, an_sde)
    out = three_ways.same_start(sf, an_sde, n_starts=3, n_seeds=4, n_steps=40)
    # same noise, same sample (exactly); the SDE's ends scatter like the data (std 0.7)
    assert out["ode_spread"] == 0.0 and out["sde_spread"] > 0.3
    traj, num = three_ways.chain(sf, GAUSS.sample(4, seed=0), n_steps=400, step_size=0.3)
    assert 0 < num["lag1"] < 1 and num["ess"] < 4 * 200 and num["evals_per_ess"] > 1
