"""Ablation of the learned samplers' training (issue 17): what each change buys.

    python benchmarks/learned.py                      # every table, 5 training seeds
    python benchmarks/learned.py --part score --seeds 2 --targets separated_mixture
    python benchmarks/learned.py --part gan --seeds 3     # the GAN's remedies (item 4)
    python benchmarks/learned.py --part gan --rows 3,8 --points 50000  # run.py's data size
    python benchmarks/learned.py --part ceiling --seeds 10 --targets two_moons  # vs exact score
    python benchmarks/learned.py --part flow --rows 0,1   # RealNVP in 20 s (item 3)
    python benchmarks/learned.py --part data --seeds 10 --targets separated_mixture
    python benchmarks/learned.py --part recipe --seeds 10  # per-seed data, prior at the mean
    python benchmarks/learned.py --part snr --seeds 5     # PC's corrector step, recipe's model
    python benchmarks/learned.py --part steps --seeds 5   # EM 500 / 1,000 / 2,000 steps
    python benchmarks/learned.py --part tsample --seeds 5  # stratified training times t
    python benchmarks/learned.py --part stf --seeds 5 --rows 0,1,2  # stable target field
    python benchmarks/learned.py --part annealed --seeds 5 --rows 0,3  # annealed Langevin
    python benchmarks/learned.py --part ladder --seeds 5  # annealed Langevin's steps per level
    python benchmarks/learned.py --part longer --seeds 5 --rows 0,1  # 5,000 training steps
    python benchmarks/learned.py --part edm --seeds 5     # EDM's preconditioning, He init
    python benchmarks/learned.py --part bands --targets two_moons,eight_gaussians  # t bands
    python benchmarks/learned.py --part expected --seeds 5 --rows 0,1 # 10 sample sets per training
    python benchmarks/learned.py --part expected --rows 0,3,5 --sets 30  # 30 sets per training
    python benchmarks/learned.py --part expected --rows 4,12,13,14,15,16,17  # annealed Langevin
    python benchmarks/learned.py --part expected --rows 18,19,20 --sets 30  # run.py's VP model
    python benchmarks/learned.py --part expected --rows 21,22,23 --sets 30  # ... clamped
    python benchmarks/learned.py --part weights --seeds 5 --targets eight_gaussians  # EM's modes
    python benchmarks/learned.py --part slopes --seeds 5 --targets eight_gaussians  # score slopes
    python benchmarks/learned.py --part budget --seeds 3   # training seconds, idle machine
    python benchmarks/learned.py --append             # also append the tables to results.md

Each row trains one model per seed (seed = training seed = sampling seed) on 5,000 exact
samples (seed 1, as benchmarks/run.py did until it moved to 50,000; ``--points 50000`` gives
the parts score, fm, gan and flow run.py's size; the parts recipe, snr, steps, tsample,
stf, longer, edm, bands, annealed and ladder use 50,000 of seed 100 + s, and data compares
them; the part expected trains its PF-ODE's model as recipe does and RealNVP and the GAN as
run.py does) and reports quality =
metrics.quality(..., repeats=3) of 2,000 samples as mean +- standard deviation over the
seeds, the weight of the small mode on separated_mixture (exact: 0.2; the 5,000 training
points have 0.207), and training seconds: CPU seconds of the process (one torch thread, so
about the wall time of an unloaded core; wall time on this shared machine is several times
larger).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from pathlib import Path

import torch
from run import ANNEALED_STEPS, PC_SNR  # benchmarks/run.py, this script's sibling

from genmod import (
    config,
    flow_matching,
    flows,
    gan,
    langevin,
    metrics,
    score,
    score_metrics,
    sde,
    targets,
    toys,
    training,
)
from genmod.arrays import uniform_box

HERE = Path(__file__).resolve().parent
N = 2000
SAMPLERS = (("em", 500), ("pc", 250), ("ode", 100))
LABELS = {"em": "EM", "pc": "PC", "ode": "PF-ODE"}
#: (label, score.fit keywords): one change at a time on top of the row before it
BEFORE = {"base": None, "ema": 0.0}
SCORE_ROWS = [
    ("DSM, lambda = sigma^2, t ~ U (before)", BEFORE),
    ("+ EMA of weights (0.999)", {**BEFORE, "ema": 0.999}),
    ("+ EDM preconditioning", {"ema": 0.999, "base": "edm"}),
    (
        "+ EDM lambda and log-normal noise levels",
        {"ema": 0.999, "base": "edm", "weighting": "edm"},
    ),
    # second round: within the issue's 15 s (2,000 steps: 11-14 CPU s at load 1-3)
    ("DSM, lambda = sigma^2, t ~ U, 2,000 steps", {**BEFORE, "n_steps": 2000}),
    (
        "+ t_band (0.4, 0.8, 0.75): 3/4 of each batch's t in [0.4, 0.8]",
        {**BEFORE, "n_steps": 2000, "t_band": (0.4, 0.8, 0.75)},
    ),
    ("width 256 x 3 layers, 1,400 steps", {**BEFORE, "n_steps": 1400, "hidden": 256, "depth": 3}),
]
FM_ROWS = [
    ("independent coupling (before)", {"ema": None}),
    ("+ EMA of weights (0.999)", {"ema": 0.999}),
    ("+ minibatch OT coupling (blocks of 128)", {"ema": 0.999, "coupling": "ot"}),
]
#: the GAN (issue 17 item 4): gan.fit keywords, spelled out in full (gan.fit's defaults are
#: now the remedy, so an empty dict would not be the plain game)
PLAIN_GAN = {"minibatch_std": False, "grad_penalty": 0.0}
REMEDY = {"minibatch_std": True, "grad_penalty": 0.1}
GAN_ROWS = [
    ("plain (lr 1e-3, no penalty)", PLAIN_GAN),
    (
        "R1 (0.1) + TTUR (D 2e-3, G 5e-4)",
        {**PLAIN_GAN, "grad_penalty": 0.1, "lr": 2e-3, "lr_g": 5e-4},
    ),
    ("minibatch std", {**PLAIN_GAN, "minibatch_std": True}),
    ("minibatch std + R1 (0.1)", REMEDY),
    ("minibatch std + R1 (0.1) + EMA of G (0.999)", {**REMEDY, "ema": 0.999}),
    (
        "minibatch std + R1 (0.1) + TTUR (D 2e-3, G 5e-4)",
        {**REMEDY, "lr": 2e-3, "lr_g": 5e-4},
    ),
    # second round: Adam without momentum, as StyleGAN2 trains with R1
    ("minibatch std + R1 (0.1) + Adam betas (0, 0.99)", {**REMEDY, "betas": (0.0, 0.99)}),
    (
        "minibatch std + R1 (0.1) + Adam betas (0, 0.99), lr 2e-3",
        {**REMEDY, "betas": (0.0, 0.99), "lr": 2e-3},
    ),
    # fourth round: a larger batch and twice the steps (about 3.6x the training seconds)
    (
        "minibatch std + R1 (0.1), batch 1,024, 6,000 steps, Adam betas (0, 0.99)",
        {**REMEDY, "batch_size": 1024, "n_steps": 6000, "betas": (0.0, 0.99)},
    ),
    # leaky ReLU instead of SiLU in both nets (piecewise linear: sharp folds)
    (
        "minibatch std + R1 (0.1), batch 1,024, 6,000 steps, Adam betas (0, 0.99), leaky ReLU",
        {
            **REMEDY,
            "batch_size": 1024,
            "n_steps": 6000,
            "betas": (0.0, 0.99),
            "activation": "leaky_relu",
        },
    ),
    ("minibatch std + R1 (0.1), leaky ReLU", {**REMEDY, "activation": "leaky_relu"}),
]
# fifth round (row 11): row 9 with an EMA of the generator's weights (gan.BENCHMARK_RECIPE
# in the first session of 2026-12-03)
GAN_ROWS.append(("row 9 + EMA of G (0.999)", {**GAN_ROWS[9][1], "ema": 0.999}))
# sixth round (row 12): row 11 for 9,000 steps instead of 6,000 (gan.BENCHMARK_RECIPE
# since the second session of 2026-12-03)
GAN_ROWS.append(("row 11, 9,000 steps", {**GAN_ROWS[11][1], "n_steps": 9000}))

#: RealNVP (issue 17 item 3): flows.fit keywords; the rows after the first change one thing
#: each against the first (or against the row they name)
_F = {"fused": True}
FLOW_ROWS = [
    ("12 layers, 1,500 steps, batch 512, lr 5e-3 (before)", {}),
    ("+ fused Adam", _F),
    ("coupling nets of 1 hidden layer (64)", {**_F, "depth": 1}),
    ("coupling nets of 1 hidden layer (128)", {**_F, "depth": 1, "hidden": 128}),
    ("1 hidden layer (64), lr 1e-2, warm-up 100", {**_F, "depth": 1, "lr": 1e-2, "warmup": 100}),
    ("1,000 steps, lr 1e-2, warm-up 100", {**_F, "n_steps": 1000, "lr": 1e-2, "warmup": 100}),
    ("1,200 steps, EMA 0.999", {**_F, "n_steps": 1200, "ema": 0.999}),
    (
        "800 steps, batch 1,024, lr 1e-2, warm-up 100",
        {**_F, "n_steps": 800, "batch_size": 1024, "lr": 1e-2, "warmup": 100},
    ),
    (
        "1,200 steps, lr 1e-2, warm-up 100, EMA 0.999",
        {**_F, "n_steps": 1200, "lr": 1e-2, "warmup": 100, "ema": 0.999},
    ),
    # fewer, wider or more couplings: per step 8.4 ms (6 x 128), 11.1 ms (8 x 128) and
    # 12.8-13.8 ms (16 x 64) against 9.2-9.8 ms (12 x 64), fused, idle
    ("6 layers of hidden 128", {**_F, "n_layers": 6, "hidden": 128}),
    ("8 layers of hidden 128, 1,200 steps", {**_F, "n_layers": 8, "hidden": 128, "n_steps": 1200}),
    ("16 layers, 1,100 steps", {**_F, "n_layers": 16, "n_steps": 1100}),
    # more steps of the default: on a machine where 1,500 steps train in 10-11 s (the Intel
    # Xeon of results.md's 2026-12-02 map rows), 3,000 fit in the 20 s budget
    ("2,250 steps", {**_F, "n_steps": 2250}),
    ("3,000 steps", {**_F, "n_steps": 3000}),
    # the noise as a learnable mixture of k Gaussians (flows.MixtureBase), same couplings
    # rows 14-17 as measured on 2026-12-02, when the means started at N(0, I) draws
    ("mixture of 8 Gaussians as noise", {**_F, "base_components": 8, "base_start": "random"}),
    ("mixture of 16 Gaussians as noise", {**_F, "base_components": 16, "base_start": "random"}),
    (
        "mixture of 8 Gaussians, 3,000 steps",
        {**_F, "base_components": 8, "n_steps": 3000, "base_start": "random"},
    ),
    (
        "mixture of 16 Gaussians, 3,000 steps",
        {**_F, "base_components": 16, "n_steps": 3000, "base_start": "random"},
    ),
    # the mixture's means started at k-means centres of the data (flows.fit's default since
    # 2026-12-03; results.md, "RealNVP: the mixture's means started at k-means centres")
    (
        "mixture of 8 Gaussians, means at k-means centres",
        {**_F, "base_components": 8, "base_start": "kmeans"},
    ),
    # rows 19-20 (2026-12-03, second session): the k-means start for more of the 20 s budget
    (
        "mixture of 8 Gaussians, k-means, 2,500 steps",
        {**_F, "base_components": 8, "base_start": "kmeans", "n_steps": 2500},
    ),
    (
        "mixture of 8 Gaussians, k-means, 2,500 steps, EMA 0.999",
        {**_F, "base_components": 8, "base_start": "kmeans", "n_steps": 2500, "ema": 0.999},
    ),
]
#: exact training points (seed 1) of the parts score, fm, gan and flow (``--points``);
#: benchmarks/run.py trains on 50,000
TRAIN_POINTS = 5000
#: the five targets of the full benchmark (benchmarks/run.py); the flow part's default
ALL_TARGETS = "two_moons,eight_gaussians,separated_mixture,banana,checkerboard"


def _ms(values, spec: str = ".2f") -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):{spec}} +- {sd:{spec}}"


def _cpu(fn):
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def _weight(x, t):
    """The lightest component's share of x, for mixtures with unequal weights (else None:
    on equal-weight mixtures, and on curve mixtures such as two_moons, which are
    GaussianMixtures of many small components, one component's share means nothing)."""
    if not isinstance(t, targets.GaussianMixture) or isinstance(t, toys.CurveMixture):
        return None
    w = t.weights
    if bool((w == w[0]).all()):
        return None
    return float(score_metrics.mode_weights(x, t)[int(w.argmin())])


