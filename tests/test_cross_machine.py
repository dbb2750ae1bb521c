"""Strict nbval over every notebook with another CPU's instruction set (see cross_machine.py)."""

import cross_machine  # tests/ is on sys.path (pytest rootdir-relative import)
import pytest


@pytest.mark.slow
def test_notebooks_with_another_instruction_set():
    cross_machine.run_notebooks("isa")
