"""Shared test setup: one torch thread (bit-reproducible results) and small helpers."""

import pytest
import torch

torch.set_num_threads(1)

#: the longest test when it runs (GENMOD_CROSS_MACHINE=1: a strict nbval pass over every
#: notebook in a subprocess, 11-13 minutes): collected first, so pytest-xdist's loadfile
#: scheduler hands it to a worker at once and the other worker runs everything else beside
#: it, instead of one core idling at the end
FIRST = "tests/test_cross_machine.py"


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not item.nodeid.startswith(FIRST))  # stable: the rest keep order


@pytest.fixture
def floor():
    """metrics.expected_floor(target, n), what quality divides by (cached per name and n)."""
    from genmod import metrics

    cache = {}

    def get(target, n=2000):
        key = (target.name, n)
        if key not in cache:
            cache[key] = metrics.expected_floor(target, n)
        return cache[key]

    return get
