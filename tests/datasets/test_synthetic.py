"""The built-in synthetic corpus: layout, determinism, learnable signal."""
import os
import os.path as osp
import time

import cv2
import numpy as np
import pytest

import mmakm  # noqa: F401
from mmengine.registry import init_default_scope
from mmakm.datasets import CASME2Dataset, MEFrameDecode, MESampleFrames
from mmakm.datasets.synthetic import corpus_digest, make_synthetic_casme2

init_default_scope('mmaction')
SMALL = dict(n_subjects=2, clips_per_subject=3, size=32, min_len=20,
             max_len=30)


@pytest.fixture(scope='module')
def default_corpus(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('syn') / 'synthetic')
    t0 = time.time()
    make_synthetic_casme2(root, seed=0)
    return root, time.time() - t0


def test_byte_identical_for_same_seed(tmp_path):
    a = make_synthetic_casme2(str(tmp_path / 'a'), seed=7, **SMALL)
    b = make_synthetic_casme2(str(tmp_path / 'b'), seed=7, **SMALL)
    c = make_synthetic_casme2(str(tmp_path / 'c'), seed=8, **SMALL)
    assert corpus_digest(a) == corpus_digest(b)
    assert corpus_digest(a) != corpus_digest(c)
    # no temp leftovers, re-running is a no-op, other args refuse
    assert sorted(os.listdir(tmp_path)) == ['a', 'b', 'c']
    assert make_synthetic_casme2(a, seed=7, **SMALL) == a
    with pytest.raises(FileExistsError):
        make_synthetic_casme2(a, seed=9, **SMALL)


def test_default_corpus_layout(default_corpus):
    root, seconds = default_corpus
    assert seconds < 20
    assert osp.isfile(osp.join(root, 'CASME2-coding-20140508.xlsx'))
    subs = sorted(os.listdir(osp.join(root, 'CASME2_RAW')))
    assert subs == [f'sub{i:02d}' for i in range(1, 7)]
    for setup, n_classes in (('std5', 5), ('paper4', 4), ('raw', 7)):
        ds = CASME2Dataset(data_root=root, class_setup=setup)
        assert len(ds) == 48 and not ds.excluded
        assert len(ds.metainfo['classes']) == n_classes
    ds = CASME2Dataset(data_root=root, class_setup='std5')
    lens = [ds.get_data_info(i)['total_frames'] for i in range(len(ds))]
    assert 20 <= min(lens) and max(lens) <= 140
    assert 40 <= np.median(lens) <= 80
    labels = ds.get_labels()
    assert np.bincount(labels).min() >= 9
    for i in range(len(ds)):
        d = ds.get_data_info(i)
        assert d['onset'] < d['apex'] < d['offset']
        assert d['onset'] > 0
    megc = CASME2Dataset(data_root=root, class_setup='megc3')
    assert len(megc.metainfo['classes']) == 3 and megc.excluded


def test_video_matches_images(default_corpus):
    root, _ = default_corpus
    img = CASME2Dataset(data_root=root, pipeline=[
        MESampleFrames(), MEFrameDecode()])
    vid = CASME2Dataset(data_root=root, data_prefix=dict(video='CASME2_video'),
                        pipeline=[MESampleFrames(), MEFrameDecode()])
    assert 'filename' in vid.get_data_info(0)
    for i in (0, 5):
        a = np.stack(img[i]['imgs']).astype(np.float32)
        b = np.stack(vid[i]['imgs']).astype(np.float32)
        assert a.shape == b.shape
        assert np.abs(a - b).mean() < 6.0  # lossy codecs


def _feat(path):
    g = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    return cv2.resize(g, (24, 24), interpolation=cv2.INTER_AREA).astype(
        np.float32).ravel()


def _loso_nearest_centroid(X, y, s):
    X = np.asarray(X)
    X = X - X.mean(1, keepdims=True)
    X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-6
    hits = 0
    for sub in np.unique(s):
        tr, te = s != sub, s == sub
        cents = np.stack([X[tr & (y == c)].mean(0) for c in np.unique(y)])
        hits += (np.argmax(X[te] @ cents.T, 1) == y[te]).sum()
    return hits / len(y)


def test_signal_needs_time(default_corpus):
    """(apex - first frame) separates the classes; a single frame does not."""
    root, _ = default_corpus
    ds = CASME2Dataset(data_root=root, class_setup='std5')
    rng = np.random.default_rng(0)
    diff, single, y, s = [], [], [], []
    for i in range(len(ds)):
        d = ds.get_data_info(i)
        paths = d['frame_paths']
        apex = int(np.flatnonzero(d['frame_numbers'] == d['apex'])[0])
        diff.append(_feat(paths[apex]) - _feat(paths[0]))
        single.append(_feat(paths[rng.integers(len(paths))]))
        y.append(d['label'])
        s.append(d['subject'])
    y, s = np.array(y), np.array(s)
    acc_diff = _loso_nearest_centroid(diff, y, s)
    acc_single = _loso_nearest_centroid(single, y, s)
    assert acc_diff >= 0.4          # chance 0.2
    assert acc_single <= 0.35
    assert acc_diff - acc_single >= 0.15
