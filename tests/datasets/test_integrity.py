"""Unusable frames and duplicate rows are found when the dataset is built,
named by file and row, and ``on_bad_sample='skip'`` really skips them."""
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

import mmakm.compat

mmakm.compat.apply()
sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate as fab  # noqa: E402
from mmakm.datasets import (CASME2Dataset, check_clip_frames,  # noqa: E402
                            read_image_size)

XLSX = 'CASME2-coding-20140508.xlsx'
HEADER = ('Subject', 'Filename', 'OnsetFrame', 'ApexFrame', 'OffsetFrame',
          'Action Units', 'Estimated Emotion')


def _images(tmp_path, ext, n=3, size=(6, 10)):
    paths = []
    for i in range(n):
        p = str(tmp_path / f'img{i}{ext}')
        img = np.full(size + (3,), 40 * i, np.uint8)
        assert cv2.imwrite(p, img)
        paths.append(p)
    return paths


def _truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:int(len(data) * keep)])


@pytest.mark.parametrize('ext', ['.jpg', '.png', '.bmp'])
def test_good_frames_pass_and_size_is_read_from_header(tmp_path, ext):
    paths = _images(tmp_path, ext)
    assert check_clip_frames(paths) == []
    assert check_clip_frames(paths, decode=True) == []
    assert read_image_size(paths[0]) == (6, 10)


@pytest.mark.parametrize('ext,word', [('.jpg', 'truncated JPEG'),
                                      ('.png', 'truncated PNG'),
                                      ('.bmp', 'truncated BMP')])
def test_truncated_frames_are_named(tmp_path, ext, word):
    paths = _images(tmp_path, ext)
    _truncate(paths[1])
    problems = check_clip_frames(paths)
    assert [p.path for p in problems] == [paths[1]]
    assert word in problems[0].reason
    assert str(problems[0]).startswith(paths[1] + ': ')


def test_empty_corrupt_missing_and_odd_sized_frames(tmp_path):
    paths = _images(tmp_path, '.jpg', n=5)
    open(paths[0], 'wb').close()                       # zero bytes
    open(paths[1], 'wb').write(b'GIF89a' + b'\0' * 40)  # not jpg/png/bmp
    data = bytearray(open(paths[2], 'rb').read())
    data[2:4] = b'\x00\x00'                             # broken marker
    open(paths[2], 'wb').write(bytes(data))
    os.remove(paths[3])
    cv2.imwrite(paths[4], np.zeros((12, 10, 3), np.uint8))
    os.makedirs(tmp_path / 'more')
    extra = _images(tmp_path / 'more', '.jpg', n=2)
    reasons = {p.path: p.reason for p in check_clip_frames(paths + extra)}
    assert reasons[paths[0]] == 'empty file (0 bytes)'
    assert 'not a JPEG, PNG or BMP' in reasons[paths[1]]
    assert 'corrupt JPEG' in reasons[paths[2]]
    assert reasons[paths[3]] == 'file not found'
    assert reasons[paths[4]] == ("frame size 10x12 (WxH) differs from the "
                                 "clip's 10x6")
    assert set(reasons) == set(paths)


def test_damaged_image_data_needs_decode(tmp_path):
    paths = _images(tmp_path, '.png')
    data = bytearray(open(paths[0], 'rb').read())
    data[40:60] = b'\xff' * 20  # inside the compressed IDAT data
    open(paths[0], 'wb').write(bytes(data))
    assert check_clip_frames(paths) == []
    problems = check_clip_frames(paths, decode=True)
    assert [p.path for p in problems] == [paths[0]]
    assert 'cannot decode' in problems[0].reason


@pytest.mark.parametrize('damage', ['empty', 'truncated', 'odd_size'])
def test_dataset_skips_unusable_frames_up_front(tmp_path, damage):
    root = fab.make_casme2(str(tmp_path / 'c2'), rows=fab.CASME2_ROWS[:3])
    bad = osp.join(root, 'CASME2_RAW', 'sub01', 'EP03_02', 'img21.jpg')
    if damage == 'empty':
        open(bad, 'wb').close()
    elif damage == 'truncated':
        _truncate(bad)
    else:
        fab.write_image(bad, size=fab.SIZE * 2)
    with pytest.raises(ValueError) as e:
        CASME2Dataset(data_root=root)
    msg = str(e.value)
    assert f'{XLSX}, row 3' in msg and 'EP03_02' in msg and bad in msg
    ds = CASME2Dataset(data_root=root, on_bad_sample='skip')
    assert len(ds) == 2 and len(ds.skipped) == 1
    assert bad in ds.skipped[0]['reason']
    assert 'EP03_02' not in [ds.get_data_info(i)['clip_id']
                             for i in range(len(ds))]


def test_decode_time_size_error_names_the_file(tmp_path):
    from mmakm.datasets import MEFrameDecode, MESampleFrames
    root = fab.make_casme2(str(tmp_path / 'c2'), rows=fab.CASME2_ROWS[:1])
    odd = osp.join(root, 'CASME2_RAW', 'sub01', 'EP02_01f', 'img12.jpg')
    fab.write_image(odd, size=fab.SIZE * 2)
    ds = CASME2Dataset(data_root=root, check_images=False,
                       pipeline=[MESampleFrames(), MEFrameDecode()])
    with pytest.raises(ValueError, match=r'EP02_01f.*8x8.*img12\.jpg '
                                         r'\(16x16\)'):
        ds[0]


def _casme2_rows(tmp_path, rows):
    root = str(tmp_path / 'c2')
    fab.make_casme2(root, rows=[r for r in rows if r[1] != 'dup'])
    fab.write_xlsx(osp.join(root, XLSX), [HEADER] + list(rows))
    return root


