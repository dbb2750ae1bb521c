"""Chain or map by the one definition; verdicts from seed intervals."""

import pytest

from genmod import ways


def row(sampler, qs, target="t"):
    way, kind, _ = ways.classify(sampler)
    return dict(
        target=target,
        sampler=sampler,
        way=way,
        kind=kind,
        quality=sum(qs) / len(qs),
        quality_seeds=qs,
    )


def test_classification_follows_the_definition():
    assert ways.classify("MALA")[0] == ways.classify("ULA")[0] == "chain"
    assert ways.classify("reverse SDE (EM)")[1] == "stochastic map"
    assert ways.classify("PF-ODE (RK4)")[1] == "deterministic map"
    assert ways.classify("annealed Langevin")[0] == "map"
    with pytest.raises(ValueError, match="MALA"):
        ways.classify("MCMC")


def test_overlapping_intervals_are_a_draw():
    # means 0.55 and 0.57 with seed spread 0.1: a draw, never a win
    a, b = (
        row("annealed Langevin", [0.45, 0.55, 0.65]),
        row("inverse transform", [0.47, 0.57, 0.67]),
    )
    assert ways.verdict(a, b) == "draw"
    # well separated: the lower interval wins, in either order
    c = row("GAN", [5.0, 5.2, 5.4])
    assert ways.verdict(a, c) == ways.verdict(c, a) == "annealed Langevin"


def test_diverged_runs_lose_and_need_no_interval():
    ula, mala = row("ULA", [6.9e12, 1.0, 1.0]), row("MALA", [1.0, 1.1, 1.2])
    assert ways.diverged(ula) and not ways.diverged(mala)
    assert ways.verdict(ula, mala) == "MALA"
    assert ways.verdict(ula, row("ULA", [float("nan"), 1.0])) == "draw"


def test_showdown_skips_diverged_and_needs_seeds():
    rows = [row("ULA", [1e9, 1e9, 1e9]), row("MALA", [1.0, 1.1, 1.2]), row("GAN", [3.0, 3.1, 3.2])]
    out = ways.showdown(rows, "t")
    assert out["chain"]["sampler"] == "MALA" and out["verdict"] == "chain"
    with pytest.raises(ValueError, match="quality_seeds"):
        ways.interval(dict(sampler="GAN", target="t", quality=1.0))


def test_verdict_table_lists_diverged_runs():
    rows = [
        row("ULA", [6.9e12, 1e9, 1e9], "a"),
        row("MALA", [1.0, 1.1, 1.2], "a"),
        row("GAN", [1.05, 1.1, 1.15], "a"),
        row("MALA", [9.0, 9.5, 10.0], "b"),
        row("GAN", [1.0, 1.2, 1.1], "b"),
    ]
    table = ways.verdict_table(rows)
    assert [t["target"] for t in table] == ["a", "b"]
    assert table[0]["verdict"] == "draw" and table[0]["diverged"] == [("ULA", 6.9e12)]
    assert table[1]["verdict"] == "map" and table[1]["diverged"] == []


def test_interval_is_a_t_interval_clipped_at_zero():
    # three seeds 1, 2, 3: mean 2, sd 1, t_{0.975, 2} = 4.303 -> 2 +- 2.484, clipped at 0
    lo, hi = ways.interval(row("GAN", [1.0, 2.0, 3.0]))
    assert lo == 0.0 and abs(hi - (2 + 4.3027 / 3**0.5)) < 1e-3
