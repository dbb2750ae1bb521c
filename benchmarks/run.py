"""The notes' performance record: every sampler on every target, quality vs cost.

    python benchmarks/run.py            # full run (5 targets, 3 sampling seeds; then notebook 09's)
    python benchmarks/run.py --quick    # 2 targets, 1 seed (8 minutes on 2 cores); 09's: 1 seed
    python benchmarks/run.py --smoke    # every code path once at toy sizes (< 2 min), temp dir
    python benchmarks/run.py --only maps|chains|dimension|digits   # one part, in place

Each row: way ("chain" or "map") and kind ("chain", "deterministic map", "stochastic
map") from :mod:`genmod.ways` (the one definition); quality_seeds (one ratio per
sampling seed, for notebook 08's intervals); density_evals, grad_evals (of the target)
and net_evals (of a learned network) apart.

Prints markdown tables and writes them to benchmarks/results.md (and the sampler rows to
benchmarks/results.json, which notebook 08 reads; everything else to results_extra.json).
Beyond 2D (notebook 09): benchmarks/dimension.py (quality and cost per (sampler, d), written
to dimension.json, which notebook 09 reads) and benchmarks/digits.py (the 8x8 digits model's
bits/dim and training time, digits.json), each its own section of results.md.
The full and quick runs record speed and quality on the machine they run on and are not part
of the test suite. The smoke run is (tests/test_benchmark.py): every sampler on one target
with tiny sizes and a few training steps, so its numbers mean nothing, but the code that
produces notebook 08's table and the README's headline figures runs in every `pytest`. It
writes to a fresh temporary directory and refuses to write over the committed results.

Per sampler and target: training seconds (learned models, trained once with seed 0 on
50,000 exact samples of seed 1; the reverse SDE and the PF-ODE start from N(alpha_T m, I),
m the data's mean: `sde.sample(..., prior_mean=m)`), seconds to draw 2,000 samples, target
or model evaluations per 2,000 samples, quality = energy distance / noise floor at n = 2,000
(mean over seeds), and for chains bulk ESS per second. Chains: 2,000 chains from an
overdispersed uniform start; their final states are the 2,000 samples.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
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
    ways,
)
from genmod.arrays import uniform_box  # noqa: E402

#: annealed Langevin's steps per level of score.fit's default 10-level ladder (largest
#: first): 1,000 at level 4, where separated_mixture's modes part, and 400 at levels 6-8,
#: where banana's arms contract (results.md, "annealed Langevin: steps where the particles
#: freeze"; benchmarks/learned.py --part ladder and tests/test_benchmark.py use it too)
ANNEALED_STEPS = (100, 100, 100, 1000, 100, 400, 400, 400, 100, 100)
#: the annealed row's sampler and model since 2026-12-05 (results.md, "Annealed Langevin: the
#: denoiser clamped to the data's box"; benchmarks/learned.py --part expected, row 17): twice
#: ANNEALED_STEPS at half the step (alpha_i / sigma_i^2 = 0.1), the ladder model with an EMA
#: of its weights and EDM's preconditioning, its denoiser clamped to the data's box
ANNEALED_FINER = tuple(2 * n for n in ANNEALED_STEPS)
ANNEALED_RATIO = 0.1
ANNEALED_FIT = {"ema": 0.999, "base": "edm"}
#: the VP score model of the reverse SDE and PF-ODE rows since 2026-12-05 (results.md, "The VP
#: score model: an EMA of its weights and 4,000 steps"; benchmarks/learned.py --part expected,
#: rows 18-20): score.fit's VP training for 4,000 steps instead of 3,000, sampled through an
#: EMA of its weights; every sampler sees its denoiser clamped to the data's box
#: (score.clamped; results.md, "The VP score model's denoiser clamped to the data's box")
VP_FIT = {"ema": 0.999, "n_steps": 4000}


@dataclass(frozen=True)
class Mode:
    """Sizes of one benchmark run (``MODES``)."""

    name: str
    targets: tuple[str, ...]
    seeds: tuple[int, ...]
    n: int = 2000  # samples per sampler (chains: parallel chains, final states)
    chain_steps: int = 1000
    data: int = 50000  # training samples of the learned models (training seed 0, data seed 1)
    train_steps: int | None = None  # None: each fit's default
    # EM 1,000: at 500 its discretization still tilts separated_mixture's weights on the
    # exact score (0.210 against 0.203 at 1,000 and 0.200 at 4,000; results.md, "Euler-
    # Maruyama's steps"); the PF-ODE's 100 RK4 steps read as 400 do
    sde_steps: tuple[tuple[str, int], ...] = (("em", 1000), ("pc", 250), ("ode", 100))
    langevin_steps: int | tuple[int, ...] = ANNEALED_FINER  # one int: that many per level
    langevin_reference: int | None = 256  # the ladder model's stable target field (score.fit)
    grid: int = 400  # inverse transform's grid per axis
    throughput: tuple[int, int, int] = (1000, 1000, 3)  # chains, MALA steps, repeats
    frame_sizes: tuple[int, ...] = (1000, 10000)
    browser_frames: int = 15
    startup_launches: int = 3
    notebooks: bool = True

    def fit_opts(self) -> dict:
        return {} if self.train_steps is None else {"n_steps": self.train_steps}


MODES = {
    "full": Mode(
        "full",
        ("two_moons", "eight_gaussians", "separated_mixture", "banana", "checkerboard"),
        (0, 1, 2),
    ),
    "quick": Mode("quick", ("eight_gaussians", "separated_mixture"), (0,), chain_steps=500),
    "smoke": Mode(
        "smoke",
        ("separated_mixture",),
        (0,),
        n=200,
        chain_steps=40,
        data=500,
        train_steps=20,
        sde_steps=(("em", 20), ("pc", 10), ("ode", 5)),
        langevin_steps=5,
        grid=100,
        throughput=(100, 20, 1),
        frame_sizes=(200,),
        browser_frames=3,
        startup_launches=1,
        notebooks=False,
    ),
}
# The corrector's snr of the reverse SDE's PC sampler, tuned on the learned models
# (`benchmarks/learned.py --part snr`, 10 seeds in results.md): at sde.sample's default 0.16
# (Song et al.'s) the corrector follows the model's errors; 0.04 improves PC 250 by 0.2-0.6
# noise floors on every target, to about EM's quality.
PC_SNR = 0.04
# Chains: every step size is adapted during a warm-up (mcmc.sample(step_size="auto"),
# dual averaging towards each method's target acceptance); ULA, which has no accept step to
# adapt on, runs at MALA's adapted step. Warm-up and kept steps as fractions of
# mode.chain_steps (full: 500 + 1,000 for RWM, MALA, HMC); NUTS moves further per step and
# PT runs 8 levels, so they take fewer. Both warm-up and kept steps count in evaluations
# and seconds.
CHAIN_RUNS = {
    "rwm": dict(warmup=0.5, n_steps=1.0),
    "mala": dict(warmup=0.5, n_steps=1.0),
    "hmc": dict(warmup=0.5, n_steps=1.0, store_paths=False),
    "ula": dict(warmup=0.0, n_steps=1.5),
    "nuts": dict(warmup=0.3, n_steps=0.3, record_chain=None),
    "pt": dict(warmup=0.3, n_steps=0.7, n_temperatures=8),
}


def _steps_note(steps) -> str:
    """Annealed Langevin's steps per level, for the table's note."""
    if isinstance(steps, int) or len(set(steps)) == 1:
        return f"{steps if isinstance(steps, int) else steps[0]:,} steps per level"
    base, runs = max(set(steps), key=steps.count), []  # runs: [count, first, last] levels
    for i, k in enumerate(steps, 1):
        if runs and runs[-1][0] == k and runs[-1][2] == i - 1:
            runs[-1][2] = i
        else:
            runs.append([k, i, i])
    extra = [
        f"{k:,} at level {a}" if a == b else f"{k:,} at levels {a}-{b}"
        for k, a, b in runs
        if k != base
    ]
    return "steps per level " + ", ".join(extra) + f", {base:,} elsewhere"


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _chain_run(t, method: str, seed: int, mode: Mode, mala_step):
    run = {
        k: (round(v * mode.chain_steps) if k in ("warmup", "n_steps") else v)
        for k, v in CHAIN_RUNS[method].items()
    }
    step = mala_step if method == "ula" else "auto"
    tr, dt = _timed(
        lambda: mcmc.sample(t, method, n_chains=mode.n, step_size=step, seed=seed, **run)
    )
    return tr, dt, run


def _way(sampler: str) -> dict:
    way, kind, _ = ways.classify(sampler)
    return dict(way=way, kind=kind)


def chain_rows(t, mode: Mode) -> list[dict]:
    rows, mala_steps = [], {}
    for method in CHAIN_RUNS:
        q, secs, ess_s, steps, evals, dens, grads = [], [], [], [], [], [], []
        for s in mode.seeds:
            tr, dt, run = _chain_run(t, method, s, mode, mala_steps.get(s))
            if method == "mala":
                mala_steps[s] = tr.extras["step_size"]
            q.append(metrics.quality(tr.final(), t, seed=s))
            secs.append(dt)
            ess = diagnostics.ess(tr).min()  # worst coordinate, all chains, after the warm-up
            ess_s.append(float(ess) / dt)
            steps.append(tr.extras["step_size"])
            evals.append(tr.n_evals)
            # density and gradient evaluations counted apart by the samplers themselves
            dens.append(tr.extras["density_evals"])
            grads.append(tr.extras["grad_evals"])
        h = statistics.mean(steps)
        how = "MALA's adapted h" if method == "ula" else "adapted h"
        kept = f"{run['warmup']} warm-up + {run['n_steps']} steps"
        kept += ", 8 temperatures up to 20" if method == "pt" else ""
        rows.append(
            dict(
                target=t.name,
                sampler=method.upper(),  # showdown.race maps it back to the method
                **_way(method.upper()),
                train_s=0.0,
                sample_s=statistics.mean(secs),
                evals=round(statistics.mean(evals)),
                density_evals=round(statistics.mean(dens)),
                grad_evals=round(statistics.mean(grads)),
                net_evals=0,
                quality=statistics.mean(q),
                quality_seeds=q,
                ess_per_s=statistics.mean(ess_s),
                step_size=h,
                note=f"{how} {h:.3g}, {kept}",
            )
        )
    return rows


def map_rows(t, mode: Mode) -> list[dict]:
    """Inverse transform and every learned map; each learned model is trained once."""
    data, N, seeds, fit = t.sample(mode.data, seed=1), mode.n, mode.seeds, mode.fit_opts()
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
                **_way(name),
                train_s=train_s,
                sample_s=statistics.mean(secs),
                evals=evals,
                # a learned map evaluates its network, never the target
                density_evals=0,
                grad_evals=0,
                net_evals=evals,
                quality=statistics.mean(q),
                quality_seeds=q,
                ess_per_s=None,
                note=note,
            )
        )

    add(
        "inverse transform",
        0.0,
        lambda s: inverse.sample(t, N, seed=s, resolution=mode.grid).final(),
        0,
        f"{mode.grid}x{mode.grid} grid of log p ({mode.grid**2:,} evaluations, once)",
    )
    rows[-1].update(evals=mode.grid**2, density_evals=mode.grid**2, net_evals=0)

    # fused Adam, as notebook 02 trains it: the same update, a quarter off a step of the
    # flow's many small tensors (learned.py --part budget); a mixture of 8 Gaussians as the
    # noise, which notebook 02 does not use (results.md, "RealNVP: a mixture of Gaussians
    # as the noise"), its means started at k-means centres of the data (flows.fit's default;
    # "RealNVP: the mixture's means started at k-means centres")
    flow, dt = _timed(
        lambda: flows.fit(data, progress=False, fused=True, base_components=8, seed=0, **fit)
    )
    add(
        "RealNVP flow",
        dt,
        lambda s: flow.sample(N, seed=s),
        1,
        "one pass per sample, fused Adam, noise a mixture of 8 Gaussians started at k-means",
    )

    # the remedy (gan.fit's defaults: minibatch std, R1) with leaky ReLU nets, a 4x batch,
    # three times the steps, Adam without momentum and an EMA of the generator's weights
    # (gan.BENCHMARK_RECIPE; results.md, "GAN, fourth round" to "GAN, sixth round"); a
    # mode's train_steps still overrides n_steps
    recipe = {**gan.BENCHMARK_RECIPE, **fit}
    g, dt = _timed(lambda: gan.fit(data, snapshot_every=0, progress=False, seed=0, **recipe))
    add(
        "GAN",
        dt,
        lambda s: g.sample(N, seed=s),
        1,
        "one generator pass per sample; leaky ReLU, batch 1,024, 9,000 steps, Adam betas (0, 0.99),"
        " EMA of G",
    )

    ref = mode.langevin_reference
    ladder_fit = {**ANNEALED_FIT, **fit}  # a mode's train_steps still overrides n_steps
    ncsn, dt = _timed(
        lambda: score.fit(
            data, method="ladder", reference=ref, progress=False, seed=0, **ladder_fit
        )
    )
    box, clamped = t.bounds, score.clamped(ncsn.score, ncsn.sigmas, data)

    def annealed(s):
        tr = langevin.annealed(
            clamped,
            ncsn.sigmas,
            uniform_box(box, N, seed=s),
            n_steps=mode.langevin_steps,
            seed=s,
            step_ratio=ANNEALED_RATIO,
        )
        return tr.final(), tr.n_evals

    add(
        "annealed Langevin",
        dt,
        annealed,
        None,
        "learned noise-conditional score"
        + (", stable target field" if ref else "")
        + ", EDM's preconditioning, EMA 0.999, denoiser clamped to the data's box; "
        + _steps_note(mode.langevin_steps)
        + f", step ratio {ANNEALED_RATIO}",
    )

    vp = sde.VP()
    vp_fit = {**VP_FIT, **fit}  # a mode's train_steps still overrides n_steps
    sm, dt = _timed(lambda: score.fit(data, an_sde=vp, progress=False, seed=0, **vp_fit))
    sm = score.clamped(sm.score, vp, data)  # no runaways past the data's box
    mean = data.mean(0)  # start from p_T's mean: alpha_T m (sde.sample's prior_mean)
    for method, n_steps in mode.sde_steps:

        def draw(s, method=method, n_steps=n_steps):
            opts = dict(snr=PC_SNR) if method == "pc" else {}
            tr = sde.sample(
                sm, vp, N, method=method, n_steps=n_steps, seed=s, prior_mean=mean, **opts
            )
            return tr.final(), tr.n_evals * N

        add(
            {"em": "reverse SDE (EM)", "pc": "reverse SDE (PC)", "ode": "PF-ODE (RK4)"}[method],
            dt,
            draw,
            None,
            f"VP SDE, {n_steps} steps{f', snr {PC_SNR}' if method == 'pc' else ''}; "
            f"one score model for all three ({vp_fit['n_steps']:,} training steps, "
            f"EMA {vp_fit['ema']}, denoiser clamped to the data's box)",
        )

    fm, dt = _timed(lambda: flow_matching.fit(data, progress=False, seed=0, **fit))
    add("flow matching", dt, lambda s: (fm.sample(N, seed=s), N * 50 * 4), None, "RK4, 50 steps")
    return rows


def mcmc_throughput(chains: int = 1000, steps: int = 1000, repeats: int = 3) -> list[dict]:
    """1,000 chains x 1,000 MALA steps with the whole trajectory stored (best of 3)."""
    out = []
    for name in ("correlated_gaussian", "two_moons"):
        t = targets.get(name)
        mcmc.sample(t, "mala", n_chains=chains, n_steps=20, step_size=0.1, seed=0)  # warm-up
        times = [
            _timed(
                lambda t=t: mcmc.sample(
                    t, "mala", n_chains=chains, n_steps=steps, step_size=0.1, seed=0
                )
            )[1]
            for _ in range(repeats)
        ]
        out.append(dict(target=name, seconds=min(times)))
    return out


def quality_text(q: float) -> str:
    """Ratios above 1000 mean the sampler failed outright (e.g. ULA diverging): say so."""
    return f"{q:.2f}" if q <= ways.DIVERGED else f"{q:.1e} (diverged)"


def fmt(v, spec=".2f"):
    return "" if v is None else format(v, spec)


def sampler_table(rows, n: int = 2000) -> str:
    lines = [
        f"| target | sampler | kind | train s | sample s ({n:,}) | evaluations ({n:,}) | "
        "quality (ED / floor) | ESS / s | note |",
        "|" + "---|" * 9,
    ]
    for r in rows:
        cells = [
            r["target"],
            r["sampler"],
            r["kind"],
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


def output_path(mode: Mode, out: str | None) -> Path:
    """Where results.md goes: benchmarks/ by default; a smoke run never writes there."""
    committed = HERE / "results.md"
    if mode.name != "smoke":
        return Path(out) if out else committed
    path = Path(out) if out else Path(tempfile.mkdtemp(prefix="genmod-bench-smoke-")) / "results.md"
    if path.resolve().parent == HERE.resolve():
        raise SystemExit(f"--smoke must not write into {HERE} (the committed results); use --out")
    return path


def browser_and_speed_sections(mode: Mode) -> tuple[list, list, dict | None, list[str]]:
    """MCMC throughput, animation frame time, widget start-up and cold open: rows and text."""
    sections: list[str] = []
    chains, steps, repeats = mode.throughput
    thr = mcmc_throughput(chains, steps, repeats)
    sections.append(
        f"## MCMC throughput: {chains:,} chains x {steps:,} MALA steps, trajectory stored "
        "(goal <= 0.5 s at 1,000 x 1,000)\n\n| target | seconds |\n|---|---|\n"
        + "\n".join(f"| {r['target']} | {r['seconds']:.2f} |" for r in thr)
    )

    import frame_time

    lines = [
        "| particles | Python show_frame ms | browser Scattergl redraw ms | "
        "browser SVG Scatter redraw ms |",
        "|---|---|---|---|",
    ]
    br = frame_time.browser_frame_ms(mode.frame_sizes, mode.browser_frames) or {}
    frames = []
    for n in mode.frame_sizes:
        py = frame_time.python_frame_ms(n)
        frames.append(
            dict(
                particles=n,
                python_ms=py,
                webgl_ms=br.get(("scattergl", n)),
                svg_ms=br.get(("scatter", n)),
            )
        )
        gl, svg = fmt(br.get(("scattergl", n)), ".0f"), fmt(br.get(("scatter", n)), ".0f")
        lines.append(f"| {n:,} | {py:.1f} | {gl} | {svg} |")
    sections.append(
        "## Animation frame time (goal end to end <= 60 ms at 1k, <= 200 ms at 10k)\n\n"
        + "\n".join(lines)
    )

    import widget_startup

    ws = widget_startup.startup_ms(mode.startup_launches)
    sections.append(
        "## Figure widget start-up in the browser (anywidget's limit: 2,000 ms per widget)\n\n"
        + ("Chromium or Playwright missing." if ws is None else widget_startup.table(ws))
    )

    if mode.notebooks:  # the browser measures every notebook: not in the smoke run
        import cold_open

        missing = cold_open.bs.missing_requirements()
        sections.append(
            "## Kernel-free animations: cold open, sizes, static frames\n\n"
            + (missing or cold_open.table(cold_open.measure(cold_open.ROOT / "notebooks")))
        )

    return thr, frames, ws, sections


def replace_section(path: Path, title: str, text: str) -> None:
    """Replace the section headed ``title`` in the markdown at ``path`` (or append it)."""
    old = path.read_text() if path.exists() else ""
    head, sep, rest = old.partition(title)
    tail = ""
    if sep:
        nxt = rest.find("\n## ")
        tail = rest[nxt:] if nxt >= 0 else ""
    path.write_text(head.rstrip() + "\n\n" + text.rstrip() + "\n" + tail)


BEYOND_2D = ("dimension", "digits")


def beyond_2d(mode: Mode, out: Path, part: str, start: float, argv) -> str:
    """Run one part of notebook 09's benchmark; write its json beside ``out``; its section.

    part: "dimension" (dimension.json) or "digits" (digits.json). Sizes from the part's
    ``SIZES[mode.name]``; the section says how it was run, how long and at what load.
    """
    import digits
    import dimension

    loads = [os.getloadavg()[0]]  # 1-minute load average, at every stage

    def log(msg):
        loads.append(os.getloadavg()[0])
        print(f"[{time.perf_counter() - start:6.0f} s] {msg}", flush=True)

    module = {"dimension": dimension, "digits": digits}[part]
    sizes = module.SIZES[mode.name]
    t0 = time.perf_counter()
    result = module.measure(sizes, log=log)
    loads.append(os.getloadavg()[0])
    out.with_name(f"{part}.json").write_text(json.dumps(result, indent=1))
    nice = os.nice(0)
    command = shlex.join(["python", "benchmarks/run.py", *argv])
    how = (
        f"`{f'nice -n {nice} ' if nice else ''}{command}` on {machine()}; "
        f"{time.perf_counter() - t0:.0f} s in all, "
        f"1-minute load average {min(loads):.1f}-{max(loads):.1f} (sampled at each stage)"
    )
    if part == "dimension":
        return dimension.section(result, sizes, how)
    return digits.section(result, how)


def update_beyond_2d(mode: Mode, out: Path, part: str, start: float, argv) -> int:
    """``--only dimension`` / ``--only digits``: that section of results.md, in place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    text = beyond_2d(mode, out, part, start, argv)
    print(text)
    title = text.split("\n", 1)[0]
    replace_section(out, title, text)
    print(f"section {title!r} replaced in {out}")
    return 0


