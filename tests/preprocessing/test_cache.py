"""The frame cache: atomic per-clip files, frame-number index, and the
dataset switch (same samples and metainfo for every corpus)."""
import os
import os.path as osp
import sys

import numpy as np
import pytest

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import fabricate as fab  # noqa: E402

import mmakm  # noqa: E402,F401
from mmakm.datasets import (CASME1Dataset, CASME2Dataset,  # noqa: E402
                            CASME3Dataset, MEAnnotationDataset,
                            MEGC2019Dataset, MEFrameDecode, MESampleFrames,
                            SAMMDataset, SMICDataset)
from mmakm.preprocessing import (CacheMissError, is_cached,  # noqa: E402
                                 load_frames, lookup, read_index, write_clip)
from mmakm.preprocessing.runner import preprocess_dataset  # noqa: E402

FRAME_KEYS = {'frame_paths', 'filename', 'video_frame_inds', 'cache_file',
              'cache_rows'}


def test_write_lookup_load_roundtrip(tmp_path):
    cache = str(tmp_path)
    clip = np.random.default_rng(0).integers(0, 255, (6, 4, 4, 3), np.uint8)
    numbers = np.arange(20, 26)
    path = write_clip(cache, 'c/sub01/EP01', clip, numbers, dict(note=1))
    assert path == osp.join(cache, 'c', 'sub01', 'EP01.npy')
    assert is_cached(cache, 'c/sub01/EP01')
    # nothing but the two final files (temp files renamed away)
    assert sorted(os.listdir(osp.dirname(path))) == ['EP01.json', 'EP01.npy']
    assert read_index(cache, 'c/sub01/EP01')['frame_numbers'] == list(numbers)
    assert np.load(path, mmap_mode='r').shape == (6, 4, 4, 3)
    p, rows = lookup(cache, 'c/sub01/EP01', np.array([21, 23, 25]))
    assert p == path and rows.tolist() == [1, 3, 5]
    np.testing.assert_array_equal(load_frames(p, [3, 1, 1]),
                                  clip[[3, 1, 1]])
    with pytest.raises(CacheMissError, match='lack frame 26'):
        lookup(cache, 'c/sub01/EP01', np.arange(24, 27))
    with pytest.raises(CacheMissError, match='EP02.npy not found'):
        lookup(cache, 'c/sub01/EP02', numbers)
    with pytest.raises(ValueError, match='uint8'):
        write_clip(cache, 'c/x', clip.astype(np.float32), numbers)


@pytest.fixture(scope='module')
def corpora(tmp_path_factory):
    return fab.make_all(str(tmp_path_factory.mktemp('corpora')))


def _datasets(c):
    return dict(
        casme2=lambda **kw: CASME2Dataset(data_root=c['casme2'], **kw),
        samm=lambda **kw: SAMMDataset(data_root=c['samm'], **kw),
        smic_hs=lambda **kw: SMICDataset(data_root=c['smic'], **kw),
        smic_vis=lambda **kw: SMICDataset(data_root=c['smic'], subset='VIS',
                                          **kw),
        casme1=lambda **kw: CASME1Dataset(
            data_root=c['casme1'], sections=fab.CASME1_SECTIONS_CFG, **kw),
        casme3=lambda **kw: CASME3Dataset(data_root=c['casme3'], **kw),
        megc2019=lambda **kw: MEGC2019Dataset(**fab.megc_cfg(c['megc2019']),
                                              **kw),
        generic=lambda **kw: MEAnnotationDataset(
            ann_file='ann.csv', data_root=c['generic'], corpus='mycorpus',
            **kw))


def _decode(info, inds=None):
    r = MESampleFrames(test_mode=True)(dict(info))
    if inds is not None:
        r['frame_inds'] = np.asarray(inds)
    return np.stack(MEFrameDecode()(r)['imgs'])


@pytest.mark.parametrize('name', ['casme2', 'samm', 'smic_hs', 'smic_vis',
                                  'casme1', 'casme3', 'megc2019', 'generic'])
def test_dataset_reads_cache_with_same_samples(corpora, tmp_path, name):
    make = _datasets(corpora)[name]
    shipped = make()
    cache = str(tmp_path / 'cache')
    reports = preprocess_dataset(shipped, cache, dict(face=None),
                                 log=lambda *_: None)
    assert sum(len(r['done']) for r in reports.values()) == len(shipped)
    assert all(not r['failed'] for r in reports.values())
    cached = make(cache_dir=cache)
    assert cached.metainfo == shipped.metainfo
    assert len(cached) == len(shipped)
    for i in range(len(shipped)):
        a, b = shipped.get_data_info(i), cached.get_data_info(i)
        assert set(a) - FRAME_KEYS == set(b) - FRAME_KEYS
        for k in set(a) - FRAME_KEYS:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        assert 'cache_file' in b and 'frame_paths' not in b
        # the cache holds the decoded frames unchanged, row = frame number
        inds = np.arange(b['total_frames'])[::-1]
        np.testing.assert_array_equal(_decode(a, inds), _decode(b, inds))
    # a second run reuses every clip
    again = preprocess_dataset(shipped, cache, dict(face=None),
                               log=lambda *_: None)
    assert sum(len(r['reused']) for r in again.values()) == len(shipped)


def test_cache_errors_name_file_and_command(corpora, tmp_path):
    root = corpora['casme2']
    with pytest.raises(FileNotFoundError,
                       match=r'python tools/preprocess.py configs/akm_casme2'
                       r'.py .*nowhere'):
        CASME2Dataset(data_root=root, cache_dir=str(tmp_path / 'nowhere'))
    cache = str(tmp_path / 'cache')
    shipped = CASME2Dataset(data_root=root, subjects=['sub01'])
    preprocess_dataset(shipped, cache, dict(face=None), log=lambda *_: None)
    with pytest.raises(CacheMissError,
                       match=r'xlsx, row 5: clip EP01_01 \(casme2/sub02\)'
                       r'.*EP01_01.npy not found.*tools/preprocess.py'):
        CASME2Dataset(data_root=root, cache_dir=cache)
    skip = CASME2Dataset(data_root=root, cache_dir=cache,
                         on_bad_sample='skip')
    assert len(skip) == len(shipped)
    assert len(skip.skipped) == fab.EXPECTED['casme2']['raw'] - len(shipped)
    # a damaged array is a clear error naming the file and the clip
    info = skip.get_data_info(0)
    with open(info['cache_file'], 'wb') as f:
        f.write(b'not an array')
    with pytest.raises(IOError, match=r'EP02_01f\.npy.*EP02_01f of '
                       'casme2/sub01'):
        _decode(info)
