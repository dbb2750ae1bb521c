"""A first image model on a CPU: scikit-learn's 8x8 digits as 64-dimensional points.

    python benchmarks/digits.py             # prints the table, replaces its results.md section
    python benchmarks/digits.py --no-write

One VP score model (an MLP correcting the exact score of the training digits' best
Gaussian, ``score.fit(..., base=...)``), trained once with seed 0 on 1,500 dequantized
digits; 297 held out. Measured: training seconds; PF-ODE bits/dim on the held-out digits
(Hutchinson, 2 probes) against the Gaussian baseline; samples judged by an independent
logistic regression (class spread and its confidence); inpainting the bottom half;
class-conditional guidance with a noisy classifier; Langevin chains with the learned score
(do they change digit class?).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dimension import write_section  # noqa: E402
from run import _timed, machine  # noqa: E402

from genmod import control, digits, likelihood, mcmc, score, sde  # noqa: E402

TITLE = "## Digits on a CPU: a 64-dimensional score model"
#: the training budget of the notebook (<= 60 s on 2 cores)
FIT = dict(n_steps=3000, hidden=256, depth=3, lr=2e-3, batch_size=256)
CHAIN_T = 0.02  # Langevin chains run on the learned score at this time (sigma_t = 0.077)


def measure(n_chain_steps: int = 500) -> dict:
    data = digits.load()
    vp = sde.VP()
    judge = digits.Judge(data.train, data.train_labels)
    gauss = digits.gaussian_baseline(data.train)
    base = sde.exact_score(gauss, vp)
    out = {"judge_heldout_accuracy": judge.accuracy(data.heldout, data.heldout_labels)}
    model, out["train_s"] = _timed(
        lambda: score.fit(data.train, an_sde=vp, base=base, progress=False, seed=0, **FIT)
    )
    # bits/dim on held-out digits: the learned model through the PF-ODE, the Gaussian exactly
    ll, out["likelihood_s"] = _timed(
        lambda: likelihood.log_likelihood(
            model, vp, data.heldout, method="hutchinson", n_probes=2, rtol=1e-3, atol=1e-3
        )
    )
    out["bpd_model"] = float(digits.bits_per_dim(ll.logp).mean())
    out["bpd_model_stderr"] = float(digits.bits_per_dim(ll.logp).std() / len(ll.logp) ** 0.5)
    out["bpd_gaussian"] = float(digits.bits_per_dim(gauss.log_prob(data.heldout.double())).mean())
    out["likelihood_nfe"] = ll.nfe
    # samples: the judge's class spread and confidence, against real and Gaussian draws
    tr, out["sample_s"] = _timed(lambda: sde.sample(model, vp, 500, method="em", n_steps=200))
    x = tr.final().clamp(-1, 1)
    g = sde.sample(base, vp, 500, method="em", n_steps=200).final().clamp(-1, 1)
    out["sample_classes"] = torch.bincount(judge(x), minlength=10).tolist()
    out["confidence_model"] = float(judge.confidence(x).mean())
    out["confidence_gaussian"] = float(judge.confidence(g).mean())
    out["confidence_real"] = float(judge.confidence(data.heldout).mean())
    # inpainting the bottom half of every held-out digit
    mask = digits.top_half()
    inp, out["inpaint_s"] = _timed(
        lambda: control.inpaint_mask(model, vp, data.heldout, mask, len(data.heldout), 200)
    )
    filled = inp.final().clamp(-1, 1)
    cond = digits.conditional_mean(gauss, data.heldout, mask)
    out["inpaint_accuracy"] = judge.accuracy(filled, data.heldout_labels)
    out["inpaint_accuracy_gaussian_mean"] = judge.accuracy(cond, data.heldout_labels)
    out["top_half_only_accuracy"] = judge.accuracy(
        torch.where(mask, data.heldout, torch.tensor(-1.0)), data.heldout_labels
    )
    # guidance: a noisy classifier, 50 samples per class at strength 1 and 3
    clf, out["classifier_s"] = _timed(
        lambda: control.fit_classifier(
            data.train, data.train_labels, an_sde=vp, n_steps=1500, progress=False
        )
    )
    for strength in (1.0, 3.0):
        hits = 0
        for label in range(10):
            fn = control.classifier_guided(model, clf, label, strength)
            xs = sde.sample(fn, vp, 50, method="em", n_steps=200, seed=label).final()
            hits += int((judge(xs.clamp(-1, 1)) == label).sum())
        out[f"guided_accuracy_{strength:g}"] = hits / 500
    # Langevin on the learned score at t = CHAIN_T, from held-out digits
    step = 0.3 * float(vp.marginal(CHAIN_T)[1])
    chains, out["chain_s"] = _timed(
        lambda: mcmc.sample(
            None,
            "ula",
            n_chains=len(data.heldout),
            n_steps=n_chain_steps,
            step_size=step,
            x0=data.heldout,
            score=lambda y: model(y, CHAIN_T),
        )
    )
    every = chains.xs[:: n_chain_steps // 10]  # 11 snapshots
    labels = torch.stack([judge(f.clamp(-1, 1)) for f in every])
    out["chain_step"] = step
    out["chain_steps"] = n_chain_steps
    out["chain_changed_class"] = float((labels[-1] != labels[0]).double().mean())
    out["chain_class_switches"] = float((labels[1:] != labels[:-1]).double().sum(0).mean())
    return out


def table(m: dict) -> str:
    rows = [
        ("training (3,000 steps, MLP 256 x 3)", f"{m['train_s']:.1f} s"),
        (
            "bits/dim, held-out digits: learned (PF-ODE)",
            f"{m['bpd_model']:.2f} +- {m['bpd_model_stderr']:.2f} ({m['likelihood_nfe']} evals)",
        ),
        ("bits/dim, held-out digits: Gaussian baseline", f"{m['bpd_gaussian']:.2f}"),
        ("bits/dim, uniform over 17 levels", "4.09"),
        ("judge accuracy on held-out digits", f"{m['judge_heldout_accuracy']:.3f}"),
        (
            "judge confidence: real / learned samples / Gaussian",
            "{:.2f} / {:.2f} / {:.2f}".format(
                m["confidence_real"], m["confidence_model"], m["confidence_gaussian"]
            ),
        ),
        ("learned samples per judged class (500)", str(m["sample_classes"])),
        ("inpainted bottom half: judge accuracy (learned)", f"{m['inpaint_accuracy']:.3f}"),
        (
            "... Gaussian conditional mean / top half only",
            "{:.3f} / {:.3f}".format(
                m["inpaint_accuracy_gaussian_mean"], m["top_half_only_accuracy"]
            ),
        ),
        (
            "guided samples in the asked class, strength 1 / 3",
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    m = measure()
    text = (
        f"{TITLE}\n\n`python benchmarks/digits.py` on {machine()}, "
        f"{time.perf_counter() - start:.0f} s in all.\n\n" + table(m)
    )
    print(text)
    if not args.no_write:
        write_section(text, HERE / "results.md", TITLE)
        (HERE / "digits.json").write_text(json.dumps(m, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
