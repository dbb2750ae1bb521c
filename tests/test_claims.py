"""genmod.check (claims as code), metrics.quality's repeats, and GENMOD_THREADS."""

import math

import pytest
import torch

import genmod
from genmod import metrics, targets


def test_check_passes_silently_and_fails_by_name(capsys):
    genmod.check("one is near one", 1.01, near=1.0, tol=0.02)
    genmod.check("in a band", 0.5, at_least=0.4, at_most=0.6)
    genmod.check("a tensor works", torch.tensor(2.0), at_most=2.0)  # bounds are inclusive
    genmod.check("a true statement", True)
    assert capsys.readouterr().out == ""
    with pytest.raises(genmod.ClaimError, match="the flow integrates to 1.*near"):
        genmod.check("the flow integrates to 1", 1.1, near=1.0, tol=0.02)
    with pytest.raises(genmod.ClaimError, match="at_least"):
        genmod.check("big enough", 0.3, at_least=0.4, at_most=0.6)
    with pytest.raises(genmod.ClaimError, match="at_most"):
        genmod.check("small enough", 0.7, at_least=0.4, at_most=0.6)
    with pytest.raises(genmod.ClaimError, match="a false statement"):
        genmod.check("a false statement", False)
    assert issubclass(genmod.ClaimError, AssertionError)


def test_check_never_passes_nan_and_needs_a_condition():
    with pytest.raises(genmod.ClaimError, match="NaN"):
        genmod.check("nan is not small", math.nan, at_most=1.0)
    with pytest.raises(genmod.ClaimError):
        genmod.check("nan is not near", float("nan"), near=0.0, tol=1e9)
    with pytest.raises(ValueError, match="give at_least"):
        genmod.check("no condition", 1.0)
    with pytest.raises(ValueError, match="near and tol"):
        genmod.check("half a condition", 1.0, near=1.0)
    with pytest.raises(ValueError, match="sentence"):
        genmod.check("", 1.0, at_most=2)


def test_quality_repeats_averages_independent_reference_draws():
    t = targets.get("two_moons")
    x = t.sample(1000, seed=5)
    floor = metrics.expected_floor(t, 1000)
    by_hand = [
        metrics.energy_distance(x, t.sample(1000, seed=metrics.reference_seed(0, r))) / floor
        for r in range(4)
    ]
    assert metrics.quality(x, t) == pytest.approx(by_hand[0], rel=1e-12)
    assert metrics.quality(x, t, repeats=4) == pytest.approx(sum(by_hand) / 4, rel=1e-12)
    assert len({round(v, 12) for v in by_hand}) == 4  # four different reference draws


def test_quality_of_exact_samples_is_about_one_and_spreads_less_with_repeats():
    # exact draws score about 1; averaging 8 reference draws cuts the spread over sample seeds
    t = targets.get("gaussian")
    one = [metrics.quality(t.sample(500, seed=s), t) for s in range(12)]
    eight = [metrics.quality(t.sample(500, seed=s), t, repeats=8) for s in range(12)]
    mean8 = sum(eight) / len(eight)
    assert 0.6 < mean8 < 1.6  # E[D(x, y)] for independent exact draws is the floor
    sd = lambda v: float(torch.tensor(v).std())  # noqa: E731
    assert sd(eight) < 0.8 * sd(one)


def test_threads_follow_the_environment(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("GENMOD_THREADS", "2")
        genmod.setup(seed=0)
        assert torch.get_num_threads() == 2
        monkeypatch.delenv("GENMOD_THREADS")
        genmod.setup(seed=0)
        assert torch.get_num_threads() == 1
        for bad in ("0", "two", "-1"):
            monkeypatch.setenv("GENMOD_THREADS", bad)
            with pytest.raises(ValueError, match="GENMOD_THREADS"):
                genmod.setup(seed=0)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    "value, text",
    [(390.2, "390"), (1.44, "1.4"), (0.0581, "0.058"), (12345, "12,000"), (1.0, "1.0"),
     (0.95, "0.95"), (-2.46, "-2.5"), (6.9e12, "6.9e+12"), (0.0, "0")],
)  # fmt: skip
def test_sig_prints_two_significant_digits_plainly(value, text):
    assert genmod.sig(value) == text
