"""The notes' performance record: every sampler on every target, quality vs cost.

    python benchmarks/run.py            # full run (5 targets, 3 sampling seeds)
    python benchmarks/run.py --quick    # 2 targets, 1 seed (about 8 minutes on 2 cores)
    python benchmarks/run.py --only maps   # re-run only the map rows, update results.json

Prints markdown tables and writes them to benchmarks/results.md (and the sampler rows to
benchmarks/results.json, which notebook 08 reads). Not part of the test suite: tests check
correctness, this file records speed and quality on the machine it runs on.

Per sampler and target: training seconds (learned models, trained once with seed 0 on
5,000 exact samples), seconds to draw 2,000 samples, target or model evaluations per
2,000 samples, quality = energy distance / noise floor at n = 2,000 (mean over seeds),
and for chains bulk ESS per second. Chains: 2,000 chains from an overdispersed uniform
start; their final states are the 2,000 samples.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # sibling benchmark modules (not a package)

from genmod import (  # noqa: E402
    diagnostics,
    flow_matching,
    flows,
    gan,
    inverse,
    langevin,
    mcmc,
    metrics,
    score,
    sde,
    targets,
)
from genmod.arrays import uniform_box  # noqa: E402

N = 2000
FULL_TARGETS = ["two_moons", "eight_gaussians", "separated_mixture", "banana", "checkerboard"]
QUICK_TARGETS = ["eight_gaussians", "separated_mixture"]
# acceptance rates each chain's step size is tuned towards in a short pilot run
ACCEPT_GOAL = {"rwm": 0.3, "mala": 0.57, "hmc": 0.65}


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def tune_step(t, method: str, seed: int = 0) -> float:
    """Step size whose pilot acceptance is closest to ACCEPT_GOAL (ULA borrows MALA's)."""
    m = "mala" if method == "ula" else method
    goal, opts = ACCEPT_GOAL[m], {"store_paths": False} if m == "hmc" else {}
    best = None
    for step in (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 1.2, 2.0):
        tr = mcmc.sample(
            t,
            m,
            n_chains=200,
            n_steps=100,
            step_size=step,
            seed=seed,
            x0=t.sample(200, seed=seed + 1),
            **opts,
        )
        gap = abs(tr.acceptance_rate() - goal)
        if best is None or gap < best[0]:
            best = (gap, step)
    return best[1]


def chain_rows(t, seeds, n_steps: int) -> list[dict]:
    rows = []
    for method in ("rwm", "mala", "hmc", "ula"):
        step = tune_step(t, method)
        opts = {"store_paths": False} if method == "hmc" else {}
        q, secs, ess_s = [], [], []
        for s in seeds:
            run = dict(n_chains=N, n_steps=n_steps, step_size=step, seed=s, **opts)
            tr, dt = _timed(lambda m=method, run=run: mcmc.sample(t, m, **run))
            q.append(metrics.quality(tr.final(), t, seed=s))
            secs.append(dt)
            ess = diagnostics.ess(tr, burn_in=n_steps // 2).min()  # worst coordinate, all chains
            ess_s.append(float(ess) / dt)
            evals = tr.n_evals
        rows.append(
            dict(
                target=t.name,
                sampler=method.upper(),
                way="chain",
                train_s=0.0,
                sample_s=statistics.mean(secs),
                evals=evals,
                quality=statistics.mean(q),
                ess_per_s=statistics.mean(ess_s),
                step_size=step,
                note=f"step {step:g}, {n_steps} steps",
            )
        )
    return rows


def map_rows(t, seeds) -> list[dict]:
    """Inverse transform and every learned map; each learned model is trained once."""
    data = t.sample(5000, seed=1)
    rows = []

    def add(name, train_s, draw, evals_per_sample, note=""):
        q, secs, evals = [], [], None
        for s in seeds:
            out, dt = _timed(lambda s=s: draw(s))
            x, evals = out if isinstance(out, tuple) else (out, N * evals_per_sample)
            q.append(metrics.quality(x, t, seed=s))
            secs.append(dt)
        rows.append(
            dict(
                target=t.name,
                sampler=name,
                way="map",
                train_s=train_s,
                sample_s=statistics.mean(secs),
                evals=evals,
                quality=statistics.mean(q),
                ess_per_s=None,
                note=note,
            )
        )

    add(
        "inverse transform",
        0.0,
        lambda s: inverse.sample(t, N, seed=s).final(),
        0,
        "400x400 grid of log p (160,000 evaluations, once)",
    )
    rows[-1]["evals"] = 400 * 400

    flow, dt = _timed(lambda: flows.fit(data, progress=False, seed=0))
    add("RealNVP flow", dt, lambda s: flow.sample(N, seed=s), 1, "one pass per sample")

    g, dt = _timed(lambda: gan.fit(data, snapshot_every=0, progress=False, seed=0))
    add("GAN", dt, lambda s: g.sample(N, seed=s), 1, "one generator pass per sample")

    ncsn, dt = _timed(lambda: score.fit(data, method="ladder", progress=False, seed=0))
    box = t.bounds

    def annealed(s):
        tr = langevin.annealed(ncsn.score, ncsn.sigmas, uniform_box(box, N, seed=s), seed=s)
        return tr.final(), tr.n_evals

    add("annealed Langevin", dt, annealed, None, "learned noise-conditional score")

    vp = sde.VP()
    sm, dt = _timed(lambda: score.fit(data, an_sde=vp, progress=False, seed=0))
    for method, n_steps in (("em", 500), ("pc", 250), ("ode", 100)):

        def draw(s, method=method, n_steps=n_steps):
            tr = sde.sample(sm, vp, N, method=method, n_steps=n_steps, seed=s)
            return tr.final(), tr.n_evals * N

        add(
            {"em": "reverse SDE (EM)", "pc": "reverse SDE (PC)", "ode": "PF-ODE (RK4)"}[method],
            dt,
            draw,
            None,
            f"VP SDE, {n_steps} steps; one score model for all three",
        )

    fm, dt = _timed(lambda: flow_matching.fit(data, progress=False, seed=0))
    add("flow matching", dt, lambda s: (fm.sample(N, seed=s), N * 50 * 4), None, "RK4, 50 steps")
    return rows


def mcmc_throughput() -> list[dict]:
    """1,000 chains x 1,000 MALA steps with the whole trajectory stored."""
    out = []
    for name in ("correlated_gaussian", "two_moons"):
        t = targets.get(name)
        mcmc.sample(t, "mala", n_chains=1000, n_steps=20, step_size=0.1, seed=0)  # warm-up
        times = [
            _timed(
                lambda t=t: mcmc.sample(
                    t, "mala", n_chains=1000, n_steps=1000, step_size=0.1, seed=0
                )
            )[1]
            for _ in range(3)
        ]
        out.append(dict(target=name, seconds=min(times)))
    return out


def quality_text(q: float) -> str:
    """Ratios above 1000 mean the sampler failed outright (e.g. ULA diverging): say so."""
    return f"{q:.2f}" if q < 1000 else f"{q:.1e} (diverged)"


def fmt(v, spec=".2f"):
    return "" if v is None else format(v, spec)


def sampler_table(rows) -> str:
    lines = [
        "| target | sampler | way | train s | sample s (2k) | evaluations (2k) | "
        "quality (ED / floor) | ESS / s | note |",
        "|" + "---|" * 9,
    ]
    for r in rows:
        cells = [
            r["target"],
            r["sampler"],
            r["way"],
            fmt(r["train_s"], ".1f"),
            fmt(r["sample_s"], ".3f"),
            f"{r['evals']:,}",
            quality_text(r["quality"]),
            fmt(r["ess_per_s"], ",.0f"),
            r["note"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s)"
    )


def merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
    """``old`` with each row of the same (target, sampler) replaced by its ``new`` row, in
    place; new rows with no old match are appended."""
    key = lambda r: (r["target"], r["sampler"])  # noqa: E731
    fresh = {key(r): r for r in new}
    out = [fresh.pop(key(r), r) for r in old]
    return out + list(fresh.values())


def only(kind: str, names, seeds, json_path: Path) -> int:
    """Re-run one kind of row (``"chains"`` or ``"maps"``) and update results.json in place.

    results.md is left alone: the new rows are printed as a table to paste or to compare.
    """
    rows = []
    for name in names:
        t = targets.get(name)
        rows += chain_rows(t, seeds, n_steps=1000) if kind == "chains" else map_rows(t, seeds)
    old = json.loads(json_path.read_text()) if json_path.exists() else []
    json_path.write_text(json.dumps(merge_rows(old, rows), indent=1))
    print(sampler_table(rows))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 targets, 1 seed (< 10 min)")
    ap.add_argument("--skip-notebooks", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results.md"))
    ap.add_argument(
        "--only",
        choices=("chains", "maps"),
        help="re-run only these rows (full targets and seeds, or --quick's) and update "
        "results.json in place; results.md is not rewritten",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.only:
        names = QUICK_TARGETS if args.quick else FULL_TARGETS
        seeds = [0] if args.quick else [0, 1, 2]
        return only(args.only, names, seeds, Path(args.out).with_suffix(".json"))
    start = time.perf_counter()
    names = QUICK_TARGETS if args.quick else FULL_TARGETS
    seeds = [0] if args.quick else [0, 1, 2]
    rows = []
    for name in names:
        t = targets.get(name)
        print(f"[{time.perf_counter() - start:6.0f} s] {name}", flush=True)
        rows += chain_rows(t, seeds, n_steps=500 if args.quick else 1000)
        rows += map_rows(t, seeds)
    sections = [
        f"# Benchmark results\n\nMachine: {machine()}.\n"
        f"Mode: {'quick' if args.quick else 'full'} ({len(names)} targets, "
        f"{len(seeds)} sampling seed(s)).\n",
        "## Samplers\n\n" + sampler_table(rows),
    ]

    thr = mcmc_throughput()
    sections.append(
        "## MCMC throughput: 1,000 chains x 1,000 MALA steps, trajectory stored "
        "(goal <= 0.5 s)\n\n| target | seconds |\n|---|---|\n"
        + "\n".join(f"| {r['target']} | {r['seconds']:.2f} |" for r in thr)
    )

    import frame_time

    lines = [
        "| particles | Python show_frame ms | browser Scattergl redraw ms | "
        "browser SVG Scatter redraw ms |",
        "|---|---|---|---|",
    ]
    br = frame_time.browser_frame_ms() or {}
    for n in (1000, 10000):
        gl, svg = fmt(br.get(("scattergl", n)), ".0f"), fmt(br.get(("scatter", n)), ".0f")
        lines.append(f"| {n:,} | {frame_time.python_frame_ms(n):.1f} | {gl} | {svg} |")
    sections.append(
        "## Animation frame time (goal end to end <= 60 ms at 1k, <= 200 ms at 10k)\n\n"
        + "\n".join(lines)
    )

    import widget_startup

    ws = widget_startup.startup_ms()
    sections.append(
        "## Figure widget start-up in the browser (anywidget's limit: 2,000 ms per widget)\n\n"
        + ("Chromium or Playwright missing." if ws is None else widget_startup.table(ws))
    )

    if not args.skip_notebooks:
        import notebook_resources

        nb = notebook_resources.rows()
        sections.append(
            "## Notebooks (goal <= 45 s, <= 1 GB kernel RSS, < 2 MB)\n\n"
            + notebook_resources.table(nb)
        )
    sections.append(f"Total benchmark time: {time.perf_counter() - start:.0f} s.")
    text = "\n\n".join(sections) + "\n"
    print(text)
    Path(args.out).write_text(text)
    Path(args.out).with_suffix(".json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
