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
5. where a step's time goes: MALA (the target's log p and score, the random draws, the
   rest) and NUTS (leapfrog steps per chain against the doubling loop's steps, which all
   chains take together until the longest trajectory ends).
Times are CPU seconds of this one-thread process (time.process_time: the time it ran,
not the time it waited for a core of the shared machine), the minimum over repeats (the
least disturbed run); the load average is printed with them. The cost table's ms / ESS
is wall time (the run's own clock).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from genmod import diagnostics, mcmc, nuts, targets
from genmod.potentials import potential

HERE = Path(__file__).resolve().parent
TITLE = "## MCMC speed and honest costs (benchmarks/mcmc_speed.py)"


def _best(fn, repeats: int = 3) -> float:
    """Least CPU seconds of this process over repeats (one thread: the least disturbed run)."""
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
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


def breakdown(repeats: int = 3):
    """CPU milliseconds per MALA step (1,000 chains) and per NUTS draw (256 chains on banana)."""
    rows = []
    for name in ("correlated_gaussian", "two_moons"):
        t = targets.get(name)
        fn = potential(t)
        x = t.sample(1000, seed=0)
        g = torch.Generator().manual_seed(0)

        def draws(g=g, x=x):
            torch.randn(x.shape, generator=g, dtype=torch.float64).float()
            torch.rand(x.shape[0], generator=g)

        per = [
            _best(lambda t=t: mcmc.sample(t, "mala", 1000, 200, step_size=0.1, seed=0), repeats)
            / 200,
            _best(lambda fn=fn, x=x: [fn(x) for _ in range(200)], repeats) / 200,
            _best(lambda d=draws: [d() for _ in range(200)], repeats) / 200,
        ]
        rows.append((f"MALA step, 1,000 chains, {name}", *(1e3 * v for v in per)))
    return rows


def nuts_breakdown(repeats: int = 3):
    """Per NUTS draw on banana (256 chains): leapfrog steps per chain, loop steps, CPU ms."""
    t = targets.get("banana")
    adapted = mcmc.sample(t, "nuts", 256, 10, step_size="auto", warmup=200, seed=0)
    h, x0 = adapted.extras["step_size"], adapted.final()
    calls, advance = [0], nuts._Subtree.advance

    def counted(self, fn, i):
        calls[0] += 1
        advance(self, fn, i)

    nuts._Subtree.advance = counted  # count the doubling loop's steps over one run
    try:
        run = mcmc.sample(t, "nuts", 256, 100, step_size=h, seed=1, x0=x0)
    finally:
        nuts._Subtree.advance = advance
    loop_steps = calls[0] / 100
    lf = float(run.extras["n_leapfrog"].double().mean())
    ms = _best(lambda: mcmc.sample(t, "nuts", 256, 100, step_size=h, seed=1, x0=x0), repeats) * 10
    fn, x = potential(t), x0
    ms_fn = _best(lambda: [fn(x) for _ in range(200)], repeats) / 200 * 1e3
    return lf, loop_steps, ms, ms / loop_steps, ms_fn


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
        f"Load average at start: {load:.1f} on {os.cpu_count()} cores (shared machine). "
        "Times: CPU seconds of one thread, least of the repeats.",
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
    out += [
        "",
        "Where a step's time goes (CPU ms of one thread, least of the repeats). MALA per step: "
        "the whole step, the target's log p and score at 1,000 points (one call), the random "
        "draws (normal proposal noise in float64, uniform for the accept test); the rest is "
        "the proposal, the Hastings ratio, the accept step and storing the trajectory.",
        "",
        "| run | step ms | log p + score ms | random draws ms | rest ms |",
        "|---|---:|---:|---:|---:|",
    ]
    out += [
        f"| {r[0]} | {r[1]:.3f} | {r[2]:.3f} | {r[3]:.3f} | {r[1] - r[2] - r[3]:.3f} |"
        for r in breakdown(repeats)
    ]
    lf, loop, ms, per_loop, ms_fn = nuts_breakdown(repeats)
    out += [
        "",
        "NUTS per draw on banana (256 chains): every doubling runs its leapfrog loop for all "
        "the chains still building until the last of them stops (a U-turn or a divergence), "
        "so a draw costs the loop steps of its longest trajectory, whatever the mean.",
        "",
        "| leapfrog steps per chain (mean) | loop steps per draw | ms per draw "
        "| ms per loop step | of which log p + score ms |",
        "|---:|---:|---:|---:|---:|",
        f"| {lf:.1f} | {loop:.1f} | {ms:.2f} | {per_loop:.3f} | {ms_fn:.3f} |",
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
    out[2] += f" Load average at the end: {os.getloadavg()[0]:.1f}."
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