def test_identical_duplicate_rows_are_dropped_and_listed(tmp_path, capsys):
    rows = fab.CASME2_ROWS[:3] + [fab.CASME2_ROWS[1]]
    root = _casme2_rows(tmp_path, rows)
    ds = CASME2Dataset(data_root=root)
    assert len(ds) == 3
    assert [(d['where'], d['same_as']) for d in ds.duplicates] == [
        (f'{osp.join(root, XLSX)}, row 5', f'{osp.join(root, XLSX)}, row 3')]


def test_conflicting_duplicate_rows_are_an_error(tmp_path):
    other = list(fab.CASME2_ROWS[1])
    other[-1] = 'happiness'
    root = _casme2_rows(tmp_path, fab.CASME2_ROWS[:3] + [tuple(other)])
    for mode in ('error', 'skip'):
        with pytest.raises(ValueError) as e:
            CASME2Dataset(data_root=root, on_bad_sample=mode)
        msg = str(e.value)
        assert 'EP03_02' in msg and 'annotated twice' in msg
        assert 'row 3' in msg and 'row 5' in msg
        assert "'disgust'" in msg and "'happiness'" in msg


def test_check_corpus_cli_reports_bad_files(tmp_path):
    sys.path.insert(0, osp.join(fab.__file__.rsplit('tests', 1)[0],
                                'tools', 'misc'))
    import check_corpus
    root = fab.make_casme2(str(tmp_path / 'c2'), rows=fab.CASME2_ROWS[:3])
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "custom_imports = dict(imports=['mmakm'])\n"
        "default_scope = 'mmaction'\n"
        f"test_dataloader = dict(dataset=dict(type='CASME2Dataset', "
        f"data_root={root!r}, pipeline=[]))\n"
        f"train_dataloader = dict(dataset=dict(type='CASME2Dataset', "
        f"data_root={root!r}, exclude_subjects=['sub01'], pipeline=[]))\n")
    assert check_corpus.main([str(cfg)]) == 0
    bad = osp.join(root, 'CASME2_RAW', 'sub01', 'EP04_03', 'img6.jpg')
    _truncate(bad)
    import io
    import contextlib
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert check_corpus.main([str(cfg)]) == 1
    text = out.getvalue()
    assert f'{bad}: truncated JPEG' in text
    assert '2 usable sample(s), 1 bad' in text   # one dataset, listed once
    assert 'frames/s' in text and '1 problem(s) found' in text


def test_check_corpus_checks_the_shipped_frames_of_a_cache_config(
        tmp_path, capsys):
    """configs/akm_casme2.py trains on a frame cache; before, the check
    (meant to come before preprocessing) failed with 'preprocessed frame
    cache not found' instead of checking the corpus."""
    sys.path.insert(0, osp.join(fab.__file__.rsplit('tests', 1)[0],
                                'tools', 'misc'))
    import check_corpus
    root = fab.make_casme2(str(tmp_path / 'c2'), rows=fab.CASME2_ROWS[:3])
    paper = osp.join(fab.__file__.rsplit('tests', 1)[0], 'configs',
                     'akm_casme2.py')
    opts = [f'{s}_dataloader.dataset.{k}={v}' for s in ('train', 'test')
            for k, v in (('data_root', root),
                         ('cache_dir', tmp_path / 'no_cache'))]
    assert check_corpus.main([paper, '--cfg-options', *opts]) == 0
    out = capsys.readouterr().out
    assert '3 usable sample(s), 0 bad' in out and 'corpus OK' in out
    assert not (tmp_path / 'no_cache').exists()


def test_check_corpus_names_why_samples_were_excluded(tmp_path, capsys):
    """Before: every exclusion was put down to the class setup, also the
    MEGC2019 clips left out for not being in the official list."""
    sys.path.insert(0, osp.join(fab.__file__.rsplit('tests', 1)[0],
                                'tools', 'misc'))
    import check_corpus
    root = fab.make_megc2019(str(tmp_path / 'megc'))
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "custom_imports = dict(imports=['mmakm'])\n"
        "default_scope = 'mmaction'\n"
        f"test_dataloader = dict(dataset=dict(type='MEGC2019Dataset', "
        f"pipeline=[], **{fab.megc_cfg(root)!r}))\n")
    assert check_corpus.main([str(cfg)]) == 0
    out = capsys.readouterr().out
    assert 'excluded by the class setup' not in out
    assert 'sample(s) excluded, not errors (not in the MEGC2019 list: ' in out


def test_check_corpus_lists_every_bad_sample_when_none_is_usable(tmp_path):
    sys.path.insert(0, osp.join(fab.__file__.rsplit('tests', 1)[0],
                                'tools', 'misc'))
    import contextlib
    import io

    import check_corpus
    root = fab.make_casme2(str(tmp_path / 'c2'), rows=fab.CASME2_ROWS[:2])
    for clip, frame in (('EP02_01f', 'img12.jpg'), ('EP03_02', 'img21.jpg')):
        os.remove(osp.join(root, 'CASME2_RAW', 'sub01', clip, frame))
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "custom_imports = dict(imports=['mmakm'])\n"
        "default_scope = 'mmaction'\n"
        f"test_dataloader = dict(dataset=dict(type='CASME2Dataset', "
        f"data_root={root!r}, pipeline=[]))\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert check_corpus.main([str(cfg)]) == 1
    text = out.getvalue()
    assert '0 usable sample(s), 2 bad' in text
    assert 'img12.jpg' in text and 'img21.jpg' in text
    assert '2 problem(s) found' in text
