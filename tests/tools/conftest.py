"""Fixtures of the entry-point tests (helpers in tools_testlib.py)."""
import pytest


@pytest.fixture(scope='session')
def corpus_root(tmp_path_factory):
    """A small synthetic CASME II-layout corpus shared by the tool tests."""
    from mmakm.datasets.synthetic import make_synthetic_casme2
    root = str(tmp_path_factory.mktemp('corpus') / 'synthetic')
    make_synthetic_casme2(root, seed=0)
    return root
