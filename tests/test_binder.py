"""Binder config: what repo2docker (the tool mybinder.org builds with) makes of this repository.

No Docker here: repo2docker's Python API picks the buildpack and renders the Dockerfile
(`repo2docker --no-build` prints the same text). The checks are the ways a Binder build goes
wrong silently: another buildpack wins (an environment.yml beside requirements.txt), the wrong
Python, requirements installed before the repository is copied (then `-r ../requirements.txt`
and `-e .` point at nothing), postBuild never run, or Binder pins drifting from the root pins.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import pytest
from ci_support import skip_or_fail  # tests/ is on sys.path (rootdir-relative import)
from packaging.requirements import Requirement
from packaging.version import Version

try:
    from repo2docker.app import Repo2Docker
    from repo2docker.buildpacks import PythonBuildPack

    R2D_MISSING = None
except ImportError as e:  # the tests that need it skip locally and fail under CI=true
    R2D_MISSING = f"jupyter-repo2docker is not importable (pinned in requirements.txt): {e}"

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
# what mybinder.org passes: a non-root user with uid 1000 owns the copied repository
BUILD_ARGS = {"NB_USER": "jovyan", "NB_UID": "1000"}


def picked_buildpack():
    """The buildpack repo2docker picks for this repository (first whose detect() is true)."""
    with chdir(str(ROOT)):
        for cls in Repo2Docker().buildpacks:
            bp = cls(base_image="docker.io/library/buildpack-deps:24.04")
            if bp.detect():
                bp.platform = "linux/amd64"  # mybinder.org's platform
                return bp
    return None


@pytest.fixture(scope="module")
def r2d():
    """Gate for the tests that need repo2docker itself."""
    if R2D_MISSING:
        skip_or_fail(R2D_MISSING)


@pytest.fixture(scope="module")
def buildpack(r2d):
    bp = picked_buildpack()
    assert bp is not None, "repo2docker finds no environment specification"
    return bp


@pytest.fixture(scope="module")
def dockerfile(buildpack):
    with chdir(str(ROOT)):
        return buildpack.render(BUILD_ARGS)


def line_index(lines: list[str], pattern: str) -> int:
    hits = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert hits, f"no Dockerfile line matches {pattern!r}"
    return hits[0]


def test_python_buildpack_and_python_311(buildpack):
    assert type(buildpack) is PythonBuildPack, type(buildpack).__name__
    assert buildpack.binder_dir == "binder"
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert buildpack.python_version == "3.11"
    with chdir(str(ROOT)):
        files = buildpack.get_build_script_files()
    assert any(src.endswith("environment.py-3.11-linux-64.lock") for src in files), files


def test_no_config_file_that_silently_wins_or_is_ignored():
    # repo2docker reads these too; e.g. an environment.yml makes it a conda build that never
    # installs requirements.txt
    others = {
        "environment.yml",
        "Pipfile",
        "Pipfile.lock",
        "Dockerfile",
        "Project.toml",
        "REQUIRE",
        "install.R",
        "default.nix",
        "apt.txt",
        "setup.py",
        "requirements3.txt",
    }
    assert not others & {p.name for p in BINDER.iterdir()}


def test_requirements_installed_after_the_repository_is_copied(dockerfile):
    lines = dockerfile.splitlines()
    workdir = line_index(lines, r"^WORKDIR \$\{REPO_DIR\}$")
    copy_repo = line_index(lines, r"^COPY .*src/ \$\{REPO_DIR\}/$")
    pip = line_index(lines, r'pip install --no-cache-dir -r "binder/requirements.txt"')
    # pip runs from the repository root (WORKDIR) with the whole repository present, so
    # `-r ../requirements.txt` and the root file's `-e .` resolve to real files
    assert workdir < copy_repo < pip


def test_postbuild_runs_after_requirements(dockerfile):
    lines = dockerfile.splitlines()
    pip = line_index(lines, r'pip install --no-cache-dir -r "binder/requirements.txt"')
    post = line_index(lines, r"^RUN \./binder/postBuild$")
    assert pip < post
    script = (BINDER / "postBuild").read_text()
    assert script.startswith("#!/bin/bash")
    assert re.search(r"^set -e", script, re.M)
    assert re.search(r"^pip install .*-e \.$", script, re.M), "postBuild must install genmod"
    assert os.access(BINDER / "postBuild", os.X_OK), "postBuild must be executable"


def test_repo2docker_cli_renders_the_same_plan(r2d):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "repo2docker",
            "--no-build",
            "--user-id",
            "1000",
            "--user-name",
            "jovyan",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "python=3.11" in out.stderr + out.stdout
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in out.stdout
    assert "RUN ./binder/postBuild" in out.stdout


def read_requirements(path: Path, seen: set[Path] | None = None) -> dict[str, list[Requirement]]:
    """Requirements of a file by name, following `-r` includes (relative to the file, as pip does).

    Options (--extra-index-url) and editable installs (-e) are skipped. A name may appear more
    than once (Binder's `torch==2.13.0+cpu` beside the root's `torch==2.13.0`): pip needs one
    version that satisfies them all.
    """
    seen = set() if seen is None else seen
    path = path.resolve()
    assert path not in seen, f"{path} included twice"
    seen.add(path)
    reqs: dict[str, list[Requirement]] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            for name, more in read_requirements(path.parent / line.split(None, 1)[1], seen).items():
                reqs.setdefault(name, []).extend(more)
        elif line and not line.startswith("-"):
            req = Requirement(line)
            reqs.setdefault(req.name.lower().replace("_", "-"), []).append(req)
    return reqs


def exact_version(req: Requirement) -> Version:
    specs = list(req.specifier)
    assert len(specs) == 1 and specs[0].operator == "==", f"{req} is not pinned exactly"
    return Version(specs[0].version)


def installed_version(reqs: list[Requirement]) -> Version:
    """The one version pip can install for these pins (the most specific: local label first)."""
    version = max((exact_version(r) for r in reqs), key=lambda v: (v.local is not None, v))
    for r in reqs:
        assert r.specifier.contains(str(version)), f"{version} does not satisfy {r}"
    return version


def test_root_and_binder_pins_agree():
    root = read_requirements(ROOT / "requirements.txt")
    binder = read_requirements(BINDER / "requirements.txt")
    text = (BINDER / "requirements.txt").read_text()
    assert "-r ../requirements.txt" in text  # one source of truth
    assert {"torch", "numpy", "jupyterlab", "plotly"} <= set(root)
    for name, reqs in root.items():
        assert len(reqs) == 1, f"{name} pinned twice in requirements.txt"
        assert name in binder, f"{name} missing on Binder"
        assert installed_version(binder[name]).public == exact_version(reqs[0]).public, name
    # Binder's torch: the CPU build of the root version, from the CPU wheel index
    torch = installed_version(binder["torch"])
    assert torch.local == "cpu" and str(torch) == f"{exact_version(root['torch'][0])}+cpu"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    # Binder-only pins are exact too; notebook 7.N is the release made for jupyterlab 4.N
    for reqs in binder.values():
        installed_version(reqs)
    if "notebook" in binder:
        lab = exact_version(root["jupyterlab"][0])
        nb = installed_version(binder["notebook"])
        assert (nb.major, nb.minor) == (7, lab.minor), (nb, lab)


def test_root_requirements_install_the_package():
    lines = [
        s
        for raw in (ROOT / "requirements.txt").read_text().splitlines()
        if (s := raw.split("#", 1)[0].strip())
    ]
    assert "-e ." in lines
