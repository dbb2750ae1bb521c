"""Strict nbval over every notebook as on another machine: another instruction set and
another torch thread count at once (see cross_machine.py)."""

import cross_machine  # tests/ is on sys.path (pytest rootdir-relative import)
import pytest


@pytest.mark.slow
def test_notebooks_on_another_machine():
    cross_machine.run_notebooks("other_machine")


def test_other_machine_applies_every_perturbation():
    combined = cross_machine.PERTURBATIONS["other_machine"]
    for name in ("isa", "threads"):
        for key, value in cross_machine.PERTURBATIONS[name].items():
            assert combined[key] == value, (name, key)
