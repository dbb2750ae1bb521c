"""Peak kernel memory and wall time of every notebook, run top to bottom with nbclient.

Binder gives a session at most 2 GB and kills the kernel past it; the notes' budget is
1 GB of kernel RSS per notebook (the server, the browser tab and the OS need the rest).

While a notebook runs, a thread samples the resident set size (RSS) of the kernel process and
everything it started, every 50 ms; the peak is reported. RSS counts shared libraries once per
process (torch's are most of a fresh kernel), so it slightly overstates what a container pays.

Usage::

    python benchmarks/notebook_resources.py                 # every notebooks/*.ipynb
    python benchmarks/notebook_resources.py notebooks/00_two_ways_to_sample.ipynb

``rows(paths)`` returns the measurements as dicts for benchmarks/run.py; the script prints a
markdown table and exits 1 when a notebook fails or exceeds the budget.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MB = 1024  # peak kernel RSS budget per notebook (Binder: 2 GB for everything)
SAMPLE_S = 0.05


def tree_rss(pid: int) -> int:
    """RSS in bytes of process ``pid`` and all its descendants (0 if it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


class PeakRSS(threading.Thread):
    """Sample ``tree_rss`` of the pid that ``get_pid()`` returns (None: not started yet)."""

    def __init__(self, get_pid, interval: float = SAMPLE_S):
        super().__init__(daemon=True)
        self.get_pid, self.interval = get_pid, interval
        self.peak = 0
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            pid = self.get_pid()
            if pid is not None:
                self.peak = max(self.peak, tree_rss(pid))
                self.samples += 1
            self._done.wait(self.interval)

    def stop(self) -> int:
        self._done.set()
        self.join(timeout=5)
        return self.peak


def _kernel_pid(client: NotebookClient) -> int | None:
    km = getattr(client, "km", None)
    provisioner = getattr(km, "provisioner", None) if km is not None else None
    process = getattr(provisioner, "process", None)
    return getattr(process, "pid", None)


def measure(path: Path, timeout: int = 600) -> dict:
    """Run one notebook in a fresh kernel (cwd: its folder); peak kernel RSS and wall time."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    sampler = PeakRSS(lambda: _kernel_pid(client))
    sampler.start()
    t0 = time.perf_counter()
    error = ""
    try:
        client.execute()
    except Exception as e:  # noqa: BLE001 (report any failure as a row)
        error = f"{type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"
    seconds = time.perf_counter() - t0
    peak = sampler.stop()
    peak_mb = peak / 2**20
    return {
        "notebook": path.name,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_mb),
        "within_budget": peak_mb <= LIMIT_MB and peak > 0,
        "samples": sampler.samples,
        "error": error,
    }


def notebook_paths() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def rows(paths: list[Path] | None = None, timeout: int = 600) -> list[dict]:
    """One measurement per notebook (default: every notebooks/*.ipynb), run one at a time."""
    return [measure(p, timeout=timeout) for p in (paths or notebook_paths())]


def table(results: list[dict]) -> str:
    lines = [
        f"| notebook | wall time (s) | peak kernel RSS (MB) | <= {LIMIT_MB} MB | error |",
        "|---|---:|---:|:---:|---|",
    ]
    for r in results:
        ok = "yes" if r["within_budget"] else "NO"
        lines.append(
            f"| {r['notebook']} | {r['seconds']} | {r['peak_rss_mb']} | {ok} | {r['error']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    ap.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    args = ap.parse_args(argv)
    load = " / ".join(f"{x:.2f}" for x in psutil.getloadavg())
    print(f"load average (1/5/15 min): {load} on {psutil.cpu_count()} cores", flush=True)
    results = []
    for path in args.notebooks or notebook_paths():
        results.append(measure(path, timeout=args.timeout))
        print(f"  {results[-1]}", flush=True)
    print(table(results))
    bad = [r for r in results if r["error"] or not r["within_budget"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
