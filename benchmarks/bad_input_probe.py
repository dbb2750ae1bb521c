"""Probe of issue 19's numbered bad-input cases: each in its own process with a time limit.

Each case is a snippet that either should raise an error naming an argument (``want`` is
that name) or should return a correct answer (``check`` is an expression on ``r`` that is
True for a correct answer). Outcomes:

- ``clear error``: ValueError/TypeError/FloatingPointError whose message names ``want``;
- ``vague error``: any other exception (from deep inside torch, or not naming the argument);
- ``correct answer``: returned and ``check`` holds; ``garbage``: returned and it does not;
- ``hang``: still running ``--timeout`` seconds after the imports.

Run: ``python benchmarks/bad_input_probe.py [--timeout 20]``; prints a markdown table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap

PRELUDE = """
import math, warnings
import numpy as np, torch
from genmod import targets, mcmc, metrics, sde, inverse, diagnostics, flows, gan
from genmod import score, flow_matching, likelihood
from genmod.arrays import check_n
from genmod.trajectory import Trajectory
NAN = float("nan")
nan_box = lambda: targets.from_log_prob(
    lambda x: torch.where(x[:, 0] > 0, NAN, -0.5 * (x**2).sum(1)), ((-3, 3), (-3, 3)))
zero = lambda: targets.from_log_prob(
    lambda x: torch.full((x.shape[0],), -math.inf), ((-3, 3), (-3, 3)), normalize=False)
mix = targets.get("eight_gaussians")
nan_data = torch.randn(200, 2); nan_data[3, 0] = NAN
"""

# (label, snippet ending with r = ..., want: argument name for an error or None, check)
# (kept one case per few lines, as the issue numbers them)
# fmt: off
CASES = [
    ("1 em, score of wrong shape",
     "r = sde.sample(lambda x, t: -x[:, :1], sde.VP(), 20, method='em', n_steps=20)",
     "score_fn", None),
    ("1 ode, score of wrong shape",
     "r = sde.sample(lambda x, t: -x[:, :1], sde.VP(), 20, method='ode', n_steps=20)",
     "score_fn", None),
    ("1 likelihood, score of wrong shape",
     "r = likelihood.log_likelihood(lambda x, t: -x[:, :1], sde.VP(), torch.zeros(3, 2))",
     "score_fn", None),
    ("2 from_log_prob NaN on half the box", "r = nan_box().log_prob(torch.tensor([[-1.0, 0.0]]))",
     "fn", None),
    ("2 +inf at one grid cell",
     "r = targets.from_log_prob(lambda x: torch.where((x.abs() < 0.01).all(1), math.inf,"
     " -0.5 * (x**2).sum(1)), ((-3, 3), (-3, 3))).log_prob(torch.tensor([[1.0, 0.0]]))",
     "fn", None),
    ("3 all-zero density, sample",
     "r = zero().sample(2000)", "fn", None),
    ("3 all-zero density, density_figure",
     "from genmod import plots\nr = plots.density_figure(zero())", "fn", None),
    ("3 grid keeps -inf (half-zero density)",
     "t = targets.from_log_prob(lambda x: torch.where(x[:, 0] > 0, -math.inf,"
     " -0.5 * (x**2).sum(1)), ((-3, 3), (-3, 3)), normalize=False)\n"
     "r = t.sample(2000)", None, "bool((r[:, 0] <= 0.02).all())"),
    ("4 GaussianMixture NaN mean",
     "r = targets.GaussianMixture([[NAN, 0.0]], 1.0)", "means", None),
    ("4 GaussianMixture inf std",
     "r = targets.GaussianMixture([[0.0, 0.0]], math.inf)", "stds", None),
    ("4 GaussianMixture NaN std",
     "r = targets.GaussianMixture([[0.0, 0.0]], NAN)", "stds", None),
    ("4 GaussianMixture NaN weight",
     "r = targets.GaussianMixture([[0.0, 0.0], [1.0, 1.0]], 1.0, [NAN, 1.0])", "weights", None),
    ("5 ULA with a NaN score (warns)",
     "with warnings.catch_warnings(record=True) as w:\n"
     "    warnings.simplefilter('always')\n"
     "    mcmc.sample(None, 'ula', 8, 50, 0.1, x0=torch.zeros(8, 2),"
     " score=lambda x: torch.full_like(x, NAN))\n"
     "r = [str(m.message) for m in w]", None, "len(r) == 1"),
    ("5 MALA on banana from (1e6, 1e6) (warns)",
     "with warnings.catch_warnings(record=True) as w:\n"
     "    warnings.simplefilter('always')\n"
     "    mcmc.sample(targets.get('banana'), 'mala', 4, 50, 0.1, x0=torch.tensor([1e6, 1e6]))\n"
     "r = [str(m.message) for m in w]", None, "len(r) == 1"),
    ("6 HMC n_leapfrog=10**7",
     "r = mcmc.sample(targets.get('gaussian'), 'hmc', 4, 3, n_leapfrog=10**7, store_paths=False)",
     "n_leapfrog", None),
    ("6 energy_distance 100k x 100k",
     "x = torch.randn(100_000, 2)\nr = metrics.energy_distance(x, x + 0.1)", "x",
     "math.isfinite(r) and r > 0"),
    ("7 summary, burn-in leaves 1 draw",
     "t = mcmc.sample(targets.get('gaussian'), 'rwm', 4, 20)\n"
     "r = diagnostics.summary(t, burn_in=t.n_times - 1)", "burn_in", None),
    ("7 ess_geyer of constant chains",
     "r = diagnostics.ess_geyer(np.ones((4, 100)))", None,
     "math.isfinite(r) or 'x' in ''"),
    ("7 autocorr of a constant chain",
     "r = diagnostics.autocorr(np.ones(100))", None, "bool(np.isfinite(r).all())"),
    ("7 summary of a NaN trajectory",
     "r = diagnostics.summary(Trajectory(torch.full((20, 4, 2), NAN)))", "xs", None),
    ("7 empty Trajectory", "r = Trajectory(torch.zeros(0, 3, 2))", "xs", None),
    ("8 flows.fit on NaN data", "r = flows.fit(nan_data, n_steps=5, progress=False)",
     "data", None),
    ("8 score.fit on NaN data", "r = score.fit(nan_data, n_steps=5, progress=False)",
     "data", None),
    ("8 flow_matching.fit on NaN data",
     "r = flow_matching.fit(nan_data, n_steps=5, progress=False)", "data", None),
    ("8 gan.fit on NaN data", "r = gan.fit(nan_data, n_steps=5, progress=False)", "data", None),
    ("8 gan.fit on one sample",
     "r = gan.fit(torch.zeros(1, 2), n_steps=5, progress=False)", "data", None),
    ("8 em with NaN x_T",
     "r = sde.sample(sde.exact_score(mix, sde.VP()), sde.VP(), 4, method='em', n_steps=10,"
     " x_T=torch.full((4, 2), NAN))", "x_T", None),
    ("8 em with a NaN score",
     "r = sde.sample(lambda x, t: torch.full_like(x, NAN), sde.VP(), 4, method='em', n_steps=10)",
     "score_fn", None),
    ("8 VP(beta_max=inf)", "r = sde.VP(beta_max=math.inf)", "beta_max", None),
    ("8 check_n names batch_size",
     "r = flows.fit(torch.randn(50, 2), n_steps=5, batch_size=0, progress=False)",
     "batch_size", None),
    ("8 check_n names frames_per_stage",
     "r = inverse.sample(targets.get('gaussian'), 10, frames_per_stage=0)",
     "frames_per_stage", None),
    ("8 check_n names resolution",
     "r = inverse.sample(targets.get('gaussian'), 10, resolution=0)", "resolution", None),
    ("8 check_n names repeats",
     "r = metrics.noise_floor(targets.get('gaussian'), 100, repeats=0)", "repeats", None),
    ("8 check_n names latent_dim",
     "r = gan.fit(torch.randn(50, 2), n_steps=5, latent_dim=0, progress=False)",
     "latent_dim", None),
    ("8 check_n names n_layers",
     "r = flows.fit(torch.randn(50, 2), n_steps=5, n_layers=0, progress=False)",
     "n_layers", None),
    ("9 mcmc n_chains=np.int64(8)",
     "r = mcmc.sample(targets.get('gaussian'), 'rwm', n_chains=np.int64(8), n_steps=np.int64(5))",
     None, "r.xs.shape == (6, 8, 2)"),
    ("9 GaussianMixture wrong-length stds",
     "r = targets.GaussianMixture([[0.0, 0.0], [1.0, 1.0]], [1.0, 1.0, 1.0])", "stds", None),
    ("9 GaussianMixture means of shape (3,): one 3-D component (issue 18)",
     "r = targets.GaussianMixture([0.0, 1.0, 2.0], 1.0)", None,
     "r.dim == 3 and tuple(r.means.shape) == (1, 3) and r.sample(4).shape == (4, 3)"),
    ("9 from_log_prob returning numpy",
     "r = targets.from_log_prob(lambda x: -0.5 * (x.numpy() ** 2).sum(1), ((-3, 3), (-3, 3)))",
     "fn", None),
]
# fmt: on

RUNNER = """
import signal, sys
{prelude}
want, check = {want!r}, {check!r}

