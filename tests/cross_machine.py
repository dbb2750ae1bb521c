"""Run every notebook under strict nbval in a subprocess whose environment mimics another machine.

Stored outputs were made on one CPU. A reader's laptop, Binder or CI may have another
instruction set, another BLAS code path or another thread count, each of which moves float
results by about 1e-7 and, through training, moves what a trained model prints. These runs
check that every output nbval compares is stable under such changes (numbers that are not
sit in cells whose output nbval ignores, with their claims checked as code beside them).

``isa`` is the one that matters: the instruction set is what differs between a reader's CPU
and this one. Its pass takes 11-13 minutes of one core (torch's portable kernels are slow),
more than a third of CI's 30-minute budget, so CI does not re-run it: a pass writes
:data:`RECORD`, the fingerprint of everything the notebooks' outputs depend on (the
notebooks, ``src/``, the benchmark results notebook 08 reads, the sanitizers, the pinned
requirements), and CI's ``tests/test_cross_machine.py`` fails unless that record matches
the tree it tests. So a change to any of those files needs a new pass before it lands::

    python tests/cross_machine.py isa    # 11-13 minutes; on success it writes the record

(``GENMOD_CROSS_MACHINE=1 pytest tests/test_cross_machine.py`` runs the pass as a test.)
The thread count needs no such run: ``genmod.setup()`` and every model fit
(``config.torch_threads``) pin it to ``GENMOD_THREADS`` or 1 on every machine; ``threads``
(``GENMOD_THREADS=2``) checks the opt-in by hand: ``python tests/cross_machine.py threads``.
- ``isa``: ``ATEN_CPU_CAPABILITY=default`` (torch's portable kernels instead of AVX-512/AVX2)
  and ``MKL_ENABLE_INSTRUCTIONS=AVX2`` (MKL's matmul without AVX-512, the code path an AMD or
  older Intel CPU takes; on a Xeon it changes matmul results, and with them training).
- ``threads``: ``GENMOD_THREADS=2`` (genmod.setup() honours it): another torch thread count.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "cross_machine"
RECORD = ROOT / "tests" / "cross_machine_record.json"
#: what the notebooks' compared outputs depend on (globs relative to the repository root)
INPUTS = (
    "notebooks/*.ipynb",
    "src/**/*.py",
    "benchmarks/results.json",
    "tests/nbval_sanitize.cfg",
    "requirements.txt",
)

PERTURBATIONS = {
    "isa": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "threads": {"GENMOD_THREADS": "2"},
}


def fingerprint(root: Path = ROOT) -> dict[str, str]:
    """sha256 of every file of :data:`INPUTS` under ``root``, by posix path, with line endings
    read as LF (a checkout with git's autocrlf, as on Windows, holds the same files)."""
    files = sorted({p for pattern in INPUTS for p in root.glob(pattern) if p.is_file()})
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(
            p.read_bytes().replace(b"\r\n", b"\n")
        ).hexdigest()
        for p in files
    }


def stale_inputs(record: dict, root: Path = ROOT) -> list[str]:
    """Files added, removed or changed since ``record``'s pass (empty: the record holds)."""
    then, now = record.get("inputs", {}), fingerprint(root)
    return sorted(p for p in then.keys() | now.keys() if then.get(p) != now.get(p))


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_notebooks(name: str, timeout_s: int = 1800, record: bool = False) -> None:
    """Strict nbval over notebooks/ under perturbation ``name``; fail with nbval's report.
    ``record`` (``isa`` only): on a pass, write :data:`RECORD` for the tree as it was run."""
    inputs = fingerprint()
    env = {**os.environ, **PERTURBATIONS[name]}
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider",
        "-p", "no:xdist", "--nbval", "--nbval-current-env",
        "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
        "--nbval-cell-timeout", "120", str(ROOT / "notebooks"),
    ]  # fmt: skip
    start = time.monotonic()
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    seconds = time.monotonic() - start
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = ARTIFACTS / f"{name}.txt"
    report.write_text(f"env: {PERTURBATIONS[name]}\n\n{proc.stdout}\n{proc.stderr}")
    tail = "\n".join(proc.stdout.strip().splitlines()[-40:])
    assert proc.returncode == 0, (
        f"notebooks differ under perturbation {name} {PERTURBATIONS[name]} "
        f"(full report: {report}):\n{tail}"
    )
    if record and name == "isa":
        if fingerprint() != inputs:
            raise RuntimeError("files changed during the pass; run it again on a still tree")
        summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        RECORD.write_text(
            json.dumps(
                {
                    "perturbation": name,
                    "env": PERTURBATIONS[name],
                    "result": summary,
                    "seconds": round(seconds),
                    "cpu": _cpu(),
                    "date": time.strftime("%Y-%m-%d", time.gmtime()),
                    "inputs": inputs,
                },
                indent=1,
            )
            + "\n"
        )


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "isa"
    if which not in PERTURBATIONS:
        raise SystemExit(f"usage: python tests/cross_machine.py [{'|'.join(PERTURBATIONS)}]")
    run_notebooks(which, record=which == "isa")
    print(
        f"{which}: every notebook passed strict nbval"
        + (f"; wrote {RECORD}" if which == "isa" else "")
    )
