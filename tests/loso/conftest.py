import os.path as osp
import sys

import pytest

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import loso_testlib as lib  # noqa: E402


@pytest.fixture(scope='session')
def tiny_corpus(tmp_path_factory):
    return lib.make_tiny_corpus(
        str(tmp_path_factory.mktemp('loso_corpus') / 'synthetic'))


@pytest.fixture(scope='session')
def tiny_config(tiny_corpus, tmp_path_factory):
    return lib.write_tiny_config(
        str(tmp_path_factory.mktemp('loso_cfg') / 'akm_tiny.py'), tiny_corpus)


@pytest.fixture(scope='session')
def reference_run(tiny_config, tmp_path_factory):
    """An uninterrupted 2-fold LOSO run (work dir, stdout)."""
    work_dir = str(tmp_path_factory.mktemp('loso_ref'))
    proc = lib.run(lib.loso_cmd(tiny_config, work_dir))
    return work_dir, proc.stdout
