"""Strict nbval over every notebook with another torch thread count (see cross_machine.py)."""

import cross_machine  # tests/ is on sys.path (pytest rootdir-relative import)
import pytest


@pytest.mark.slow
def test_notebooks_with_another_thread_count():
    cross_machine.run_notebooks("threads")
