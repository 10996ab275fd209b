"""The built-in synthetic corpus: layout, determinism, the stated nuisance
levels, a signal that needs the apex and suffers from the nuisance."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

import mmakm  # noqa: F401
from mmengine.registry import init_default_scope
from mmakm.datasets import CASME2Dataset, MEFrameDecode, MESampleFrames
from mmakm.datasets.synthetic import (TRUTH, corpus_digest, load_truth,
                                      make_synthetic_casme2)

init_default_scope('mmaction')
SMALL = dict(n_subjects=2, clips_per_subject=3, size=32, min_len=20,
             max_len=30)


@pytest.fixture(scope='module')
def default_corpus(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('syn') / 'synthetic')
    return make_synthetic_casme2(root, seed=0)


def test_byte_identical_for_same_seed(tmp_path):
    a = make_synthetic_casme2(str(tmp_path / 'a'), seed=7, **SMALL)
    b = make_synthetic_casme2(str(tmp_path / 'b'), seed=7, **SMALL)
    c = make_synthetic_casme2(str(tmp_path / 'c'), seed=8, **SMALL)
    assert osp.isfile(osp.join(a, TRUTH))
    assert corpus_digest(a) == corpus_digest(b)
    assert corpus_digest(a) != corpus_digest(c)
    # no temp leftovers, re-running is a no-op, other args refuse
    assert sorted(os.listdir(tmp_path)) == ['a', 'b', 'c']
    assert make_synthetic_casme2(a, seed=7, **SMALL) == a
    with pytest.raises(FileExistsError):
        make_synthetic_casme2(a, seed=9, **SMALL)


def test_default_corpus_layout(default_corpus):
    root = default_corpus
    assert osp.isfile(osp.join(root, 'CASME2-coding-20140508.xlsx'))
    subs = sorted(os.listdir(osp.join(root, 'CASME2_RAW')))
    assert subs == [f'sub{i:02d}' for i in range(1, 9)]
    for setup, n_classes in (('std5', 5), ('paper4', 4), ('raw', 7)):
        ds = CASME2Dataset(data_root=root, class_setup=setup)
        assert len(ds) == 64 and not ds.excluded
        assert len(ds.metainfo['classes']) == n_classes
    ds = CASME2Dataset(data_root=root, class_setup='paper4')
    # 2 clips of each of the 4 classes per subject
    for sub in subs:
        labels = [ds.get_data_info(i)['label'] for i in range(len(ds))
                  if ds.get_data_info(i)['subject'] == f'casme2/{sub}']
        assert sorted(labels) == [0, 0, 1, 1, 2, 2, 3, 3]
    lens = [ds.get_data_info(i)['total_frames'] for i in range(len(ds))]
    assert 20 <= min(lens) and max(lens) <= 140
    assert 40 <= np.median(lens) <= 80
    for i in range(len(ds)):
        d = ds.get_data_info(i)
        assert d['onset'] < d['apex'] < d['offset']
        assert d['onset'] > 0
    megc = CASME2Dataset(data_root=root, class_setup='megc3')
    assert len(megc.metainfo['classes']) == 3 and megc.excluded


def test_stated_nuisance_levels(default_corpus):
    """The levels the docstring states are the levels written."""
    root = default_corpus
    truth = load_truth(root)
    ds = CASME2Dataset(data_root=root, class_setup='paper4')
    assert len(truth) == len(ds) == 64
    blinks, blink_lens, head = [], [], []
    for i in range(len(ds)):
        d = ds.get_data_info(i)
        t = truth[f"{d['subject'].split('/')[1]}/{d['clip_id']}"]
        mv = np.asarray(t['movement_px'])
        pos = d['frame_numbers'] - t['first']   # onset..offset
        inside = np.zeros(len(mv), bool)
        inside[pos] = True
        # the movement spans onset..offset, peaks at the apex, 0.9..1.5 px
        assert np.all(mv[~inside] == 0) and mv[pos[0]] == 0
        assert np.argmax(mv) == d['apex'] - t['first']
        assert 0.6 * 1.5 - 1e-3 <= mv.max() <= 1.5 + 1e-3
        blink = np.asarray(t['blink'])
        blinks.append(blink.max() > 0.9)
        if blink.max() > 0 and blink[0] == 0 and blink[-1] == 0:
            blink_lens.append(int((blink > 0).sum()))
        head += [np.std(t['head_dx']), np.std(t['head_dy'])]
    assert 0.35 <= np.mean(blinks) <= 0.65           # blinks in half the clips
    assert blink_lens and 20 <= min(blink_lens) and max(blink_lens) <= 60
    # smooth head motion, std 1 px per axis (within-clip std is a bit less)
    assert 0.5 <= np.mean(head) <= 1.2


def test_video_matches_images(default_corpus):
    root = default_corpus
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


def _apex_vs_single(root, class_setup='paper4'):
    """LOSO nearest-centroid accuracy of (apex - first frame) and of one
    random frame, on 24 px grey images."""
    ds = CASME2Dataset(data_root=root, class_setup=class_setup)
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
    return (_loso_nearest_centroid(diff, y, s),
            _loso_nearest_centroid(single, y, s))


def test_signal_needs_the_apex_and_suffers_from_nuisance(default_corpus,
                                                         tmp_path):
    """(apex - first frame) carries the class, a single frame does not; the
    stated nuisance makes it much harder than a clean corpus."""
    root = default_corpus
    acc_diff, acc_single = _apex_vs_single(root)
    clean = make_synthetic_casme2(str(tmp_path / 'clean'), seed=0,
                                  video=False, jitter=0.0, blink_prob=0.0,
                                  flicker=0.0, noise=0.0)
    clean_diff, _ = _apex_vs_single(clean)
    assert acc_single <= 0.35                    # chance 0.25
    assert acc_diff - acc_single >= 0.1
    assert clean_diff >= 0.7
    assert clean_diff - acc_diff >= 0.2
