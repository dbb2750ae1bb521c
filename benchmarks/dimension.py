"""Chains against maps as the dimension grows: quality and cost per (sampler, d).

Run through the benchmark driver (it writes results.md's section and dimension.json):

    python benchmarks/run.py --only dimension           # d = 2, 8, 32, 64; 3 sampling seeds
    python benchmarks/run.py --only dimension --quick   # 1 seed
    python benchmarks/run.py --smoke                    # toy sizes (d = 2, 8), temp dir

Target: ``mixture_unequal_d{d}`` (four modes with weights 0.45 / 0.3 / 0.15 / 0.1 and stds
0.8 / 0.9 / 1.1 / 1.2, laid out in the first two coordinates). Per sampler and d: training
seconds (learned maps: trained once with seed 0 on 5,000 exact samples), seconds and
target/model evaluations for 2,000 samples, quality = energy distance / noise floor at
n = 2,000 (mean over seeds, and per seed), and the mode-weight error max_k |w_hat_k - w_k|
(responsibility argmax; exact draws give about 0.01-0.02 at n = 2,000). Seconds are both
wall time and CPU time of this one-thread process (``time.process_time``: less inflated by
other work on the machine). Chains: 2,000 chains from the uniform start box of the target
(overdispersed in every coordinate), the step adapted by dual averaging during a warm-up
(``mcmc.sample(step_size="auto")``), warm-up included in evaluations and seconds; their
final states are the samples. Also a table of the grid inverse transform's cost against d.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from genmod import flow_matching, inverse, mcmc, metrics, score, score_metrics, sde, targets

TITLE = "## Beyond 2D: quality and cost against dimension"


@dataclass(frozen=True)
class Sizes:
    """Sizes of one dimension benchmark (``SIZES``, keyed by the run.py mode)."""

    dims: tuple[int, ...] = (2, 8, 32, 64)
    seeds: tuple[int, ...] = (0, 1, 2)
    n: int = 2000  # samples per sampler (chains: parallel chains, final states)
    warmup: int = 250  # chain steps adapting the step size (dual averaging)
    chain_steps: int = 500  # kept chain steps
    n_leapfrog: int = 10
    data: int = 5000  # training samples of the learned maps
    train_steps: int = 2000
    sde_steps: int = 500  # reverse SDE (Euler-Maruyama)
    fm_steps: int = 50  # flow matching (RK4, 4 evaluations per step)
    grid: int = 400  # inverse transform's cells per axis


SIZES = {
    "full": Sizes(),
    "quick": Sizes(seeds=(0,)),
    "smoke": Sizes(
        dims=(2, 8),
        seeds=(0,),
        n=200,
        warmup=20,
        chain_steps=20,
        n_leapfrog=3,
        data=500,
        train_steps=20,
        sde_steps=10,
        fm_steps=5,
        grid=100,
    ),
}


def clocked(fn):
    """(fn(), wall seconds, CPU seconds of this process)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def _row(d, sampler, way, train, runs, evals, note):
    """One table row; train = (wall, cpu) seconds, runs = [(quality, weight error, wall, cpu)]."""
    q, w, wall, cpu = (list(v) for v in zip(*runs, strict=True))
    return dict(
        d=d,
        sampler=sampler,
        way=way,
        train_s=train[0],
        train_cpu_s=train[1],
        sample_s=statistics.mean(wall),
        sample_cpu_s=statistics.mean(cpu),
        evals=evals,
        quality=statistics.mean(q),
        quality_seeds=q,
        weight_error=statistics.mean(w),
        note=note,
    )


def _judge(x, t, s, wall, cpu):
    err = float((score_metrics.mode_weights(x, t) - t.weights).abs().max())
    return metrics.quality(x, t, seed=s), err, wall, cpu


def chain_rows(t, sz: Sizes) -> list[dict]:
    """Adapted MALA and HMC, 2,000 chains from the start box; final states judged."""
    rows = []
    for method in ("mala", "hmc"):
        opts = {"n_leapfrog": sz.n_leapfrog, "store_paths": False} if method == "hmc" else {}
        runs, steps, acc = [], [], []
        for s in sz.seeds:
            tr, wall, cpu = clocked(
                lambda s=s, m=method, o=opts: mcmc.sample(
                    t,
                    m,
                    n_chains=sz.n,
                    n_steps=sz.chain_steps,
                    warmup=sz.warmup,
                    step_size="auto",
                    seed=s,
                    **o,
                )
            )
            runs.append(_judge(tr.final(), t, s, wall, cpu))
            steps.append(tr.extras["step_size"])
            acc.append(tr.acceptance_rate())
        note = (
            f"adapted h {statistics.mean(steps):.3g}, acceptance {statistics.mean(acc):.2f}, "
            f"{sz.warmup} warm-up + {sz.chain_steps} steps"
        )
        if method == "hmc":
            note += f", {sz.n_leapfrog} leapfrog steps"
        rows.append(_row(t.dim, method.upper(), "chain", (0.0, 0.0), runs, tr.n_evals, note))
    return rows


