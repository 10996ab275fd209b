"""Model tests: mmaction scope, fixed seed, one intra-op thread.

One thread keeps these small-tensor tests fast and stable on a shared
2-core machine (OpenMP spinning under contention costs 5-20x here); the
previous setting is restored after each test.
"""
import pytest
import torch

import mmakm  # noqa: F401  (stack fixes + registration)
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True)
def _scope_seed_threads():
    init_default_scope('mmaction')
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
