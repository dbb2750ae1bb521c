"""Skip locally, fail in CI: a test whose requirement is missing must not pass CI as a skip.

``.ci/run`` exports ``CI=true`` (as do GitHub Actions and most CI services).
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """True under ``CI=true`` (``.ci/run`` sets it)."""
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str, module_level: bool = False) -> None:
    """Skip with ``reason`` locally; under CI=true fail with it instead."""
    if in_ci():
        pytest.fail(f"cannot run in CI (CI=true): {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)