def map_rows(t, sz: Sizes) -> list[dict]:
    """The reverse VP SDE on the exact score, then two maps learned from exact samples."""
    data, vp, rows = t.sample(sz.data, seed=1), sde.VP(), []

    def add(name, train, draw, note):
        runs = []
        for s in sz.seeds:
            (x, evals), wall, cpu = clocked(lambda s=s: draw(s))
            runs.append(_judge(x, t, s, wall, cpu))
        rows.append(_row(t.dim, name, "map", train, runs, evals, note))

    def vp_draw(fn):
        def draw(s):
            tr = sde.sample(fn, vp, sz.n, method="em", n_steps=sz.sde_steps, seed=s)
            return tr.final(), tr.n_evals * sz.n

        return draw

    em = f"reverse SDE (EM), {sz.sde_steps} steps"
    trained = f"{sz.train_steps} training steps"
    add("VP SDE, exact score", (0.0, 0.0), vp_draw(sde.exact_score(t, vp)), em + ": no learning")
    fit = dict(n_steps=sz.train_steps, progress=False, seed=0)
    sm, *train = clocked(lambda: score.fit(data, an_sde=vp, **fit))
    add("VP SDE, learned", train, vp_draw(sm), f"{em}; {trained}")
    fm, *train = clocked(lambda: flow_matching.fit(data, **fit))
    add(
        "flow matching",
        train,
        lambda s: (fm.sample(sz.n, n_steps=sz.fm_steps, seed=s), sz.n * sz.fm_steps * 4),
        f"RK4, {sz.fm_steps} steps; {trained}",
    )
    return rows


def grid_rows(resolution: int = 400) -> list[dict]:
    """What a grid inverse transform with ``resolution`` cells per axis would cost in d dims.

    Measured in 2D (build the table: resolution^2 log-density evaluations, CPU seconds);
    other d are that cost per cell times resolution^d cells, and 8 bytes per cell of
    float64 table.
    """
    t = targets.get("mixture_unequal_d2")
    inverse.InverseCDF2D(t, 50)  # warm-up
    _, _, cpu = clocked(lambda: inverse.InverseCDF2D(t, resolution))
    per_cell = cpu / resolution**2
    rows = []
    for d in (1, 2, 3, 4, 8, 32, 64):
        cells = float(resolution) ** d
        rows.append(dict(d=d, cells=cells, bytes=8 * cells, seconds=per_cell * cells))
    return rows


def measure(sz: Sizes, log=print) -> dict:
    """Every (sampler, d) row and the grid table: what dimension.json holds."""
    rows = []
    for d in sz.dims:
        log(f"dimension: d = {d}")
        t = targets.get(f"mixture_unequal_d{d}")
        rows += chain_rows(t, sz) + map_rows(t, sz)
    return dict(rows=rows, grid=grid_rows(sz.grid), seeds=list(sz.seeds), resolution=sz.grid)


def _num(v: float) -> str:
    return f"{v:,.0f}" if v < 1e7 else f"{v:.1e}"


def _duration(s: float) -> str:
    year = 3.15e7
    if s < 120:
        return f"{s:.2g} s"
    if s < year:
        return f"{s / 3600:.2g} h"
    return f"{s / year:.1e} years"


def tables(result: dict, n: int = 2000) -> str:
    """The (sampler, d) table and the grid table, in markdown."""
    out = [
        f"| d | sampler | way | train CPU s | sample CPU s ({n:,}) | sample wall s | "
        f"evaluations ({n:,}) | quality (ED / floor) | per seed | mode-weight error | note |",
        "|" + "---|" * 11,
    ]
    for r in result["rows"]:
        cells = [
            str(r["d"]),
            r["sampler"],
            r["way"],
            f"{r['train_cpu_s']:.1f}",
            f"{r['sample_cpu_s']:.2f}",
            f"{r['sample_s']:.2f}",
            f"{r['evals']:,}",
            f"{r['quality']:.2f}",
            " / ".join(f"{q:.2f}" for q in r["quality_seeds"]),
            f"{r['weight_error']:.3f}",
            r["note"],
        ]
        out.append("| " + " | ".join(cells) + " |")
    res = result["resolution"]
    out += [
        "",
        f"Grid inverse transform, {res} cells per axis (the 2D map of notebook 02): the table "
        f"of log p has {res}^d cells; the 2D build is timed (CPU), the rest scaled from it.",
        "",
        "| d | cells | table size | time to build |",
        "|---|---:|---:|---:|",
    ]
    for g in result["grid"]:
        size = g["bytes"]
        size_txt = f"{size / 2**20:,.1f} MB" if size < 2**50 else f"{size:.1e} bytes"
        out.append(f"| {g['d']} | {_num(g['cells'])} | {size_txt} | {_duration(g['seconds'])} |")
    return "\n".join(out)


def section(result: dict, sz: Sizes, how: str) -> str:
    """results.md's section: a heading, how it was run, the tables."""
    return (
        f"{TITLE}\n\n{how}; {len(sz.seeds)} sampling seed(s).\n"
        f"Target `mixture_unequal_d{{d}}`; chains: {sz.n:,} from the uniform start box, "
        f"step adapted over {sz.warmup} warm-up steps, then {sz.chain_steps} steps. "
        "Exact draws have a mode-weight error of about 0.01-0.02 at n = 2,000.\n\n"
        + tables(result, sz.n)
    )
