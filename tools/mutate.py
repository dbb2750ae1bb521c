"""Mutation check: do the unit tests catch realistic bugs? Rerunnable, a few minutes.

    python tools/mutate.py             # baseline, then every mutant; prints a table
    python tools/mutate.py --list      # the mutants and the tests each one runs
    python tools/mutate.py --only exact_score_half_log_var burn_in_off_by_one

Each mutant is one exact text edit of one file under src/genmod. The script copies
src/, tests/ and pyproject.toml to a temporary folder, runs the selected tests there
unmutated (the baseline: they must pass, or a "caught" would mean nothing), then, for
each mutant, applies its edit to the copy, runs its tests with
``pytest -p no:xdist -o addopts="" -x`` (PYTHONPATH = the copy's src) and restores the file.

Exit status is non-zero if the baseline fails, if any mutant survives (its tests pass),
errors (no tests collected, timeout) or if a mutant's old text is not found exactly once
in its file: when code moves, re-point the mutant in MUTANTS below (the unit test
tests/test_mutate_list.py checks the old texts against src on every test run).
Only the unit tests count: notebooks are not run.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]


class Mutant(NamedTuple):
    name: str
    file: str  # relative to the repository root
    old: str  # must occur exactly once in the file
    new: str
    tests: tuple[str, ...]  # pytest node ids (relative to the root), run in this order


# fmt: off
MUTANTS = [
    Mutant("mala_no_hastings", "src/genmod/kernels.py",
           "metropolis(x, logp, grad, y, logp_y, grad_y, logp_y - logp + log_q, div, g)",
           "metropolis(x, logp, grad, y, logp_y, grad_y, logp_y - logp, div, g)",
           ("tests/test_mcmc.py::test_mala_keeps_a_gaussian_invariant_at_a_large_step",
            "tests/test_mcmc.py::test_hmc_with_one_leapfrog_step_is_mala")),
    Mutant("reverse_drift_sign", "src/genmod/sde.py",
           "(an_sde.drift(x, t) - gt**2 * score_fn(x, t)) * dt",
           "(an_sde.drift(x, t) + gt**2 * score_fn(x, t)) * dt",
           ("tests/test_sde.py::test_samplers_with_the_exact_score_reach_the_noise_floor",)),
    Mutant("energy_u_statistic", "src/genmod/metrics.py",
           "- _pairwise_mean(x, x, ident) - _pairwise_mean(y, y, ident)",
           "- _pairwise_mean(x, x, ident) * len(x) / (len(x) - 1)"
           " - _pairwise_mean(y, y, ident) * len(y) / (len(y) - 1)",
           ("tests/test_metrics.py::test_noise_floor_matches_its_closed_form",
            "tests/test_metrics.py::test_energy_distance_matches_brute_force")),
    Mutant("burn_in_off_by_one", "src/genmod/diagnostics.py",
           "x = traj.xs[int(burn_in) :]",
           "x = traj.xs[int(burn_in) + 1 :]",
           ("tests/test_diagnostics.py::test_burn_in_counts_positions",
            "tests/test_diagnostics.py::test_summary_and_cost_on_a_real_chain")),
    Mutant("annealed_denoise_sign", "src/genmod/langevin.py",
           "x = x + s**2 * score_fn(x, ladder.time(s)).float()",
           "x = x - s**2 * score_fn(x, ladder.time(s)).float()",
           ("tests/test_score.py::test_annealed_langevin_trajectory_shape_and_seed",)),
    Mutant("hutchinson_no_sqrt_k", "src/genmod/likelihood.py",
           "per_probe.std(1) / math.sqrt(k) if k > 1",
           "per_probe.std(1) if k > 1",
           ("tests/test_sde.py::test_hutchinson_stderr_matches_the_spread_over_seeds",
            "tests/test_sde.py::test_hutchinson_agrees_with_the_exact_divergence_within_its_stderr")),
    # the one Gaussian-mixture formula (densities): the target, its perturbed forms, the exact
    # SDE score, the potentials and the guided score all read it
    Mutant("mixture_half_log_var", "src/genmod/densities.py",
           "log_norm = 0.5 * self.dim * torch.log(2 * math.pi * var)",
           "log_norm = 0.25 * self.dim * torch.log(2 * math.pi * var)",
           ("tests/test_mixture_scores.py::test_the_mixture_itself",
            "tests/test_mixture_scores.py::test_perturbed_ve_form",
            "tests/test_mixture_scores.py::test_exact_score_against_autograd_of_the_perturbed_density",  # noqa: E501
            "tests/test_sde.py::test_exact_score_matches_perturbed_mixture")),
    Mutant("mixture_component_var", "src/genmod/densities.py",
           "var = scale**2 * self.stds**2 + sigma**2\n        log_norm",
           "var = scale * self.stds**2 + sigma**2\n        log_norm",
           ("tests/test_mixture_scores.py::test_perturbed_vp_form",
            "tests/test_mixture_scores.py::test_guided_score_is_the_exact_conditional_score",
            # the per-point (diffusion time per row) path is the one that reads this line
            "tests/test_mixture_scores.py::test_exact_score_against_autograd_of_the_perturbed_density")),  # noqa: E501
    Mutant("mixture_fast_path_log_var", "src/genmod/densities.py",
           "bias = self.weights.log() - 0.5 * d * torch.log(2 * math.pi * var)",
           "bias = self.weights.log() - 0.25 * d * torch.log(2 * math.pi * var)",
           ("tests/test_mixture_fast_path.py::test_mixture_matches_its_component_table",)),
    Mutant("perturbed_scale_dropped", "src/genmod/densities.py",
           "stds = torch.sqrt((scale * self.stds) ** 2 + sigma**2)",
           "stds = torch.sqrt(self.stds**2 + sigma**2)",
           ("tests/test_mixture_scores.py::test_perturbed_vp_form",)),
    Mutant("vp_alpha_scale", "src/genmod/sde.py",
           "return torch.exp(-0.5 * b), (-torch.expm1(-b)).sqrt()",
           "return torch.exp(-b), (-torch.expm1(-b)).sqrt()",
           ("tests/test_sde.py::test_marginal_variance_solves_the_sde",)),
    Mutant("hmc_full_first_kick", "src/genmod/kernels.py",
           "p = p + 0.5 * step_size * grad\n    logp = None",
           "p = p + step_size * grad\n    logp = None",
           ("tests/test_mcmc.py::test_leapfrog_is_reversible",
            "tests/test_mcmc.py::test_hmc_with_one_leapfrog_step_is_mala")),
    Mutant("ula_drift_factor", "src/genmod/kernels.py",
           "half = 0.5 * step_size * step_size\n    y = x + half * grad + step_size * randn(x, g)",
           "half = step_size * step_size\n    y = x + half * grad + step_size * randn(x, g)",
           ("tests/test_mcmc.py::test_ula_with_score_fn_and_no_target",
            "tests/test_mcmc.py::test_ula_matches_its_biased_stationary_law")),
    Mutant("widget_burn_in_off_by_one", "src/genmod/readouts.py",
           "kept = xs[burn + 1 : k + 1]",
           "kept = xs[burn : k + 1]",
           ("tests/test_widgets.py::test_independent_samples_readout_on_ar1_chains_with_a_known_ess",)),  # noqa: E501
]
# fmt: on


def check_old_texts(root: Path = ROOT, mutants=MUTANTS) -> list[str]:
    """Problems with the mutant list against the code at ``root`` (empty: all good)."""
    problems = []
    names = [m.name for m in mutants]
    problems += [f"duplicate mutant name {n!r}" for n in set(names) if names.count(n) > 1]
    for m in mutants:
        path = root / m.file
        if not path.is_file():
            problems.append(f"{m.name}: file {m.file} not found")
            continue
        count = path.read_text().count(m.old)
        if count != 1:
            problems.append(f"{m.name}: old text found {count} times in {m.file} (need 1)")
        for node in m.tests:
            if not (root / node.split("::")[0]).is_file():
                problems.append(f"{m.name}: test file of {node} not found")
    return problems


class Outcome(NamedTuple):
    status: str  # "pass", "caught", "SURVIVED", "ERROR ..."
    n_run: int
    caught_by: str
    seconds: float  # wall clock
    cpu: float  # user + system seconds of the pytest process (the machine may be shared)


def run_tests(copy: Path, nodes, timeout: float) -> Outcome:
    """pytest on ``nodes`` in the copy, stopping at the first failure."""
    # no stale bytecode between a mutant and its restore; no third-party plugins (nbval,
    # xdist: the unit tests need none, and loading them costs seconds per run)
    env = dict(os.environ, PYTHONPATH=str(copy / "src"), PYTHONDONTWRITEBYTECODE="1")
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider"]
    cmd += ["-o", "addopts=", "-x", "-q", "-rf", *nodes]
    start = time.perf_counter()
    cpu0 = _child_cpu()
    try:
        res = subprocess.run(
            cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        secs = time.perf_counter() - start
        return Outcome(f"ERROR timeout {timeout:.0f}s", 0, "", secs, _child_cpu() - cpu0)
    secs, cpu = time.perf_counter() - start, _child_cpu() - cpu0
    tail = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else ""
    n_run = sum(int(k) for k in re.findall(r"(\d+) (?:passed|failed|error)", tail))
    failed = re.findall(r"^FAILED (\S+)", res.stdout, flags=re.M)
    caught_by = failed[0].split("/")[-1] if failed else ""
    if res.returncode == 0:
        return Outcome("pass", n_run, "", secs, cpu)
    if res.returncode == 1 and failed:
        return Outcome("caught", n_run, caught_by, secs, cpu)
    return Outcome(f"ERROR pytest exit {res.returncode}: {tail[:80]}", n_run, caught_by, secs, cpu)


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def make_copy(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in ("src", "tests"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="print the mutants and exit")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per pytest run")
    args = ap.parse_args(argv)
    mutants = MUTANTS
    if args.only:
        unknown = set(args.only) - {m.name for m in MUTANTS}
        if unknown:
            valid = ", ".join(m.name for m in MUTANTS)
            ap.error(f"unknown mutants {sorted(unknown)}; valid: {valid}")
        mutants = [m for m in MUTANTS if m.name in args.only]
    if args.list:
        for m in mutants:
            print(f"{m.name}  ({m.file})\n  - {m.old!r}\n  + {m.new!r}")
            print("".join(f"  test {t}\n" for t in m.tests))
        return 0
    problems = check_old_texts(ROOT, mutants)
    for p in problems:
        print("STALE:", p)
    if problems:
        return 2

    rows, bad = [], 0
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="genmod-mutate-") as tmp:
        copy = make_copy(Path(tmp))
        nodes = list(dict.fromkeys(t for m in mutants for t in m.tests))
        base = run_tests(copy, nodes, args.timeout * 2)
        rows.append(("(baseline: no mutation)", base))
        print(f"baseline: {base.status}, {base.n_run} tests, {base.seconds:.0f} s", flush=True)
        if base.status != "pass":
            print("the unmutated copy fails its tests: fix that first")
            return 1
        for m in mutants:
            path = copy / m.file
            original = path.read_text()
            path.write_text(original.replace(m.old, m.new, 1))
            try:
                out = run_tests(copy, list(m.tests), args.timeout)
            finally:
                path.write_text(original)
            if out.status == "pass":
                out = out._replace(status="SURVIVED")
            bad += out.status != "caught"
            rows.append((m.name, out))
            print(f"{m.name}: {out.status} ({out.seconds:.0f} s)", flush=True)

    print_table(rows, len(mutants), time.perf_counter() - total)
    return 1 if bad else 0


def print_table(rows: list, n_mutants: int, secs: float) -> None:
    """The markdown table of mutants and who caught them, and a one-line total."""
    print()
    print("| mutant | file | tests run | result | caught by | wall s | cpu s |")
    print("|---|---|---|---|---|---|---|")
    files = {m.name: m.file.removeprefix("src/genmod/") for m in MUTANTS}
    for name, o in rows:
        f = files.get(name, "")
        cells = [name, f, o.n_run, o.status, o.caught_by, f"{o.seconds:.1f}", f"{o.cpu:.1f}"]
        print("| " + " | ".join(map(str, cells)) + " |")
    caught = sum(o.status == "caught" for _, o in rows)
    cpu = sum(o.cpu for _, o in rows)
    print(f"\n{caught} of {n_mutants} mutants caught; {secs:.0f} s wall, {cpu:.0f} s cpu")


if __name__ == "__main__":
    sys.exit(main())
