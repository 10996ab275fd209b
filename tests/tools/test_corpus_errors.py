"""A bad corpus meets the user of tools/train.py and tools/loso.py as one
message naming the file, row and what was expected (no traceback), and
LOSO stops before any fold starts."""
import os
import os.path as osp
import sys

import pytest

from tools_testlib import REPO, load_tool

sys.path.insert(0, osp.join(REPO, 'tests'))
import fabricate as fab  # noqa: E402

CONFIG = osp.join(REPO, 'configs', 'akm_casme2.py')


@pytest.fixture
def truncated_frame_corpus(tmp_path):
    """CASME II as shipped, one frame of sub01 EP02_01f cut in half."""
    root = fab.make_casme2(str(tmp_path / 'casme2'), rows=fab.CASME2_ROWS)
    bad = osp.join(root, 'CASME2_RAW', 'sub01', 'EP02_01f', 'img11.jpg')
    with open(bad, 'rb') as f:
        data = f.read()
    with open(bad, 'wb') as f:
        f.write(data[:len(data) // 2])
    return root


def corpus_options(root):
    return [f'{loader}.dataset.{k}={v}'
            for loader in ('train_dataloader', 'test_dataloader')
            for k, v in (('data_root', root), ('cache_dir', None))]


EXPECTED = (r'CASME2-coding-20140508\.xlsx, row 2: clip EP02_01f '
            r'\(casme2/sub01\): 1 unusable frame\(s\): .*img11\.jpg: '
            r'truncated JPEG.*expected complete JPEG/PNG/BMP images')


def test_train_prints_the_corpus_error_alone(truncated_frame_corpus,
                                            tmp_path):
    train = load_tool('train')
    with pytest.raises(SystemExit, match=r'^error: .*' + EXPECTED):
        train.main([CONFIG, '--work-dir', str(tmp_path / 'work'),
                    '--cfg-options',
                    *corpus_options(truncated_frame_corpus)])


def test_loso_stops_before_any_fold(truncated_frame_corpus, tmp_path,
                                    capsys):
    import re
    loso = load_tool('loso')
    work = tmp_path / 'loso'
    rc = loso.main([CONFIG, '--work-dir', str(work), '--cfg-options',
                    *corpus_options(truncated_frame_corpus)])
    err = capsys.readouterr().err
    assert rc == 2
    assert re.search(r'^error: .*' + EXPECTED, err, flags=re.M), err
    assert 'Traceback' not in err
    assert not work.exists() or not [d for d in os.listdir(work)
                                     if d.startswith('fold_')]
