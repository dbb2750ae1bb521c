"""Run every notebook under strict nbval in a subprocess whose environment mimics another machine.

Stored outputs were made on one CPU. A reader's laptop, Binder or CI may have another
instruction set, another BLAS code path or another thread count, each of which moves float
results by about 1e-7 and, through training, moves what a trained model prints. These runs
check that every output nbval compares is stable under such changes (numbers that are not
sit in cells whose output nbval ignores, with their claims checked as code beside them).

CI runs ``isa``: the instruction set is what differs between a reader's CPU and this one.
The thread count does not: ``genmod.setup()`` and every model fit (``config.torch_threads``)
pin it to ``GENMOD_THREADS`` or 1 on every machine. ``threads`` (``GENMOD_THREADS=2``) checks
the opt-in; it is not in CI because two torch threads per kernel beside the other test
worker on 2 cores ran 02's and 03's training cells past nbval's 120 s cell timeout (a
combined isa + threads pass, 2026-12-01). Run it by hand: ``run_notebooks("threads")``.
- ``isa``: ``ATEN_CPU_CAPABILITY=default`` (torch's portable kernels instead of AVX-512/AVX2)
  and ``MKL_ENABLE_INSTRUCTIONS=AVX2`` (MKL's matmul without AVX-512, the code path an AMD or
  older Intel CPU takes; on this Xeon it changes matmul results, and with them training).
- ``threads``: ``GENMOD_THREADS=2`` (genmod.setup() honours it): another torch thread count.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "cross_machine"

PERTURBATIONS = {
    "isa": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "threads": {"GENMOD_THREADS": "2"},
}


def run_notebooks(name: str, timeout_s: int = 1200) -> None:
    """Strict nbval over notebooks/ under perturbation ``name``; fail with nbval's report."""
    env = {**os.environ, **PERTURBATIONS[name]}
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider",
        "-p", "no:xdist", "--nbval", "--nbval-current-env",
        "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
        "--nbval-cell-timeout", "120", str(ROOT / "notebooks"),
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = ARTIFACTS / f"{name}.txt"
    report.write_text(f"env: {PERTURBATIONS[name]}\n\n{proc.stdout}\n{proc.stderr}")
    tail = "\n".join(proc.stdout.strip().splitlines()[-40:])
    assert proc.returncode == 0, (
        f"notebooks differ under perturbation {name} {PERTURBATIONS[name]} "
        f"(full report: {report}):\n{tail}"
    )