def _alarm(*_):
    raise TimeoutError

signal.signal(signal.SIGALRM, _alarm)
signal.alarm({timeout})  # the clock starts after the imports (slow on a busy machine)
try:
{body}
except TimeoutError:
    print("hang | still running after {timeout} s")
    sys.exit(0)
except Exception as e:
    msg = f"{{type(e).__name__}}: {{e}}".replace("\\n", " ")[:140]
    clear = isinstance(e, (ValueError, TypeError, FloatingPointError)) and want and want in str(e)
    print(("clear error" if clear else "vague error") + " | " + msg)
    sys.exit(0)
if check is None:
    print("garbage | returned without an error: " + repr(r)[:100].replace("\\n", " "))
else:
    ok = eval(check)
    print(("correct answer" if ok else "garbage") + " | " + repr(r)[:100].replace("\\n", " "))
"""


def run_case(snippet: str, want, check, timeout: float) -> str:
    body = textwrap.indent(snippet, "    ")
    src = RUNNER.format(prelude=PRELUDE, want=want, check=check, body=body, timeout=timeout)
    try:  # the outer limit catches a hang inside one C call (the alarm waits for Python)
        out = subprocess.run(
            [sys.executable, "-c", src], capture_output=True, text=True, timeout=timeout + 300
        )
    except subprocess.TimeoutExpired:
        return f"hang | killed after {timeout + 300:g} s"
    lines = [ln for ln in out.stdout.splitlines() if " | " in ln]
    if not lines:
        return "crash | " + out.stderr.strip().splitlines()[-1][:140] if out.stderr else "crash |"
    return lines[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=int, default=20)
    ap.add_argument("--only", default="", help="substring of the labels to run")
    args = ap.parse_args()
    print("| case | outcome | detail |\n|---|---|---|")
    for label, snippet, want, check in CASES:
        if args.only and args.only not in label:
            continue
        outcome, _, detail = run_case(snippet, want, check, args.timeout).partition(" | ")
        print(f"| {label} | {outcome} | {detail.replace('|', '/')} |", flush=True)


if __name__ == "__main__":
    main()