def _table(columns, names, seeds, rows, fit, measure) -> str:
    """One markdown row per (target, row): ``measure(model, target, seed) -> {column: value}``
    averaged over seeds, then the training CPU seconds. ``fit(data, seed=, **kw)``."""
    lines = ["| target | training | " + " | ".join(columns) + " | train CPU s |"]
    lines.append("|" + "---|" * (len(columns) + 3))
    for name in names:
        t = targets.get(name)
        data = t.sample(TRAIN_POINTS, seed=1)
        for label, kw in rows:
            values, secs = {c: [] for c in columns}, []
            for s in seeds:
                model, dt = _cpu(functools.partial(fit, data, progress=False, seed=s, **kw))
                secs.append(dt)
                measured = measure(model, t, s)
                for c, v in measured.items():
                    if v is not None:
                        values[c].append(v)
                per_seed = ", ".join(f"{c} {v:.3f}" for c, v in measured.items() if v is not None)
                print(f"  {name}, {label}, seed {s}: {per_seed}, {dt:.1f} CPU s", flush=True)
            cells = [
                _ms(v, ".3f" if "weight" in c else ".2f") if v else "" for c, v in values.items()
            ]
            lines.append("| " + " | ".join([name, label, *cells, _ms(secs)]) + " |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


def score_table(names, seeds, rows=SCORE_ROWS) -> str:
    vp = sde.VP()

    def measure(model, t, s):
        out = {}
        for m, k in SAMPLERS:
            x = sde.sample(model, vp, N, method=m, n_steps=k, seed=s).final()
            out[LABELS[m]] = metrics.quality(x, t, seed=s, repeats=3)
            if m == "em":
                out["small-mode weight (EM)"] = _weight(x, t)
        out["small-mode weight (ODE)"] = _weight(x, t)  # x: the PF-ODE's, the last sampler
        return out

    columns = [*LABELS.values(), "small-mode weight (EM)", "small-mode weight (ODE)"]
    fit = functools.partial(score.fit, an_sde=vp)
    return _table(columns, names, seeds, rows, fit, measure)


def ceiling_table(names, seeds) -> str:
    """The score samplers on the default model against the same samplers on the exact score.

    Per seed s: the default score.fit (training seed s) and ``sde.exact_score`` are sampled
    from the same prior draws and noise (sampling seed s), so each seed gives a paired
    difference; exact draws of the target (seed 10,000 + s) give the measure's spread for a
    perfect sampler. Mixture targets only (the exact score needs one). Columns: quality
    mean +- sd over seeds, the paired difference learned - exact score, and how many seeds
    each reaches <= 1.3.
    """
    vp = sde.VP()
    lines = [
        "| target | sampler | exact draws | exact score | learned | learned - exact score"
        " | seeds <= 1.3 (exact draws / exact score / learned) | train CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, t in _mixtures(names):
        data, exact = t.sample(5000, seed=1), sde.exact_score(t, vp)
        q = {(k, m): [] for k in ("learned", "exact") for m, _ in SAMPLERS}
        draws, secs = [], []
        for s in seeds:
            draws.append(metrics.quality(t.sample(N, seed=10_000 + s), t, seed=s, repeats=3))
            model, dt = _cpu(functools.partial(score.fit, data, an_sde=vp, progress=False, seed=s))
            secs.append(dt)
            for key, fn in (("learned", model), ("exact", exact)):
                for m, k in SAMPLERS:
                    x = sde.sample(fn, vp, N, method=m, n_steps=k, seed=s).final()
                    q[key, m].append(metrics.quality(x, t, seed=s, repeats=3))
        for m, _ in SAMPLERS:
            ex, le = q["exact", m], q["learned", m]
            hits = "/".join(str(sum(v <= 1.3 for v in vs)) for vs in (draws, ex, le))
            diff = [a - b for a, b in zip(le, ex, strict=True)]
            cells = [_ms(draws), _ms(ex), _ms(le), _ms(diff), f"{hits} of {len(seeds)}"]
            lines.append("| " + " | ".join([name, LABELS[m], *cells, _ms(secs)]) + " |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


#: the recipe part: samplers (method, steps) and the training data of each recipe
RECIPE_SAMPLERS = (("em", 500), ("pc", 250), ("pc", 1000), ("ode", 100))
RECIPE_DATA = 50_000


def recipe_table(names, seeds) -> str:
    """The default score.fit trained two ways, sampled from the same draws (paired per seed).

    before: the 5,000 points of seed 1 that every seed shares (as the tables above), prior
    N(0, I). recipe: 50,000 points of seed 100 + s, so the data's own sampling error is not
    shared by every seed (seed 1's points give separated_mixture's small mode 0.207) and is
    3x smaller (sd of that weight 0.0018, against 0.0057 at 5,000); the samplers start from
    N(alpha_T m, I), m the data's mean (``sde.sample(..., prior_mean=)``). Same training
    (score.fit's defaults, 3,000 steps of 512: the data's size does not change the cost).
    Exact draws of the target (seed 10,000 + s) give the measure's spread for a perfect
    sampler.
    """
    vp = sde.VP()
    lines = [
        "| target | sampler | exact draws | before | recipe | recipe - before"
        " | seeds <= 1.3 (exact draws / before / recipe) | train CPU s (recipe) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        t = targets.get(name)
        shared = t.sample(5000, seed=1)
        q = {(k, m): [] for k in ("before", "recipe") for m in RECIPE_SAMPLERS}
        draws, secs = [], []
        for s in seeds:
            draws.append(metrics.quality(t.sample(N, seed=10_000 + s), t, seed=s, repeats=3))
            own = t.sample(RECIPE_DATA, seed=100 + s)
            for key, data, mean in (("before", shared, None), ("recipe", own, own.mean(0))):
                fit = functools.partial(score.fit, data, an_sde=vp, progress=False, seed=s)
                model, dt = _cpu(fit)
                if key == "recipe":
                    secs.append(dt)
                for m, k in RECIPE_SAMPLERS:
                    run = dict(method=m, n_steps=k, seed=s, prior_mean=mean)
                    x = sde.sample(model, vp, N, **run).final()
                    q[key, (m, k)].append(metrics.quality(x, t, seed=s, repeats=3))
            per_seed = ", ".join(f"{k} {m}{n} {v[-1]:.2f}" for (k, (m, n)), v in q.items())
            print(f"  {name}, seed {s}: draws {draws[-1]:.2f}, {per_seed}", flush=True)
        for m, k in RECIPE_SAMPLERS:
            before, recipe = q["before", (m, k)], q["recipe", (m, k)]
            hits = "/".join(str(sum(v <= 1.3 for v in vs)) for vs in (draws, before, recipe))
            diff = [a - b for a, b in zip(recipe, before, strict=True)]
            label = f"{LABELS[m]} {k} steps"
            cells = [_ms(draws), _ms(before), _ms(recipe), _ms(diff), f"{hits} of {len(seeds)}"]
            lines.append("| " + " | ".join([name, label, *cells, _ms(secs)]) + " |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


#: the snr part: (predictor steps, corrector snr) of each PC run; EM 500 steps beside them
SNR_RUNS = ((250, 0.16), (250, 0.08), (250, 0.04), (250, 0.02), (1000, 0.16), (1000, 0.04))


def snr_table(names, seeds, runs=None) -> str:
    """PC's corrector step against its predictor steps, on the recipe's model (paired).

    Per seed s: the recipe's model (50,000 points of seed 100 + s, training seed s, prior at
    the data's mean) sampled by EM 500 steps and by PC with each (predictor steps, corrector
    snr) of SNR_RUNS (step 2 (snr |z| / |s|)^2: Song et al.'s 0.16 is the default), all from
    sampling seed s. The corrector is a Langevin step on the model's p_t, whose own bias
    grows with the step (the snr) and whose reach grows with the number of steps.
    ``runs``: (method, steps, snr or None) after EM 500, which comes first and is the
    reference of the paired column (``--part steps``: EM's own steps; default SNR_RUNS).
    """
    vp = sde.VP()
    runs = [("em", 500, None)] + (runs or [("pc", k, r) for k, r in SNR_RUNS])
    lines = [
        "| target | sampler | exact draws | quality | - EM 500 (paired) | seeds <= 1.3 |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        t = targets.get(name)
        q = {run: [] for run in runs}
        draws = []
        for s in seeds:
            draws.append(metrics.quality(t.sample(N, seed=10_000 + s), t, seed=s, repeats=3))
            data = t.sample(RECIPE_DATA, seed=100 + s)
            model = score.fit(data, an_sde=vp, progress=False, seed=s)
            for m, k, r in runs:
                opts = {} if r is None else {"snr": r}
                run = dict(method=m, n_steps=k, seed=s, prior_mean=data.mean(0), **opts)
                x = sde.sample(model, vp, N, **run).final()
                q[m, k, r].append(metrics.quality(x, t, seed=s, repeats=3))
            per_seed = ", ".join(f"{m}{k} {r or ''} {v[-1]:.2f}" for (m, k, r), v in q.items())
            print(f"  {name}, seed {s}: draws {draws[-1]:.2f}, {per_seed}", flush=True)
        em = q["em", 500, None]
        for m, k, r in runs:
            label = f"{LABELS[m]} {k} steps" + ("" if r is None else f", snr {r}")
            first = (m, k, r) == ("em", 500, None)
            diff = "" if first else _ms([a - b for a, b in zip(q[m, k, r], em, strict=True)])
            hits = f"{sum(v <= 1.3 for v in q[m, k, r])} of {len(seeds)}"
            lines.append(
                "| " + " | ".join([name, label, _ms(draws), _ms(q[m, k, r]), diff, hits]) + " |"
            )
            print(lines[-1], flush=True)
    return "\n".join(lines)


#: the steps part: EM's steps on the recipe's model, PC as run.py runs it (after EM 500)
STEP_RUNS = (("em", 1000, None), ("em", 2000, None), ("pc", 250, 0.04))


#: the tsample part: (label, score.fit keywords); the first row is the recipe's model
TSAMPLE_ROWS = (
    ("t ~ U, 3,000 steps (the default)", {}),
    ("stratified t, 3,000 steps", {"t_stratified": True}),
    ("t ~ U, 2,000 steps", {"n_steps": 2000}),
    ("stratified t, 2,000 steps", {"t_stratified": True, "n_steps": 2000}),
)
#: its samplers: (method, steps, corrector snr): PC at the snr that run.py uses
TSAMPLE_SAMPLERS = (("em", 500, None), ("pc", 250, 0.04), ("ode", 100, None))


def fit_rows_table(names, seeds, rows=TSAMPLE_ROWS) -> str:
    """Rows of ``score.fit`` keywords on the recipe's model, paired per seed (``--part
    tsample``: how the training times t are drawn, i.i.d. uniform or stratified; ``--part
    stf``: the stable target field's reference batch).

    Per seed s: the recipe (50,000 points of seed 100 + s, training seed s, prior at the
    data's mean) trained with each row's keywords and sampled from the same draws (sampling
    seed s). Stratified t (Kingma et al. 2021's low-discrepancy sampler) puts the batch's
    times evenly on [0, 1) with one random offset: the same unbiased loss, lower variance.
    Columns: quality mean +- sd, the paired difference against the first row, seeds <= 1.3,
    training CPU seconds.
    """
    vp = sde.VP()
    lines = [
        "| target | training | sampler | exact draws | quality | - first row | seeds <= 1.3"
        " | train CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        t = targets.get(name)
        q = {(r, m): [] for r in range(len(rows)) for m in TSAMPLE_SAMPLERS}
        secs = {r: [] for r in range(len(rows))}
        draws = []
        for s in seeds:
            draws.append(metrics.quality(t.sample(N, seed=10_000 + s), t, seed=s, repeats=3))
            data = t.sample(RECIPE_DATA, seed=100 + s)
            for r, (_, kw) in enumerate(rows):
                fit = functools.partial(score.fit, data, an_sde=vp, progress=False, seed=s, **kw)
                model, dt = _cpu(fit)
                secs[r].append(dt)
                for m, k, snr in TSAMPLE_SAMPLERS:
                    opts = {} if snr is None else {"snr": snr}
                    run = dict(method=m, n_steps=k, seed=s, prior_mean=data.mean(0), **opts)
                    x = sde.sample(model, vp, N, **run).final()
                    q[r, (m, k, snr)].append(metrics.quality(x, t, seed=s, repeats=3))
                per_seed = ", ".join(
                    f"{m} {q[r, (m, k, n)][-1]:.2f}" for m, k, n in TSAMPLE_SAMPLERS
                )
                print(f"  {name}, seed {s}, row {r}: {per_seed}, {dt:.1f} CPU s", flush=True)
        for r, (label, _) in enumerate(rows):
            for m, k, snr in TSAMPLE_SAMPLERS:
                v, first = q[r, (m, k, snr)], q[0, (m, k, snr)]
                diff = "" if r == 0 else _ms([a - b for a, b in zip(v, first, strict=True)])
                sampler = f"{LABELS[m]} {k}" + ("" if snr is None else f", snr {snr}")
                hits = f"{sum(x <= 1.3 for x in v)} of {len(seeds)}"
                cells = [name, label, sampler, _ms(draws), _ms(v), diff, hits, _ms(secs[r])]
                lines.append("| " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
    return "\n".join(lines)


#: the stable target field (Xu et al. 2023): the reference batch's size, on the recipe's model
STF_ROWS = (
    ("DSM target (the default)", {}),
    ("stable target, reference 64", {"reference": 64}),
    ("stable target, reference 256", {"reference": 256}),
    ("stable target, reference 1,024", {"reference": 1024}),
    ("stable target, reference 64, stratified t", {"reference": 64, "t_stratified": True}),
)
#: the longer part: more training steps of the default, for a machine where 3,000 take
#: about 8 s (results.md's 2026-12-02 Intel Xeon) and the 15 s budget holds about 5,500
LONGER_ROWS = (
    ("3,000 steps (the default)", {}),
    ("5,000 steps", {"n_steps": 5000}),
    ("5,000 steps, stable target, reference 64", {"n_steps": 5000, "reference": 64}),
    # an EMA of the weights (2026-12-03): with training.WeightAverage's ramp, in effect the
    # average over about the last ninth of the 3,000 steps (any decay >= 0.999 gives it)
    ("EMA of the weights (0.999)", {"ema": 0.999}),
)

#: the edm part (2026-12-03): EDM's preconditioning (score.fit(..., base="edm")) on the
#: recipe's model, since ScoreModel gives its residual net He et al.'s init (at torch's init
#: the net sat at a saddle on symmetric targets: eight_gaussians read 28 noise floors)
EDM_ROWS = (
    ("DSM (the default)", {}),
    ("EDM preconditioning", {"base": "edm"}),
    ("EDM preconditioning, stable target r = 64", {"base": "edm", "reference": 64}),
    (
        "EDM preconditioning, stable target r = 64, 4,000 steps",
        {"base": "edm", "reference": 64, "n_steps": 4000},
    ),
    (
        "EDM preconditioning and EDM's weighting and noise levels",
        {"base": "edm", "weighting": "edm"},
    ),
    ("EDM preconditioning, stable target r = 256", {"base": "edm", "reference": 256}),
)

#: the data part: (label, n points, data seed of training seed s)
DATA_ROWS = (
    ("5,000 points of seed 1 (shared; before)", 5000, lambda s: 1),
    ("5,000 points of seed 100 + s", 5000, lambda s: 100 + s),
    ("50,000 points of seed 100 + s", 50_000, lambda s: 100 + s),
)


def data_table(names, seeds) -> str:
    """What the training data and the prior's mean do, against the exact score (paired).

    Per seed s: ``sde.exact_score`` and the default score.fit on each DATA_ROWS data set
    (training seed s) are sampled from the same draws (sampling seed s), with the prior
    N(0, I) and with N(alpha_T m, I) (m: the data's mean, the exact score's the target's).
    Columns: quality and small-mode weight, mean +- sd over seeds, and the paired difference
    from the exact score under the same prior. Mixture targets only.
    """
    vp = sde.VP()
    lines = [
        "| target | score | prior | EM | PC | PF-ODE | weight (EM / PF-ODE)"
        " | model - exact score: quality (EM / PC / PF-ODE)"
        " | model - exact score: weight (EM / PF-ODE) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, t in _mixtures(names):
        runs = {}  # (score label, prior label) -> {sampler: ([quality], [weight])}
        exact, t_mean = sde.exact_score(t, vp), t.sample(200_000, seed=7).mean(0)
        for s in seeds:
            _measure(runs, ("exact score", "N(0, I)"), exact, vp, t, None, s)
            _measure(runs, ("exact score", "at the mean"), exact, vp, t, t_mean, s)
            for label, n, data_seed in DATA_ROWS:
                data = t.sample(n, seed=data_seed(s))
                model = score.fit(data, an_sde=vp, progress=False, seed=s)
                _measure(runs, (label, "N(0, I)"), model, vp, t, None, s)
                _measure(runs, (label, "at the mean"), model, vp, t, data.mean(0), s)
            print(f"  {name}, seed {s} done", flush=True)
        for (label, prior), by in runs.items():
            ref = runs["exact score", prior]
            qs = [_ms(by[m][0]) for m, _ in SAMPLERS]
            has_w = by["em"][1][0] is not None
            w = f"{_ms(by['em'][1], '.3f')} / {_ms(by['ode'][1], '.3f')}" if has_w else ""
            dq = dw = ""
            if label != "exact score":
                dq = " / ".join(_ms(_paired(by, ref, m, 0)) for m, _ in SAMPLERS)
                if has_w:
                    dw = " / ".join(_ms(_paired(by, ref, m, 1), ".3f") for m in ("em", "ode"))
            lines.append("| " + " | ".join([name, label, prior, *qs, w, dq, dw]) + " |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


#: the annealed part: (label, levels of the ladder, Langevin steps per level); alpha_i /
#: sigma_i^2 = 0.2 at every level (langevin.annealed's default) in every row
ANNEALED_ROWS = [
    ("10 levels x 100 steps (before)", 10, 100),
    ("10 levels x 400 steps", 10, 400),
    ("20 levels x 100 steps", 20, 100),
    ("40 levels x 100 steps", 40, 100),
    ("100 levels x 40 steps", 100, 40),
]


def _with_draws(name, seeds):
    """The target, whether it has exact perturbed scores (a mixture of at most 16
    components), and the quality of exact draws (seed 10,000 + s) per seed: the measure's
    spread for a perfect sampler."""
    t = targets.get(name)
    few = isinstance(t, targets.GaussianMixture) and len(t.means) <= 16
    draws = [metrics.quality(t.sample(N, seed=10_000 + s), t, seed=s, repeats=3) for s in seeds]
    return t, few, draws


def annealed_table(names, seeds, rows=ANNEALED_ROWS) -> str:
    """Annealed Langevin's schedule: the learned ladder model against the exact scores.

    Per seed s and row: a ladder model trained on that row's geometric ladder (sigma_max the
    data's largest pairwise distance, sigma_min 0.05, as score.fit's default; 50,000 points
    of seed 100 + s, training seed s, score.fit's 3,000 steps) and, on the mixtures with few
    components, the exact perturbed scores, both run by ``langevin.annealed`` from the same
    uniform start over the plot box (benchmarks/run.py's) with the same noise (seed s), so
    learned - exact is paired. Exact draws (seed 10,000 + s) give the measure's spread.
    """
    lines = [
        "| target | schedule | exact draws | exact scores | learned | learned - exact scores"
        " | small-mode weight (exact scores / learned) | seeds <= 1.3 (learned)"
        " | train CPU s | sample CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        t, few, draws = _with_draws(name, seeds)
        for label, n_levels, n_steps in rows:
            q, w, secs, samp = {"exact": [], "learned": []}, {"exact": [], "learned": []}, [], []
            for s in seeds:
                data = t.sample(RECIPE_DATA, seed=100 + s)
                sig = score.geometric_sigmas(score.max_pairwise_distance(data), 0.05, n_levels)
                fit = functools.partial(score.fit, data, method="ladder", sigmas=sig, seed=s)
                model, dt = _cpu(functools.partial(fit, progress=False))
                secs.append(dt)
                fns = {"learned": model.score}
                if few:
                    fns["exact"] = score.from_sigma(lambda x, v, t=t: t.perturbed(v).score(x), sig)
                for key, fn in fns.items():
                    start = uniform_box(t.bounds, N, seed=s)
                    run = functools.partial(langevin.annealed, fn, sig, start, n_steps, seed=s)
                    tr, ds = _cpu(run)
                    if key == "learned":
                        samp.append(ds)
                    q[key].append(metrics.quality(tr.final(), t, seed=s, repeats=3))
                    w[key].append(_weight(tr.final(), t))
                got = ", ".join(f"{k} {v[-1]:.2f}" for k, v in q.items() if v)
                print(f"  {name}, {label}, seed {s}: {got}, {dt:.1f} + {samp[-1]:.1f} CPU s")
            diff = [a - b for a, b in zip(q["learned"], q["exact"], strict=True)] if few else []
            weights = [_ms(w[k], ".3f") for k in w if w[k] and w[k][0] is not None]
            hits = f"{sum(v <= 1.3 for v in q['learned'])} of {len(seeds)}"
            cells = [_ms(draws), _ms(q["exact"]) if few else "", _ms(q["learned"])]
            cells += [_ms(diff) if diff else "", " / ".join(weights), hits, _ms(secs), _ms(samp)]
            lines.append("| " + " | ".join([name, label, *cells]) + " |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


#: annealed Langevin's steps per level (10 levels, largest first) on the default ladder: the
#: extra steps go where the measured freezes are (results.md, "annealed Langevin: steps
#: where the particles freeze"): level 4 (sigma about 2.8), where separated_mixture's
#: modes part, and levels 6-8 (sigma 0.73-0.19), where banana's arms contract (run.py's)
LADDER_SCHEDULES = [
    ("100 per level (before)", [100] * 10),
    ("1,000 at level 4, 400 at levels 6-8", list(ANNEALED_STEPS)),
    ("1,000 at level 4, 400 at levels 5-10", [100, 100, 100, 1000] + [400] * 6),
]
#: the ladder model's training target: DSM's (score.fit's default) or the stable target field
LADDER_TARGETS = [("DSM target", None), ("stable target field (r = 256)", 256)]


def ladder_table(names, seeds, schedules=LADDER_SCHEDULES) -> str:
    """Annealed Langevin on score.fit's default ladder: steps per level and the training target.

    Per seed s: two ladder models (score.fit's default ladder and 3,000 steps; 50,000 points
    of seed 100 + s, training seed s), one on the DSM target and one on the stable target
    field, and on the mixtures with few components the exact perturbed scores; each run by
    ``langevin.annealed`` with every schedule from the same uniform start over the plot box
    with the same noise (seed s), so rows are paired. Exact draws (seed 10,000 + s) give the
    measure's spread. Sample CPU s: the learned model's run.
    """
    lines = [
        "| target | training target | steps per level | exact draws | exact scores | learned"
        " | small-mode weight (exact scores / learned) | seeds <= 1.3 (learned)"
        " | train CPU s | sample CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        t, few, draws = _with_draws(name, seeds)
        keys = [("exact", None, label) for label, _ in schedules] if few else []
        keys += [(tl, ref, label) for tl, ref in LADDER_TARGETS for label, _ in schedules]
        q, w, secs, samp = ({k: [] for k in keys} for _ in range(4))
        for s in seeds:
            data = t.sample(RECIPE_DATA, seed=100 + s)
            sig = score.geometric_sigmas(score.max_pairwise_distance(data), 0.05, 10)
            fns = {}  # score function and its training CPU s
            if few:
                fns["exact"] = (score.from_sigma(lambda x, v, t=t: t.perturbed(v).score(x), sig), 0)
            for tl, ref in LADDER_TARGETS:
                fit = functools.partial(score.fit, data, method="ladder", sigmas=sig, seed=s)
                model, dt = _cpu(functools.partial(fit, reference=ref, progress=False))
                fns[tl] = (model.score, dt)
            for k in keys:
                fn, dt = fns[k[0]]
                start = uniform_box(t.bounds, N, seed=s)
                steps = dict(schedules)[k[2]]
                tr, ds = _cpu(functools.partial(langevin.annealed, fn, sig, start, steps, seed=s))
                q[k].append(metrics.quality(tr.final(), t, seed=s, repeats=3))
                w[k].append(_weight(tr.final(), t))
                secs[k].append(dt)
                samp[k].append(ds)
            got = ", ".join(f"{k[0][:5]}/{k[2][:9]} {v[-1]:.2f}" for k, v in q.items())
            print(f"  {name}, seed {s}: {got}", flush=True)
        for label, _ in schedules:
            for tl, ref in LADDER_TARGETS:
                k, e = (tl, ref, label), ("exact", None, label)
                pair = (e, k) if few else (k,)
                weights = [_ms(w[j], ".3f") for j in pair if w[j][0] is not None]
                hits = f"{sum(v <= 1.3 for v in q[k])} of {len(seeds)}"
                cells = [_ms(draws), _ms(q[e]) if few else "", _ms(q[k]), " / ".join(weights)]
                cells += [hits, _ms(secs[k]), _ms(samp[k])]
                lines.append("| " + " | ".join([name, tl, label, *cells]) + " |")
                print(lines[-1], flush=True)
    return "\n".join(lines)


def _mixtures(names):
    """(name, target) for the Gaussian mixtures among names: the targets with an exact score."""
    for name in names:
        t = targets.get(name)
        if isinstance(t, targets.GaussianMixture):
            yield name, t


#: the bands part: (label, lo, hi): the learned score where lo <= t < hi, the exact one elsewhere
BANDS = (
    ("exact score everywhere", 9.0, 9.0),
    ("learned everywhere", 0.0, 2.0),
    ("learned for t < 0.05", 0.0, 0.05),
    ("learned for t < 0.2", 0.0, 0.2),
    ("learned for 0.2 <= t < 0.5", 0.2, 0.5),
    ("learned for t >= 0.5", 0.5, 2.0),
    ("learned for t >= 0.05", 0.05, 2.0),
)


def _hybrid(model, exact, lo, hi):
    """A score_fn: ``model``'s where lo <= t < hi, ``exact``'s elsewhere (the bands and
    weights parts)."""

    def fn(x, tt):
        now = float(tt) if not torch.is_tensor(tt) or tt.ndim == 0 else float(tt[0])
        return model(x, tt) if lo <= now < hi else exact(x, tt)

    return fn


def bands_table(names, seeds) -> str:
    """Where in t the recipe's model costs the PF-ODE its quality (mixture targets).

    Per seed s: the recipe's model (50,000 points of seed 100 + s, training seed s) and the
    PF-ODE (100 RK4 steps, prior at the data's mean, sampling seed s) on a hybrid score:
    the model's where lo <= t < hi, ``sde.exact_score`` elsewhere, every row from the same
    draws. Columns: quality mean +- sd and the paired difference from the exact score.
    """
    vp = sde.VP()
    lines = [
        "| target | PF-ODE 100 on | quality | - exact score (paired) |",
        "|---|---|---|---|",
    ]
    for name, t in _mixtures(names):
        exact, q = sde.exact_score(t, vp), {label: [] for label, _, _ in BANDS}
        for s in seeds:
            data = t.sample(RECIPE_DATA, seed=100 + s)
            model = score.fit(data, an_sde=vp, progress=False, seed=s)
            for label, lo, hi in BANDS:
                hybrid = _hybrid(model, exact, lo, hi)

                run = dict(method="ode", n_steps=100, seed=s, prior_mean=data.mean(0))
                x = sde.sample(hybrid, vp, N, **run).final()
                q[label].append(metrics.quality(x, t, seed=s, repeats=3))
            per_seed = ", ".join(f"{v[-1]:.2f}" for v in q.values())
            print(f"  {name}, seed {s}: {per_seed}", flush=True)
        ref = q[BANDS[0][0]]
        for label, v in q.items():
            diff = "" if v is ref else _ms([a - b for a, b in zip(v, ref, strict=True)])
            lines.append(f"| {name} | {label} | {_ms(v)} | {diff} |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


#: the weights part: EM's bands of t (the bands part's, with t >= 0.5 split at 0.75)
WEIGHT_BANDS = (
    *BANDS[:3],
    ("learned for 0.05 <= t < 0.2", 0.05, 0.2),
    *BANDS[4:6],
    ("learned for 0.5 <= t < 0.75", 0.5, 0.75),
    ("learned for t >= 0.75", 0.75, 2.0),
)


def _shares(t, x) -> torch.Tensor:
    """Each mode's share of the points x, each point given to its most likely mode."""
    k = t.responsibilities(x).argmax(1)
    return torch.bincount(k, minlength=len(t.weights)).double() / len(x)


def _chi2(share, ref, w, n) -> float:
    """sum_k (n share_k - n ref_k)^2 / (n w_k): the counts of n points against ``ref``."""
    return float(((share - ref) ** 2 / w).sum()) * n


def weights_table(names, seeds) -> str:
    """Where in t the recipe's model sets EM's mode weights (mixture targets).

    Per seed s: the recipe's model (50,000 points of seed 100 + s, training seed s) and EM
    (1,000 steps, prior at the data's mean) on a hybrid score, the model's where lo <= t <
    hi and ``sde.exact_score`` elsewhere, over the expected part's 10 sampling seeds (20,000
    points, every row from the same draws). Each point goes to its most likely mode;
    chi^2 = sum_k (n_k - n w_k)^2 / (n w_k) over the modes (k - 1 on average for exact
    draws: 7 on eight_gaussians), the largest |share - w_k|, the same chi^2 against the
    exact score's counts n_k' on the same draws, sum_k (n_k - n_k')^2 / (n w_k) (the noise
    the rows share taken out: what the band's learned score moves), and 1 + (expected -
    exact draws') as in the expected part.
    """
    vp = sde.VP()
    lines = [
        "| target | EM 1,000 on | chi^2 of the mode counts per seed | mean | largest share"
        " error, mean | chi^2 against the exact score's counts (same draws) per seed | mean |"
        " 1 + (expected - exact draws'), mean +- sd |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, t in _mixtures(names):
        exact, w = sde.exact_score(t, vp), t.weights.double()
        floor, n = metrics.expected_floor(t, N), N * len(EXPECTED_SEEDS)
        ex = statistics.mean(_exact_expected(t, EXPECTED_SEEDS))  # in floors
        rows = {label: ([], [], [], []) for label, _, _ in WEIGHT_BANDS}
        data_rows = ([], [])
        for s in seeds:
            data = t.sample(RECIPE_DATA, seed=100 + s)
            share = _shares(t, data)
            data_rows[0].append(_chi2(share, w, w, n))
            data_rows[1].append(float((share - w).abs().max()))
            model = score.fit(data, an_sde=vp, progress=False, seed=s)
            base = None  # the exact score's shares on these draws (BANDS' first row)
            run = dict(method="em", n_steps=1000, prior_mean=data.mean(0))
            for label, lo, hi in WEIGHT_BANDS:
                hybrid = _hybrid(model, exact, lo, hi)
                xs = {k: sde.sample(hybrid, vp, N, seed=k, **run).final() for k in EXPECTED_SEEDS}
                share = _shares(t, torch.cat(list(xs.values())))
                if base is None:
                    base = share
                chi, far, q, paired = rows[label]
                chi.append(_chi2(share, w, w, n))
                paired.append(_chi2(share, base, w, n))
                far.append(float((share - w).abs().max()))
                q.append(
                    1 + statistics.mean(_distance(x, t, k) for k, x in xs.items()) / floor - ex
                )
            per_seed = ", ".join(f"{v[0][-1]:.1f}" for v in rows.values())
            print(f"  {name}, seed {s}: chi^2 {per_seed}", flush=True)
        lines.append(
            f"| {name} | the training data ({RECIPE_DATA:,} points; chi^2 scaled to {n:,}) | "
            + " / ".join(f"{v:.1f}" for v in data_rows[0])
            + f" | {statistics.mean(data_rows[0]):.1f}"
            + f" | {statistics.mean(data_rows[1]):.4f} | | | |"
        )
        for label, (chi, far, q, paired) in rows.items():
            cells = [
                name,
                label,
                " / ".join(f"{v:.1f}" for v in chi),
                f"{statistics.mean(chi):.1f}",
                f"{statistics.mean(far):.4f}",
                " / ".join(f"{v:.1f}" for v in paired),
                f"{statistics.mean(paired):.1f}",
                _ms(q),
            ]
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


#: the slopes part (2026-12-03, fourth session): the recipe's VP model at these t and
#: trainings (the ladder model at its five lowest levels, where the modes barely overlap)
SLOPE_TIMES = (0.01, 0.03, 0.1, 0.2, 0.4)
SLOPE_TRAININGS = (
    ("VP, 3,000 steps (the recipe)", {}),
    ("VP, 5,000 steps", {"n_steps": 5000}),
    ("VP, 3,000 steps, log-sigma time input", {"time_input": "log_sigma"}),
)


def _slope(fn, mean, direction, half_width) -> float:
    """Least-squares slope of fn's component along direction, through mean +- half_width."""
    off = torch.linspace(-half_width, half_width, 17, dtype=torch.float64)
    y = fn(mean + off[:, None] * direction) @ direction
    return float((y * off).sum() / (off * off).sum())


def slopes_table(names, seeds) -> str:
    """How steep each learned score is at each mode of a Gaussian mixture, against the exact
    score: the radial and tangential slopes of the score through each mode's centre (a
    line fitted over +- 1 of the mode's sd), learned over exact, per mode and seed.

    At equilibrium a slope 10% too flat widens that mode by about 5%. The recipe's VP model
    (50,000 points of seed 100 + s, training seed s) at SLOPE_TIMES against
    ``sde.exact_score``; the ladder model of the expected part at its five lowest levels
    (from about 0.55 on eight_gaussians, 0.37 on separated_mixture, down to 0.05) against the
    perturbed mixture's score.
    """
    vp = sde.VP()
    lines = [
        "| target | model | t (VP) or sigma (ladder) | radial slope, learned / exact: mean +- sd |"
        " range over modes and seeds | tangential: mean +- sd | range |",
        "|---|---|---|---|---|---|---|",
    ]
    ladder = _expected_samplers()["annealed Langevin (run.py's steps, the ladder part's model)"][0]
    for name, t in _mixtures(names):
        rows, levels, exact = {}, {}, sde.exact_score(t, vp)
        for s in seeds:
            data = t.sample(RECIPE_DATA, seed=100 + s)
            for label, kw in SLOPE_TRAININGS:
                model = score.fit(data, an_sde=vp, progress=False, seed=s, **kw)
                for tt in SLOPE_TIMES:
                    a = float(vp.marginal(torch.tensor(tt))[0])
                    ts = torch.full((17,), tt, dtype=torch.float64)
                    rows.setdefault((label, f"{tt:g}"), []).append(
                        _mode_slopes(t, a, _at(model.score, ts.float()), _at(exact, ts))
                    )
            model, sig = ladder(t, s)
            lad = score.Ladder(sig)
            for i, sg in enumerate(sig.tolist()[-5:], start=len(sig) - 4):
                p = t.perturbed(sg)  # each seed's ladder starts at its data's spread
                key = ("ladder (stable target, reference 256)", f"level {i}")
                levels.setdefault(key[1], []).append(sg)
                rows.setdefault(key, []).append(
                    _mode_slopes(t, 1.0, _at(model.score, lad.time(sg)), _at(p.score))
                )
            print(f"  {name}, seed {s} done", flush=True)
        for (label, at), per_seed in rows.items():
            radial = [r for seed_rows in per_seed for r, _ in seed_rows]
            tangential = [q for seed_rows in per_seed for _, q in seed_rows]
            if at in levels:
                at += f" (sigma {min(levels[at]):.3f}-{max(levels[at]):.3f})"
            cells = [
                name,
                label,
                at,
                _ms(radial, ".3f"),
                f"{min(radial):.2f}-{max(radial):.2f}",
                _ms(tangential, ".3f"),
                f"{min(tangential):.2f}-{max(tangential):.2f}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


def _at(fn, *args):
    """x -> fn(x, *args) in float64 (x cast to fn's float32 where args are float32)."""

    def call(x):
        return fn(x.float() if args and args[0].dtype == torch.float32 else x, *args).double()

    return call


def _mode_slopes(t, scale, learned_fn, exact_fn) -> list[tuple[float, float]]:
    """(radial, tangential) slope ratios learned / exact at each of t's modes (2D), the
    modes' centres scaled by ``scale`` (alpha_t on a VP marginal), each mode's sd as the
    half width."""
    out = []
    centre = t.means.double().mean(0)
    with torch.no_grad():
        for mean, sd in zip(
            t.means.double() * scale, t.stds.double().reshape(-1).expand(len(t.means)), strict=True
        ):
            u = mean - centre * scale
            u = (
                u / u.norm()
                if float(u.norm()) > 0
                else torch.tensor([1.0, 0.0], dtype=torch.float64)
            )
            v = torch.stack([-u[1], u[0]])
            out.append(
                tuple(
                    _slope(learned_fn, mean, d, float(sd)) / _slope(exact_fn, mean, d, float(sd))
                    for d in (u, v)
                )
            )
    return out


#: sampling seeds of the weights part, and the expected part's first 10 (its --sets default)
EXPECTED_SEEDS = range(200, 210)
#: groups of exact draws in the expected part's baseline: group j draws seed 20,000 + k +
#: 1,000 j at sampling seed k (j = 0 alone until 2026-12-04; one group's mean is as noisy as
#: a training's, sd 0.10-0.24 of the floor over 10 sets, so one group set every row's offset)
BASELINE_GROUPS = 30


def _exact_expected(t, ks, groups: int = BASELINE_GROUPS) -> list[float]:
    """The exact draws' expected reading once per group j < groups: the mean over the
    sampling seeds ks (each < 1,000) of ``_distance`` of the draw of seed 20,000 + k +
    1,000 j, over the closed-form floor. Their mean is the baseline a sampler's expected
    reading is compared with (the same reference draws); their sd, what a perfect sampler's
    expected reading over ks scatters by."""
    floor = metrics.expected_floor(t, N)
    return [
        statistics.mean(_distance(t.sample(N, seed=20_000 + k + 1000 * j), t, k) for k in ks)
        / floor
        for j in range(groups)
    ]


def _distance(x, t, k) -> float:
    """The energy distance ``metrics.quality(x, t, seed=k, repeats=3)`` divides by its
    floor: the mean over the same three reference draws."""
    refs = [t.sample(N, seed=metrics.reference_seed(k, r)) for r in range(3)]
    return statistics.mean(metrics.energy_distance(x, y) for y in refs)


#: the expected part's samplers: label -> (train(target, s) -> (model, aux), draw(model,
#: aux, target, k) -> (N, 2) samples); the PF-ODE and EM on the recipe's model (50,000
#: points of seed 100 + s, prior at their mean), RealNVP and the GAN as run.py trains them
#: (50,000 points of seed 1, as the flow and gan parts with --points 50000), annealed
#: Langevin with run.py's steps per level on the ladder part's model (stable target field),
#: PC with run.py's steps and snr on the recipe's model, flow matching as run.py trains it;
#: rows 7-8: EM and the PF-ODE on the recipe's model trained for 5,000 steps instead of 3,000;
#: rows 9-11: EM, the PF-ODE and PC on the recipe's model with the time embedding fed the
#: position of log(sigma_t / alpha_t) instead of t (ScoreModel's time_input="log_sigma");
#: row 12: annealed Langevin on the ladder model with an EMA of its weights (Song & Ermon
#: 2020's technique 5, for annealed Langevin's unstable samples); row 13: the same model with
#: twice run.py's steps per level at half its step (alpha_i / sigma_i^2 = 0.1 instead of
#: 0.2): the same Langevin time per level, half the step's bias; row 14: row 13's sampler
#: on a wider ladder model (hidden 192 instead of 128) trained for 2,400 steps instead of
#: 3,000, about the same CPU seconds; row 15: row 13's sampler on the ladder model with EDM's
#: preconditioning (score.fit's base="edm": the net sees x / sqrt(std^2 + sigma^2) and adds
#: to the score of N(mean, std^2 + sigma^2), Karras et al. 2022); row 16: row 13's model
#: and sampler on the data standardized, (x - mean) / std with std the RMS of the
#: coordinates' sds and the levels divided by std (EDM's input scaling without its skip and
#: output scaling), sampled there and mapped back: the same Langevin dynamics; row 17: row
#: 15 with the score's denoiser x + sigma^2 s clamped to the training data's box
#: (score.clamped: DDPM's clip_denoised for the data's own box); rows 18-20: EM, PC and
#: the PF-ODE on the recipe's model trained for 4,000 steps with an EMA of its weights
#: (run.py's VP_FIT); rows 21-23: the same, the model's denoiser clamped to the data's box
def _expected_samplers():
    vp = sde.VP()

    def recipe(t, s, **fit):
        data = t.sample(RECIPE_DATA, seed=100 + s)
        return score.fit(data, an_sde=vp, progress=False, seed=s, **fit), data

    longer = functools.partial(recipe, **dict(LONGER_ROWS)["5,000 steps"])
    log_sigma = functools.partial(recipe, time_input="log_sigma")

    def reverse(method, n_steps, **opts):
        def draw(model, data, t, k):
            run = dict(method=method, n_steps=n_steps, seed=k, prior_mean=data.mean(0))
            return sde.sample(model, vp, N, **run, **opts).final()

        return draw

    def fm(t, s):
        return flow_matching.fit(t.sample(50_000, seed=1), progress=False, seed=s), None

    def flow(t, s):
        kw = {"fused": True, "base_components": 8}
        return flows.fit(t.sample(50_000, seed=1), progress=False, seed=s, **kw), None

    def gan_(t, s):
        data = t.sample(50_000, seed=1)
        return gan.fit(data, snapshot_every=0, progress=False, seed=s, **gan.BENCHMARK_RECIPE), None

    def ladder(t, s, standardize=False, clamp=False, **opts):
        data = t.sample(RECIPE_DATA, seed=100 + s)
        sig = score.geometric_sigmas(score.max_pairwise_distance(data), 0.05, 10)
        if not standardize:
            fit = functools.partial(score.fit, data, method="ladder", sigmas=sig, seed=s)
            model = fit(reference=256, progress=False, **opts)
            # row 17: the sampler sees the score with its denoiser clamped to the data's box
            return (score.clamped(model.score, sig, data), sig) if clamp else (model, sig)
        # row 16: the ladder model of (data - mean) / std, its levels divided by std
        mean, std = data.mean(0), float(data.std(0).pow(2).mean().sqrt())
        fit = functools.partial(score.fit, (data - mean) / std, method="ladder", seed=s)
        return fit(sigmas=sig / std, reference=256, progress=False, **opts), (sig, mean, std)

    ladder_ema = functools.partial(ladder, ema=0.999)
    ladder_wide = functools.partial(ladder, ema=0.999, hidden=192, n_steps=2400)
    ladder_edm = functools.partial(ladder, ema=0.999, base="edm")
    ladder_std = functools.partial(ladder, ema=0.999, standardize=True)
    ladder_edm_clamped = functools.partial(ladder, ema=0.999, base="edm", clamp=True)
    vp_ema = functools.partial(recipe, ema=0.999, n_steps=4000)  # rows 18-20: run.py's VP_FIT

    def vp_ema_clamped(t, s):  # rows 21-23: run.py's VP rows since the clamp
        model, data = vp_ema(t, s)
        return score.clamped(model.score, vp, data), data

    def annealed(model, sig, t, k, mult=1, ratio=None, bounds=None):
        start = uniform_box(bounds or t.bounds, N, seed=k)
        steps = [n * mult for n in ANNEALED_STEPS]
        fn = getattr(model, "score", model)  # a ScoreModel, or row 17's clamped score_fn
        return langevin.annealed(fn, sig, start, steps, seed=k, step_ratio=ratio).final()

    finer = functools.partial(annealed, mult=2, ratio=0.1)  # rows 13-16

    def finer_std(model, aux, t, k):  # row 16: row 13's run in the standardized space
        sig, mean, std = aux
        box = [
            ((lo - float(m)) / std, (hi - float(m)) / std) for (lo, hi), m in zip(t.bounds, mean)
        ]
        return mean + std * finer(model, sig / std, t, k, bounds=box)

    one_pass = lambda m, _, t, k: m.sample(N, seed=k)  # noqa: E731
    return {
        "PF-ODE 100 (the recipe's VP model)": (recipe, reverse("ode", 100)),
        "RealNVP (run.py's)": (flow, one_pass),
        "GAN (gan.BENCHMARK_RECIPE)": (gan_, one_pass),
        "EM 1,000 (the recipe's VP model)": (recipe, reverse("em", 1000)),
        "annealed Langevin (run.py's steps, the ladder part's model)": (ladder, annealed),
        "PC 250, snr 0.04 (the recipe's VP model)": (recipe, reverse("pc", 250, snr=PC_SNR)),
        "flow matching (run.py's)": (fm, one_pass),
        "EM 1,000 (the recipe's VP model, 5,000 steps)": (longer, reverse("em", 1000)),
        "PF-ODE 100 (the recipe's VP model, 5,000 steps)": (longer, reverse("ode", 100)),
        "EM 1,000 (the recipe's VP model, log-sigma time input)": (log_sigma, reverse("em", 1000)),
        "PF-ODE 100 (the recipe's VP model, log-sigma time input)": (
            log_sigma,
            reverse("ode", 100),
        ),
        "PC 250, snr 0.04 (the recipe's VP model, log-sigma time input)": (
            log_sigma,
            reverse("pc", 250, snr=PC_SNR),
        ),
        "annealed Langevin (run.py's steps, the ladder part's model with an EMA of 0.999)": (
            ladder_ema,
            annealed,
        ),
        "annealed Langevin (twice run.py's steps at step ratio 0.1, the ladder part's model "
        "with an EMA of 0.999)": (ladder_ema, finer),
        "annealed Langevin (twice run.py's steps at step ratio 0.1, the ladder part's model "
        "with an EMA of 0.999, 192 wide for 2,400 steps)": (ladder_wide, finer),
        "annealed Langevin (twice run.py's steps at step ratio 0.1, the ladder part's model "
        "with an EMA of 0.999 and EDM's preconditioning)": (ladder_edm, finer),
        "annealed Langevin (twice run.py's steps at step ratio 0.1, the ladder part's model "
        "with an EMA of 0.999, on the data standardized)": (ladder_std, finer_std),
        "annealed Langevin (twice run.py's steps at step ratio 0.1, the ladder part's model "
        "with an EMA of 0.999 and EDM's preconditioning, its denoiser clamped to the data's "
        "box)": (ladder_edm_clamped, finer),
        "EM 1,000 (the recipe's VP model with an EMA of 0.999, 4,000 steps)": (
            vp_ema,
            reverse("em", 1000),
        ),
        "PC 250, snr 0.04 (the recipe's VP model with an EMA of 0.999, 4,000 steps)": (
            vp_ema,
            reverse("pc", 250, snr=PC_SNR),
        ),
        "PF-ODE 100 (the recipe's VP model with an EMA of 0.999, 4,000 steps)": (
            vp_ema,
            reverse("ode", 100),
        ),
        "EM 1,000 (the recipe's VP model with an EMA of 0.999, 4,000 steps, its denoiser "
        "clamped to the data's box)": (vp_ema_clamped, reverse("em", 1000)),
        "PC 250, snr 0.04 (the recipe's VP model with an EMA of 0.999, 4,000 steps, its "
        "denoiser clamped to the data's box)": (vp_ema_clamped, reverse("pc", 250, snr=PC_SNR)),
        "PF-ODE 100 (the recipe's VP model with an EMA of 0.999, 4,000 steps, its denoiser "
        "clamped to the data's box)": (vp_ema_clamped, reverse("ode", 100)),
    }


def expected_table(names, seeds, samplers=None, sets: int = 10) -> str:
    """Each training's expected reading: the mean energy distance over ``sets`` sampling
    seeds divided by the noise floor, beside the one reading of the other parts.

    A reading of ``metrics.quality`` at sampling seed s has two sources of noise: the
    samples and the reference draws (``repeats=3`` averages three); its denominator is the
    closed-form floor (until 2026-12-03 the floor of seed s from 10 drawn pairs, a third
    source). Per training seed s: the usual reading (sampling seed s), and over the
    sampling seeds 200, 201, ... (``sets`` of them) the mean of the distances (each against
    the same three reference draws as quality's) over the floor, with the largest and
    smallest single reading there. The baseline: exact draws measured the same way,
    BASELINE_GROUPS groups of them (:func:`_exact_expected`), against the same reference
    draws, so 1 + (expected - baseline) is the training's ratio with the shared reference
    noise taken out: about 1 + D / floor, D the energy distance of the sampler's law from
    the target's; the exact groups' sd is that estimate's noise for a perfect sampler.
    Rows that train alike (the recipe's model under EM, PC and the PF-ODE) train once.
    """
    if not 1 <= sets <= 800:  # group j's seeds 20,000 + k + 1,000 j must not collide
        raise ValueError(f"sets must be in 1..800, got {sets}")
    samplers = samplers or list(_expected_samplers().items())
    ks = range(EXPECTED_SEEDS.start, EXPECTED_SEEDS.start + sets)
    lines = [
        f"| target | sampler | exact draws, expected ({BASELINE_GROUPS} groups: mean, sd) |"
        " reading at seed s (mean) | expected per training seed 0 / 1 / ... |"
        " 1 + (expected - exact draws') per seed | largest of those |"
        " single readings, range | farthest sample from the origin per seed | train CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    trained = {}  # (train, name, s) -> ((model, data), CPU s)
    for name in names:
        t = targets.get(name)
        floor = metrics.expected_floor(t, N)  # quality's, the same for every seed
        groups = _exact_expected(t, ks)
        ex, ex_sd = statistics.mean(groups), statistics.stdev(groups)
        print(
            f"  {name}: exact draws {ex:.3f} (first group {groups[0]:.3f}, sd {ex_sd:.3f})",
            flush=True,
        )
        for label, (train, draw) in samplers:
            one, expect, singles, secs, far = [], [], [], [], []
            for s in seeds:
                key = (train, name, s)
                if key not in trained:
                    trained[key] = _cpu(functools.partial(train, t, s))
                (model, data), dt = trained[key]
                secs.append(dt)
                one.append(metrics.quality(draw(model, data, t, s), t, seed=s, repeats=3))
                xs = [draw(model, data, t, k) for k in ks]
                ds = [_distance(x, t, k) for x, k in zip(xs, ks)]
                expect.append(statistics.mean(ds) / floor)
                singles += [d / floor for d in ds]  # quality's readings
                # a particle that ran far off hardly moves the energy distance: report it
                far.append(max(float(x.double().norm(dim=1).max()) for x in xs))
                print(
                    f"  {name}, {label}, seed {s}: reading {one[-1]:.2f}, expected "
                    f"{expect[-1]:.3f}, farthest {far[-1]:.1f}, {dt:.1f} CPU s",
                    flush=True,
                )
            excess = [1 + v - ex for v in expect]
            cells = [
                name,
                label,
                f"{ex:.2f}, {ex_sd:.2f}",
                _ms(one),
                " / ".join(f"{v:.2f}" for v in expect),
                " / ".join(f"{v:.2f}" for v in excess),
                f"{max(excess):.2f}",
                f"{min(singles):.2f}-{max(singles):.2f}",
                " / ".join(f"{v:.1f}" for v in far),
                _ms(secs, ".1f"),
            ]
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


def _measure(runs, key, fn, vp, t, mean, s) -> None:
    """Sample ``fn`` with each of SAMPLERS (seed s, prior mean ``mean``) into runs[key]."""
    for m, k in SAMPLERS:
        x = sde.sample(fn, vp, N, method=m, n_steps=k, seed=s, prior_mean=mean).final()
        q, w = runs.setdefault(key, {}).setdefault(m, ([], []))
        q.append(metrics.quality(x, t, seed=s, repeats=3))
        w.append(_weight(x, t))


def _paired(by, ref, m, i) -> list[float]:
    return [a - b for a, b in zip(by[m][i], ref[m][i], strict=True)]


def fm_table(names, seeds, rows=FM_ROWS) -> str:
    def measure(model, t, s):
        traj = model.trajectory(N, 50, seed=s)
        x5 = model.sample(N, n_steps=5, method="euler", seed=s)
        return {
            "RK4 50 steps": metrics.quality(traj.final(), t, seed=s, repeats=3),
            "Euler 5 steps": metrics.quality(x5, t, seed=s, repeats=3),
            "straightness": flow_matching.straightness(traj),
            "small-mode weight": _weight(traj.final(), t),
        }

    columns = ["RK4 50 steps", "Euler 5 steps", "straightness", "small-mode weight"]
    return _table(columns, names, seeds, rows, flow_matching.fit, measure)


def gan_table(names, seeds, rows=GAN_ROWS) -> str:
    def measure(model, t, s):
        x = model.sample(N, seed=s)
        return {
            "quality": metrics.quality(x, t, seed=s, repeats=3),
            "small-mode weight": _weight(x, t),
        }

    fit = functools.partial(gan.fit, snapshot_every=0)
    return _table(["quality", "small-mode weight"], names, seeds, rows, fit, measure)


def flow_table(names, seeds, rows=FLOW_ROWS) -> str:
    def measure(model, t, s):
        x = model.sample(N, seed=s)
        return {
            "quality": metrics.quality(x, t, seed=s, repeats=3),
            "final loss": sum(model.history[-100:]) / len(model.history[-100:]),
            "small-mode weight": _weight(x, t),
        }

    columns = ["quality", "final loss", "small-mode weight"]
    return _table(columns, names, seeds, rows, flows.fit, measure)


def threads_table(n_steps: int = 1000) -> str:
    """Wall seconds of score.fit (VP, two_moons) with the caller at 1 and at 2 torch threads.

    score.fit runs under config.torch_threads (GENMOD_THREADS, default 1) either way, so
    the caller's setting no longer matters; the last column times the raw loop at the
    caller's count (what fitting did before).
    """
    data, vp = targets.get("two_moons").sample(5000, seed=1), sde.VP()
    lines = [
        "| caller's torch threads | score.fit wall s | raw loop at caller's count, wall s |",
        "|---|---|---|",
    ]
    before = torch.get_num_threads()
    for n in (1, 2):
        torch.set_num_threads(n)
        t0 = time.perf_counter()
        score.fit(data, an_sde=vp, n_steps=n_steps, progress=False, seed=0)
        fit_s = time.perf_counter() - t0
        model = score.ScoreModel(vp, depth=4)  # what score.fit builds by default
        loss = lambda b, g, m=model: score.dsm_loss(m, b, g)  # noqa: E731
        raw = training.fit.__wrapped__  # the loop without fitting_threads
        with config.torch_threads(n):
            t0 = time.perf_counter()
            raw(
                model,
                loss,
                data,
                n_steps=n_steps,
                batch_size=512,
                lr=3e-3,
                ema=0.999,
                progress=False,
            )
            raw_s = time.perf_counter() - t0
        lines.append(f"| {n} | {fit_s:.1f} | {raw_s:.1f} |")
        print(lines[-1], flush=True)
    torch.set_num_threads(before)
    return "\n".join(lines)


#: the learned maps' defaults, and the fused-Adam variants that notebooks 02 and 06 train
#: (run.py trains RealNVP fused too): (label, fit, keywords)
BUDGET_ROWS = [
    ("VP score model (score.fit, 3,000 steps)", score.fit, {"an_sde": sde.VP()}),
    ("VP score model, fused Adam", score.fit, {"an_sde": sde.VP(), "fused": True}),
    ("noise ladder (score.fit, method 'ladder')", score.fit, {"method": "ladder"}),
    ("flow matching (flow_matching.fit)", flow_matching.fit, {}),
    ("RealNVP (flows.fit, 1,500 steps)", flows.fit, {}),
    ("RealNVP, fused Adam", flows.fit, {"fused": True}),
    ("GAN (gan.fit, 3,000 steps)", gan.fit, {"snapshot_every": 0}),
]


def budget_table(seeds, rows=BUDGET_ROWS) -> str:
    """Training seconds of each learned map's default recipe (two_moons, 50,000 points).

    Run it on an idle machine, one process: the issue's budgets are seconds of training, and
    a second busy process on this 2-core machine costs 1.3-2x (the tables above were run
    two at a time). CPU and wall seconds of the one-thread fit, per repeat (seed = training
    seed); ms a step = median CPU seconds / steps.
    """
    from run import machine  # benchmarks/run.py, beside this script

    data = targets.get("two_moons").sample(50000, seed=1)
    load = os.getloadavg()[0]
    lines = [
        "| model | steps | CPU s, median (min-max) | wall s, median | ms a step |",
        "|---|---|---|---|---|",
    ]
    for label, fit, kw in rows:
        cpu, wall, steps = [], [], 0
        for s in seeds:
            t0 = time.perf_counter()
            model, dt = _cpu(functools.partial(fit, data, progress=False, seed=s, **kw))
            wall.append(time.perf_counter() - t0)
            cpu.append(dt)
            history = model.history  # the GAN keeps one list per player
            steps = len(history["d_loss"] if isinstance(history, dict) else history)
        med = statistics.median(cpu)
        per_step = f"{1e3 * med / steps:.1f}" if steps else ""
        lines.append(
            f"| {label} | {steps:,} | {med:.1f} ({min(cpu):.1f}-{max(cpu):.1f}) | "
            f"{statistics.median(wall):.1f} | {per_step} |"
        )
        print(lines[-1], flush=True)
    lines.append(
        f"\n{machine()}; {len(seeds)} repeat(s), load average {load:.2f} at the start and "
        f"{os.getloadavg()[0]:.2f} at the end."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    #: part -> (heading, table); "all" runs every part but budget, which must run alone
    #: on an idle machine (the lambdas read names, seeds, every and pick, set from the
    #: arguments below)
    tables = {
        "score": (
            "Score model (VP SDE), one change at a time",
            lambda: score_table(names, seeds, pick(SCORE_ROWS)),
        ),
        "ceiling": (
            "Score samplers: the default model against the exact score",
            lambda: ceiling_table(names, seeds),
        ),
        "data": (
            "Score samplers: the training data and the prior's mean, against the exact score",
            lambda: data_table(names, seeds),
        ),
        "recipe": (
            "Score samplers: per-seed data of 50,000 points and the prior at the data's mean",
            lambda: recipe_table(every, seeds),
        ),
        "snr": (
            "Score samplers: PC's corrector step (snr) on the recipe's model",
            lambda: snr_table(every, seeds),
        ),
        "steps": (
            "Score samplers: Euler-Maruyama's steps on the recipe's model",
            lambda: snr_table(every, seeds, list(STEP_RUNS)),
        ),
        "tsample": (
            "Score model: stratified training times on the recipe's model",
            lambda: fit_rows_table(every, seeds, pick(list(TSAMPLE_ROWS))),
        ),
        "stf": (
            "Score model: the stable target field on the recipe's model",
            lambda: fit_rows_table(every, seeds, pick(list(STF_ROWS))),
        ),
        "annealed": (
            "Annealed Langevin: the ladder's levels and steps, learned and exact scores",
            lambda: annealed_table(every, seeds, pick(ANNEALED_ROWS)),
        ),
        "ladder": (
            "Annealed Langevin: steps where the particles freeze, and the stable target field",
            lambda: ladder_table(every, seeds, pick(LADDER_SCHEDULES)),
        ),
        "longer": (
            "Score model: more training steps on the recipe's model",
            lambda: fit_rows_table(every, seeds, pick(list(LONGER_ROWS))),
        ),
        "edm": (
            "Score model: EDM's preconditioning (He init) on the recipe's model",
            lambda: fit_rows_table(every, seeds, pick(list(EDM_ROWS))),
        ),
        "bands": (
            "Score samplers: where in t the recipe's model costs the PF-ODE",
            lambda: bands_table(every, seeds),
        ),
        "weights": (
            "Score samplers: where in t the recipe's model sets EM's mode weights",
            lambda: weights_table(every, seeds),
        ),
        "slopes": (
            "Score models: the slope of the learned score at each mode, against the exact one",
            lambda: slopes_table(every, seeds),
        ),
        "expected": (
            "Each training's expected reading, over --sets sample sets",
            lambda: expected_table(
                every, seeds, pick(list(_expected_samplers().items())), args.sets
            ),
        ),
        "fm": ("Flow matching", lambda: fm_table(names, seeds, pick(FM_ROWS))),
        "gan": ("GAN", lambda: gan_table(names, seeds, pick(GAN_ROWS))),
        "flow": ("RealNVP flow", lambda: flow_table(every, seeds, pick(FLOW_ROWS))),
        "threads": ("Thread count of model fitting (1,000 steps)", threads_table),
        "budget": ("Training seconds, idle machine", lambda: budget_table(seeds)),
    }
    ap.add_argument("--part", choices=(*tables, "all"), default="all")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument(
        "--targets",
        default=None,
        help="comma-separated (default: separated_mixture,two_moons; flow, recipe: all five)",
    )
    ap.add_argument("--rows", default=None, help="comma-separated row numbers (default: all)")
    ap.add_argument(
        "--points",
        type=int,
        default=TRAIN_POINTS,
        help="training points of the parts score, fm, gan and flow (run.py's: 50000)",
    )
    ap.add_argument(
        "--sets", type=int, default=10, help="sample sets per training (the part expected)"
    )
    ap.add_argument("--append", action="store_true", help="append to benchmarks/results.md")
    args = ap.parse_args(argv)
    globals()["TRAIN_POINTS"] = args.points
    # the samplers too run at one thread (score.fit already does): at torch's default of
    # two, sampling on this 2-core machine beside another busy process was 6x slower
    torch.set_num_threads(config.default_threads())
    seeds = list(range(args.seeds))
    names = (args.targets or "separated_mixture,two_moons").split(",")
    every = args.targets.split(",") if args.targets else ALL_TARGETS.split(",")
    pick = (lambda rows: [rows[int(i)] for i in args.rows.split(",")]) if args.rows else list
    chosen = [args.part] if args.part != "all" else [p for p in tables if p != "budget"]
    sections = [f"### {tables[p][0]}\n\n" + tables[p][1]() for p in chosen]
    text = (
        f"## Learned samplers: training ablation ({len(seeds)} seeds, mean +- sd)\n\n"
        + "\n\n".join(sections)
        + "\n"
    )
    print(text)
    if args.append:
        with open(HERE / "results.md", "a") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
