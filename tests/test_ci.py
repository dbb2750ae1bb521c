"""CI's own settings: `.ci/run` exports CI=true, and under it a missing requirement fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ci_support import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]


def test_ci_script_exports_ci_before_the_tests():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    export = [i for i, ln in enumerate(lines) if re.fullmatch(r"\s*export CI=true\s*", ln)]
    tests = [i for i, ln in enumerate(lines) if re.search(r"(^|&&\s*)pytest\b", ln.strip())]
    assert export, ".ci/run does not `export CI=true`"
    assert tests, ".ci/run does not run pytest"
    assert export[0] < tests[0], "CI=true is exported after pytest starts"


def test_missing_requirement_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        skip_or_fail("no browser")


def test_missing_requirement_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no browser"):
        skip_or_fail("no browser")
