"""Chains against maps as the dimension grows: quality and cost per (sampler, d).

    python benchmarks/dimension.py            # d = 2, 8, 32, 64; 3 sampling seeds
    python benchmarks/dimension.py --quick    # 1 seed
    python benchmarks/dimension.py --no-write # print only

Target: ``mixture_unequal_d{d}`` (four modes with weights 0.45 / 0.3 / 0.15 / 0.1 and stds
0.8 / 0.9 / 1.1 / 1.2, laid out in the first two coordinates). Per sampler and d: training
seconds (learned maps: trained once with seed 0 on 5,000 exact samples), seconds and
target/model evaluations for 2,000 samples, quality = energy distance / noise floor at
n = 2,000 (mean over seeds), and the mode-weight error max_k |w_hat_k - w_k| (responsibility
argmax; exact draws give about 0.01-0.02 at n = 2,000). Chains: 2,000 chains from the uniform
start box of the target (overdispersed in every coordinate), step size tuned in a pilot from
exact draws towards the usual acceptance (benchmarks/run.py's ``tune_step``); their final
states are the samples. Also a table of the grid inverse transform's cost against d.

Appends (or replaces) its section in benchmarks/results.md and writes
benchmarks/dimension.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import _timed, machine, tune_step  # noqa: E402

from genmod import (  # noqa: E402
    flow_matching,
    inverse,
    mcmc,
    metrics,
    score,
    score_metrics,
    sde,
    targets,
)

N = 2000
DIMS = (2, 8, 32, 64)
CHAIN_STEPS = 500
TITLE = "## Beyond 2D: quality and cost against dimension"


def _row(d, sampler, way, train_s, secs, evals, qs, ws, note):
    return dict(
        d=d,
        sampler=sampler,
        way=way,
        train_s=train_s,
        sample_s=statistics.mean(secs),
        evals=evals,
        quality=statistics.mean(qs),
        weight_error=statistics.mean(ws),
        note=note,
    )


def _weight_error(x, t) -> float:
    return float((score_metrics.mode_weights(x, t) - t.weights).abs().max())


def chain_rows(t, seeds) -> list[dict]:
    rows = []
    for method, leap in (("mala", 1), ("hmc", 10)):
        step = tune_step(t, method)
        opts = {"store_paths": False} if method == "hmc" else {}
        qs, ws, secs, acc = [], [], [], []
        for s in seeds:
            run = dict(n_chains=N, n_steps=CHAIN_STEPS, step_size=step, seed=s, **opts)
            tr, dt = _timed(lambda m=method, run=run: mcmc.sample(t, m, **run))
            x = tr.final()
            qs.append(metrics.quality(x, t, seed=s))
            ws.append(_weight_error(x, t))
            secs.append(dt)
            acc.append(tr.acceptance_rate())
        note = f"step {step:g} (pilot), acceptance {statistics.mean(acc):.2f}"
        if method == "hmc":
            note += f", {leap} leapfrog steps"
        evals = tr.n_evals
        rows.append(_row(t.dim, method.upper(), "chain", 0.0, secs, evals, qs, ws, note))
    return rows


def map_rows(t, seeds, train_steps: int) -> list[dict]:
    data = t.sample(5000, seed=1)
    vp = sde.VP()
    rows = []

    def add(name, train_s, draw, note):
        qs, ws, secs = [], [], []
        for s in seeds:
            (x, evals), dt = _timed(lambda s=s: draw(s))
            qs.append(metrics.quality(x, t, seed=s))
            ws.append(_weight_error(x, t))
            secs.append(dt)
        rows.append(_row(t.dim, name, "map", train_s, secs, evals, qs, ws, note))

    exact = sde.exact_score(t, vp)

    def vp_draw(fn):
        def draw(s):
            tr = sde.sample(fn, vp, N, method="em", n_steps=500, seed=s)
            return tr.final(), tr.n_evals * N

        return draw

    add("VP SDE, exact score", 0.0, vp_draw(exact), "reverse SDE (EM), 500 steps: no learning")
    sm, dt = _timed(lambda: score.fit(data, an_sde=vp, n_steps=train_steps, progress=False, seed=0))
    add("VP SDE, learned", dt, vp_draw(sm), f"EM, 500 steps; {train_steps} training steps")
    fm, dt = _timed(lambda: flow_matching.fit(data, n_steps=train_steps, progress=False, seed=0))
    add(
        "flow matching",
        dt,
        lambda s: (fm.sample(N, n_steps=50, seed=s), N * 50 * 4),
        f"RK4, 50 steps; {train_steps} training steps",
    )
    return rows


def grid_rows(resolution: int = 400) -> list[dict]:
    """What a grid inverse transform with ``resolution`` cells per axis would cost in d dims.

    Measured in 2D (build the table: resolution^2 log-density evaluations); other d are
    that cost per cell times resolution^d cells, and 8 bytes per cell of float64 table.
    """
    t = targets.get("mixture_unequal_d2")
    inverse.InverseCDF2D(t, 50)  # warm-up
    _, secs = _timed(lambda: inverse.InverseCDF2D(t, resolution))
    per_cell = secs / resolution**2
    rows = []
    for d in (1, 2, 3, 4, 8, 32, 64):
        cells = float(resolution) ** d
        rows.append(dict(d=d, cells=cells, bytes=8 * cells, seconds=per_cell * cells))
    return rows


def _num(v: float) -> str:
    return f"{v:,.0f}" if v < 1e7 else f"{v:.1e}"


def _duration(s: float) -> str:
    year = 3.15e7
    if s < 120:
        return f"{s:.2g} s"
    if s < year:
        return f"{s / 3600:.2g} h"
    return f"{s / year:.1e} years"


def tables(rows, grid) -> str:
    out = [
        "| d | sampler | way | train s | sample s (2k) | evaluations (2k) | "
        "quality (ED / floor) | mode-weight error | note |",
        "|" + "---|" * 9,
    ]
    for r in rows:
        cells = [
            str(r["d"]),
            r["sampler"],
            r["way"],
            f"{r['train_s']:.1f}",
            f"{r['sample_s']:.2f}",
            f"{r['evals']:,}",
            f"{r['quality']:.2f}",
            f"{r['weight_error']:.3f}",
            r["note"],
        ]
        out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "Grid inverse transform, 400 cells per axis (the 2D map of notebook 02): the table "
        "of log p has 400^d cells.",
        "",
        "| d | cells | table size | time to build |",
        "|---|---:|---:|---:|",
    ]
    for g in grid:
        size = g["bytes"]
        size_txt = f"{size / 2**20:,.1f} MB" if size < 2**50 else f"{size:.1e} bytes"
        out.append(f"| {g['d']} | {_num(g['cells'])} | {size_txt} | {_duration(g['seconds'])} |")
    return "\n".join(out)


def write_section(text: str, path: Path, title: str = TITLE) -> None:
    """Replace the section headed ``title`` in results.md (or append it)."""
    old = path.read_text() if path.exists() else ""
    head, sep, rest = old.partition(title)
    tail = ""
    if sep:
        nxt = rest.find("\n## ")
        tail = rest[nxt:] if nxt >= 0 else ""
    path.write_text(head.rstrip() + "\n\n" + text.rstrip() + "\n" + tail)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 sampling seed")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--train-steps", type=int, default=2000)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    seeds = [0] if args.quick else [0, 1, 2]
    rows = []
    for d in DIMS:
        t = targets.get(f"mixture_unequal_d{d}")
        print(f"[{time.perf_counter() - start:6.0f} s] d = {d}", flush=True)
        rows += chain_rows(t, seeds) + map_rows(t, seeds, args.train_steps)
    grid = grid_rows()
    text = (
        f"{TITLE}\n\n`python benchmarks/dimension.py` on {machine()}; "
        f"{len(seeds)} sampling seed(s), {time.perf_counter() - start:.0f} s in all.\n"
        "Target `mixture_unequal_d{d}`; chains: 2,000 from the uniform start box, "
        f"{CHAIN_STEPS} steps.\n\n" + tables(rows, grid)
    )
    print(text)
    if not args.no_write:
        write_section(text, HERE / "results.md")
        (HERE / "dimension.json").write_text(json.dumps(dict(rows=rows, grid=grid), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
