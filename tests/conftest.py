"""Shared test setup: one torch thread (bit-reproducible results) and small helpers."""

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def floor():
    """noise_floor(target, n).mean with the notes' defaults (cached per target name and n)."""
    from genmod import metrics

    cache = {}

    def get(target, n=2000):
        key = (target.name, n)
        if key not in cache:
            cache[key] = metrics.noise_floor(target, n, seed=0).mean
        return cache[key]

    return get
