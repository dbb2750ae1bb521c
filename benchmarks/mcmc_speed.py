"""MCMC speed and honest costs (issue 16): throughput goals, gradient vs density, RWM's target.

    python benchmarks/mcmc_speed.py            # prints the tables
    python benchmarks/mcmc_speed.py --write    # and replaces its section in results.md

Tables:
1. throughput: MALA 1,000 chains x 1,000 steps, trajectory stored (goals 0.5 s on
   correlated_gaussian, 1 s on two_moons); parallel tempering 8 temperatures x 500 chains
   x 1,000 steps on separated_mixture (goal 5 s); NUTS with 256 chains on banana at the
   adapted step (goal >= 100 draws per second per chain).
2. what a gradient costs next to a density evaluation, per target, at 1,000 points.
3. RWM in 2D: ESS per density evaluation for target acceptance 0.234, 0.35, 0.44, 0.55.
4. cost per independent sample of every adapted sampler on banana and two_moons, in
   density and gradient evaluations and in seconds.
Times are the minimum over repeats (the machine is shared: the minimum is the least
disturbed run); the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from genmod import diagnostics, mcmc, targets
from genmod.potentials import potential

HERE = Path(__file__).resolve().parent
TITLE = "## MCMC speed and honest costs (benchmarks/mcmc_speed.py)"


def _best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def throughput(repeats: int = 3) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, goal in (("correlated_gaussian", 0.5), ("two_moons", 1.0)):
        t = targets.get(name)
        mcmc.sample(t, "mala", n_chains=1000, n_steps=20, step_size=0.1, seed=0)  # warm caches
        s = _best(lambda t=t: mcmc.sample(t, "mala", 1000, 1000, step_size=0.1, seed=0), repeats)
        rows.append((f"MALA 1,000 x 1,000 on {name}", f"{s:.2f} s", f"<= {goal} s", _ok(s <= goal)))
    t = targets.get("separated_mixture")
    s = _best(lambda: mcmc.sample(t, "pt", 500, 1000, step_size=1.0, seed=0), repeats)
    rows.append(
        (
            "PT 8 temperatures x 500 x 1,000 on separated_mixture",
            f"{s:.2f} s",
            "<= 5 s",
            _ok(s <= 5),
        )
    )
    t = targets.get("banana")
    adapted = mcmc.sample(t, "nuts", 256, 10, step_size="auto", warmup=200, seed=0)
    h, n_steps = adapted.extras["step_size"], 100
    x0 = adapted.final()
    s = _best(lambda: mcmc.sample(t, "nuts", 256, n_steps, step_size=h, seed=1, x0=x0), repeats)
    rate = n_steps / s
    rows.append(
        (
            f"NUTS 256 chains on banana (h = {h:.2f})",
            f"{rate:.0f} draws / s / chain",
            ">= 100",
            _ok(rate >= 100),
        )
    )
    return rows


def _ok(flag: bool) -> str:
    return "yes" if flag else "no"


def grad_cost(names=("correlated_gaussian", "banana", "funnel", "two_moons", "checkerboard")):
    """Seconds per call at 1,000 points: log p alone, the score alone, both (the samplers' call)."""
    rows = []
    for name in names:
        t = targets.get(name)
        x = t.sample(1000, seed=0)
        both = potential(t)
        dens = _best(lambda t=t, x=x: [t.log_prob(x) for _ in range(20)], 5) / 20
        grad = _best(lambda t=t, x=x: [t.score(x) for _ in range(20)], 5) / 20
        pair = _best(lambda b=both, x=x: [b(x) for _ in range(20)], 5) / 20
        how = "autograd" if type(t).score is targets.Target.score else "closed form"
        rows.append((name, how, dens * 1e3, grad * 1e3, pair * 1e3, grad / dens, pair / dens))
    return rows


def rwm_acceptance(
    names=("gaussian", "correlated_gaussian", "banana"), goals=(0.234, 0.35, 0.44, 0.55)
):
    """ESS (bulk, worst coordinate) per 1,000 density evaluations, warm-up included."""
    rows = []
    for name in names:
        t = targets.get(name)
        cells = []
        for goal in goals:
            runs = [
                mcmc.sample(
                    t, "rwm", 256, 1000, step_size="auto", warmup=300, seed=s, target_accept=goal
                )
                for s in (0, 1)
            ]
            cells.append(
                sum(1000 / diagnostics.summary(r)["density_evals_per_ess"] for r in runs) / 2
            )
        rows.append((name, *cells))
    return rows, goals


def costs(names=("banana", "two_moons")):
    rows = []
    for name in names:
        t = targets.get(name)
        for method in ("rwm", "mala", "hmc", "nuts"):
            opts = {"store_paths": False} if method == "hmc" else {}
            tr = mcmc.sample(t, method, 256, 500, step_size="auto", warmup=300, seed=0, **opts)
            s = diagnostics.summary(tr)
            rows.append(_cost_row(name, method.upper(), tr, s))
    t = targets.get("separated_mixture")
    tr = mcmc.sample(t, "pt", 256, 500, step_size="auto", warmup=300, seed=0)
    s = diagnostics.summary(tr)
    rows.append(_cost_row("separated_mixture", "PT (8 levels)", tr, s))
    return rows


def _cost_row(name, label, tr, s):
    keys = ("acceptance", "ess_bulk", "density_evals_per_ess", "grad_evals_per_ess")
    return (name, label, tr.extras["step_size"], *(s[k] for k in keys), s["seconds_per_ess"] * 1e3)


COST_HEAD = (
    "| target | sampler | adapted h | acceptance | ESS | density evals / ESS "
    "| gradient evals / ESS | ms / ESS |"
)


def report(repeats: int = 3) -> str:
    load = os.getloadavg()[0]
    out = [
        TITLE,
        "",
        f"Load average at start: {load:.1f} on {os.cpu_count()} cores (shared machine).",
        "",
    ]
    out += ["| run | measured | goal | met |", "|---|---|---|:---:|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in throughput(repeats)]
    out += [
        "",
        "What a gradient costs here, per call at 1,000 points (ms). 'both' is what the gradient "
        "samplers call: log p and its gradient from one pass.",
        "",
        "| target | score | log p ms | score ms | both ms | score / log p | both / log p |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    out += [
        f"| {r[0]} | {r[1]} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.1f} | {r[6]:.1f} |"
        for r in grad_cost()
    ]
    rows, goals = rwm_acceptance()
    out += [
        "",
        "RWM's target acceptance in 2D: ESS (bulk, worst coordinate) per 1,000 density "
        "evaluations, warm-up included (256 chains, 300 warm-up + 1,000 steps, mean of 2 seeds).",
        "",
        "| target | " + " | ".join(f"accept {g}" for g in goals) + " |",
        "|---|" + "---:|" * len(goals),
    ]
    out += ["| " + r[0] + " | " + " | ".join(f"{v:.2f}" for v in r[1:]) + " |" for r in rows]
    out += [
        "",
        "Cost per independent sample (bulk ESS, worst coordinate) of adapted samplers "
        '(`step_size="auto"`, 256 chains, 300 warm-up + 500 steps; costs include the warm-up).',
        "",
        COST_HEAD,
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    out += [
        f"| {r[0]} | {r[1]} | {r[2]:.3f} | {r[3]:.2f} | {r[4]:,.0f} | {r[5]:,.1f} | {r[6]:,.1f} "
        f"| {r[7]:.2f} |"
        for r in costs()
    ]
    return "\n".join(out) + "\n"


def write(section: str, path: Path = HERE / "results.md") -> None:
    """Replace this module's section of results.md (or append it)."""
    text = path.read_text()
    if TITLE in text:
        head, rest = text.split(TITLE, 1)
        nxt = rest.find("\n## ")
        tail = rest[nxt + 1 :] if nxt >= 0 else ""
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="replace the section in results.md")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    section = report(args.repeats)
    print(section)
    if args.write:
        write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