def replace_sampler_table(text: str, table: str) -> str:
    """``text`` with its samplers table (the one whose header ``table`` starts with) replaced
    by ``table``; appended when there is none."""
    head = table.split(" | train s |")[0]  # "| target | sampler | kind"
    if head not in text:
        return text + table + "\n"
    i = text.index(head)
    j = text.find("\n\n", i)
    return text[:i] + table + (text[j:] if j >= 0 else "\n")


def note_rerun(text: str, way: str, when: str) -> str:
    """``text`` with its header line "<Way> rows re-run ..." set to this machine and ``when``
    (added under the "Mode:" line): the header's "Machine:" names where the full run ran,
    and rows re-run in place may come from another machine."""
    line = f"{way.capitalize()} rows re-run in place (`--only {way}s`) on {when}: {machine()}."
    lines = text.split("\n")
    old = [i for i, x in enumerate(lines) if x.startswith(f"{way.capitalize()} rows re-run")]
    mode = [i for i, x in enumerate(lines[:10]) if x.startswith("Mode:")]
    if old:
        lines[old[0]] = line
    elif mode:
        lines.insert(mode[0] + 1, line)
    return "\n".join(lines)


def update_rows(kind: str, mode: Mode, out: Path, start: float) -> int:
    """Replace the rows of one way (``"chains"`` or ``"maps"``) of the mode's targets in
    results.json and results.md's samplers table; everything else stays as it is."""
    way, rows_of = ("chain", chain_rows) if kind == "chains" else ("map", map_rows)
    new = {}
    for name in mode.targets:
        print(f"[{time.perf_counter() - start:6.0f} s] {name} ({kind} only)", flush=True)
        new[name] = rows_of(targets.get(name), mode)
    path = out.with_suffix(".json")
    old = json.loads(path.read_text()) if path.exists() else []
    merged, done = [], set()
    for r in old:
        name = r["target"]
        if name in new and r["way"] == way:
            if name not in done:
                merged += new[name]
                done.add(name)
            continue
        merged.append(r)
    merged += [r for name in mode.targets if name not in done for r in new[name]]
    path.write_text(json.dumps(merged, indent=1))
    table = sampler_table(merged, mode.n)
    text = out.read_text() if out.exists() else "## Samplers\n\n"
    text = note_rerun(replace_sampler_table(text, table), way, time.strftime("%Y-%m-%d"))
    out.write_text(text)
    print(table)
    print(f"{way} rows updated in {time.perf_counter() - start:.0f} s")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument(
        "--quick", action="store_true", help="2 targets, 1 seed; notebook 09's parts with 1 seed"
    )
    group.add_argument(
        "--smoke", action="store_true", help="every code path at toy sizes (< 2 min), temp dir"
    )
    ap.add_argument("--skip-notebooks", action="store_true")
    ap.add_argument("--out", default=None, help="results.md path (default: benchmarks/)")
    ap.add_argument(
        "--only",
        choices=["chains", "maps", *BEYOND_2D],
        help="chains or maps: re-run only those rows and update them in results.json and the "
        "samplers table of results.md in place; dimension or digits: re-run that section "
        "of results.md and its json (dimension.json, digits.json); everything else stays",
    )
    args = ap.parse_args(argv)
    mode = MODES["smoke" if args.smoke else "quick" if args.quick else "full"]
    out = output_path(mode, args.out)
    torch.set_num_threads(1)
    start = time.perf_counter()
    argv = sys.argv[1:] if argv is None else list(argv)
    if args.only in ("chains", "maps"):
        return update_rows(args.only, mode, out, start)
    if args.only in BEYOND_2D:
        return update_beyond_2d(mode, out, args.only, start, argv)
    rows = []
    for name in mode.targets:
        t = targets.get(name)
        print(f"[{time.perf_counter() - start:6.0f} s] {name}", flush=True)
        rows += chain_rows(t, mode)
        rows += map_rows(t, mode)
    sections = [
        f"# Benchmark results\n\nMachine: {machine()}.\n"
        f"Mode: {mode.name} ({len(mode.targets)} targets, "
        f"{len(mode.seeds)} sampling seed(s)).\n",
        "## Samplers\n\n" + sampler_table(rows, mode.n),
    ]

    thr, frames, ws, extra_sections = browser_and_speed_sections(mode)
    sections += extra_sections
    out.parent.mkdir(parents=True, exist_ok=True)
    sections += [beyond_2d(mode, out, part, start, argv) for part in BEYOND_2D]

    nb = None
    if mode.notebooks and not args.skip_notebooks:
        import notebook_resources

        nb = notebook_resources.rows()
        sections.append(
            "## Notebooks (goal <= 45 s, <= 1 GB kernel RSS, < 2 MB)\n\n"
            + notebook_resources.table(nb)
        )
    seconds = time.perf_counter() - start
    sections.append(f"Total benchmark time: {seconds:.0f} s.")
    text = "\n\n".join(sections) + "\n"
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))  # what notebook 08 reads
    extra = dict(
        mode=mode.name,
        n=mode.n,
        targets=list(mode.targets),
        seeds=list(mode.seeds),
        throughput=thr,
        frames=frames,
        widget_startup_ms=ws,
        notebooks=nb,
        seconds=seconds,
    )
    extra = json.loads(json.dumps(extra, default=str), parse_constant=lambda c: None)
    out.with_name(out.stem + "_extra.json").write_text(json.dumps(extra, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
