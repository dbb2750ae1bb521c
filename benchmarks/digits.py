"""A first image model on a CPU: scikit-learn's 8x8 digits as 64-dimensional points.

Run through the benchmark driver (it writes results.md's section and digits.json):

    python benchmarks/run.py --only digits     # the notebook's sizes
    python benchmarks/run.py --smoke           # toy sizes, temp dir

One VP score model (an MLP correcting the exact score of the training digits' best
Gaussian, ``score.fit(..., base=...)``), trained once with seed 0 on 1,500 dequantized
digits; 297 held out. Measured: training seconds (wall, and CPU seconds of this one-thread
process); PF-ODE bits/dim on the held-out digits (Hutchinson, 2 probes) against the
Gaussian baseline; samples judged by an independent logistic regression (class spread and
its confidence); inpainting the bottom half; class-conditional guidance with a noisy
classifier; Langevin chains with the learned score (do they change digit class?).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from dimension import clocked

from genmod import control, digits, likelihood, mcmc, score, sde

TITLE = "## Digits on a CPU: a 64-dimensional score model"
CHAIN_T = 0.02  # Langevin chains run on the learned score at this time (sigma_t = 0.077)


@dataclass(frozen=True)
class Sizes:
    """Sizes of one digits benchmark (``SIZES``, keyed by the run.py mode)."""

    train_steps: int = 2000  # the notebook's training budget (<= 60 s on 2 cores)
    hidden: int = 256
    depth: int = 3
    heldout: int = 297  # held-out digits judged (bits/dim, inpainting, chains)
    samples: int = 500
    sde_steps: int = 200
    classifier_steps: int = 1500
    guided: int = 50  # guided samples per class and strength
    chain_steps: int = 500


SIZES = {
    "full": Sizes(),
    "quick": Sizes(),
    "smoke": Sizes(
        train_steps=20,
        hidden=32,
        depth=2,
        heldout=20,
        samples=50,
        sde_steps=10,
        classifier_steps=20,
        guided=5,
        chain_steps=20,
    ),
}


def _train(data, vp, base, sz: Sizes, out: dict):
    fit = dict(n_steps=sz.train_steps, hidden=sz.hidden, depth=sz.depth, lr=2e-3, batch_size=256)
    fit["fused"] = True  # torch's fused Adam, as notebook 09 trains
    model, out["train_s"], out["train_cpu_s"] = clocked(
        lambda: score.fit(data.train, an_sde=vp, base=base, progress=False, seed=0, **fit)
    )
    out["train_steps"], out["hidden"], out["depth"] = sz.train_steps, sz.hidden, sz.depth
    return model


def _bits_per_dim(model, vp, gauss, held, out: dict) -> None:
    """The learned model through the PF-ODE (Hutchinson), the Gaussian exactly."""
    ll, out["likelihood_s"], _ = clocked(
        lambda: likelihood.log_likelihood(
            model, vp, held, method="hutchinson", n_probes=2, rtol=1e-3, atol=1e-3
        )
    )
    bpd = digits.bits_per_dim(ll.logp)
    out["bpd_model"] = float(bpd.mean())
    out["bpd_model_stderr"] = float(bpd.std() / len(bpd) ** 0.5)
    out["bpd_gaussian"] = float(digits.bits_per_dim(gauss.log_prob(held.double())).mean())
    out["likelihood_nfe"] = ll.nfe


def _control(model, vp, gauss, data, held, labels, judge, sz: Sizes, out: dict) -> None:
    """Inpainting the bottom half of held-out digits; guidance with a noisy classifier."""
    mask = digits.top_half()
    inp, out["inpaint_s"], _ = clocked(
        lambda: control.inpaint_mask(model, vp, held, mask, len(held), sz.sde_steps)
    )
    out["inpaint_accuracy"] = judge.accuracy(inp.final().clamp(-1, 1), labels)
    cond = digits.conditional_mean(gauss, held, mask)
    out["inpaint_accuracy_gaussian_mean"] = judge.accuracy(cond, labels)
    top = torch.where(mask, held, torch.tensor(-1.0))
    out["top_half_only_accuracy"] = judge.accuracy(top, labels)
    clf, out["classifier_s"], _ = clocked(
        lambda: control.fit_classifier(
            data.train, data.train_labels, an_sde=vp, n_steps=sz.classifier_steps, progress=False
        )
    )
    out["guided_per_class"] = sz.guided
    for strength in (1.0, 3.0):
        hits = 0
        for label in range(10):
            fn = control.classifier_guided(model, clf, label, strength)
            xs = sde.sample(fn, vp, sz.guided, method="em", n_steps=sz.sde_steps, seed=label)
            hits += int((judge(xs.final().clamp(-1, 1)) == label).sum())
        out[f"guided_accuracy_{strength:g}"] = hits / (10 * sz.guided)


def _chains(model, vp, held, judge, sz: Sizes, out: dict) -> None:
    """ULA on the learned score at t = CHAIN_T from held-out digits: do they change class?"""
    step = 0.3 * float(vp.marginal(CHAIN_T)[1])
    chains, out["chain_s"], _ = clocked(
        lambda: mcmc.sample(
            None,
            "ula",
            n_chains=len(held),
            n_steps=sz.chain_steps,
            step_size=step,
            x0=held,
            score=lambda y: model(y, CHAIN_T),
        )
    )
    every = chains.xs[:: max(1, sz.chain_steps // 10)]  # 11 snapshots
    labels = torch.stack([judge(f.clamp(-1, 1)) for f in every])
    out["chain_step"], out["chain_steps"] = step, sz.chain_steps
    out["chain_changed_class"] = float((labels[-1] != labels[0]).double().mean())
    out["chain_class_switches"] = float((labels[1:] != labels[:-1]).double().sum(0).mean())


def measure(sz: Sizes, log=print) -> dict:
    """Every number of the digits table (what digits.json holds)."""
    data = digits.load()
    held, labels = data.heldout[: sz.heldout], data.heldout_labels[: sz.heldout]
    vp = sde.VP()
    judge = digits.Judge(data.train, data.train_labels)
    gauss = digits.gaussian_baseline(data.train)
    base = sde.exact_score(gauss, vp)
    out = {"judge_heldout_accuracy": judge.accuracy(held, labels), "heldout": len(held)}
    log("digits: training")
    model = _train(data, vp, base, sz, out)
    log("digits: bits/dim")
    _bits_per_dim(model, vp, gauss, held, out)
    # samples: the judge's class spread and confidence, against real and Gaussian draws
    tr, out["sample_s"], _ = clocked(
        lambda: sde.sample(model, vp, sz.samples, method="em", n_steps=sz.sde_steps)
    )
    x = tr.final().clamp(-1, 1)
    g = sde.sample(base, vp, sz.samples, method="em", n_steps=sz.sde_steps).final().clamp(-1, 1)
    out["samples"] = sz.samples
    out["sample_classes"] = torch.bincount(judge(x), minlength=10).tolist()
    out["confidence_model"] = float(judge.confidence(x).mean())
    out["confidence_gaussian"] = float(judge.confidence(g).mean())
    out["confidence_real"] = float(judge.confidence(held).mean())
    log("digits: inpainting, guidance, chains")
    _control(model, vp, gauss, data, held, labels, judge, sz, out)
    _chains(model, vp, held, judge, sz, out)
    return out


def table(m: dict) -> str:
    """The digits table in markdown."""
    net = f"{m['train_steps']:,} steps, MLP {m['hidden']} x {m['depth']}"
    rows = [
        (f"training ({net}): wall / CPU", f"{m['train_s']:.1f} s / {m['train_cpu_s']:.1f} s"),
        (
            f"bits/dim, {m['heldout']} held-out digits: learned (PF-ODE)",
            f"{m['bpd_model']:.2f} +- {m['bpd_model_stderr']:.2f} ({m['likelihood_nfe']} evals)",
        ),
        ("bits/dim, held-out digits: Gaussian baseline", f"{m['bpd_gaussian']:.2f}"),
        ("bits/dim, uniform over 17 levels", f"{math.log2(digits.LEVELS):.2f}"),
        ("judge accuracy on held-out digits", f"{m['judge_heldout_accuracy']:.3f}"),
        (
            "judge confidence: real / learned samples / Gaussian",
            "{:.2f} / {:.2f} / {:.2f}".format(
                m["confidence_real"], m["confidence_model"], m["confidence_gaussian"]
            ),
        ),
        (f"learned samples per judged class ({m['samples']})", str(m["sample_classes"])),
        ("inpainted bottom half: judge accuracy (learned)", f"{m['inpaint_accuracy']:.3f}"),
        (
            "... Gaussian conditional mean / top half only",
            "{:.3f} / {:.3f}".format(
                m["inpaint_accuracy_gaussian_mean"], m["top_half_only_accuracy"]
            ),
        ),
        (
            f"guided samples in the asked class ({m['guided_per_class']} per class), "
            "strength 1 / 3",
            "{:.2f} / {:.2f}".format(m["guided_accuracy_1"], m["guided_accuracy_3"]),
        ),
        (
            f"Langevin chains (t = {CHAIN_T}, step {m['chain_step']:.3f}, {m['chain_steps']} "
            "steps): changed class",
            f"{m['chain_changed_class']:.2f}",
        ),
        ("... class switches per chain (11 snapshots)", f"{m['chain_class_switches']:.2f}"),
    ]
    return "| measure | value |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


def section(m: dict, how: str) -> str:
    """results.md's section: a heading, how it was run, the table."""
    return f"{TITLE}\n\n{how}.\n\n" + table(m)
