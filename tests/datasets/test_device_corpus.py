"""The CASME II-sized synthetic corpus and the device-resident packed corpus:
plan statistics, rendering, the index-serving dataset wrapper, the
'dataset' source on a fabricated CASME II copy, and clear errors."""
import os.path as osp
import sys
from collections import Counter

import numpy as np
import pytest
import torch

import mmakm  # noqa: F401  (stack fixes + registration)
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate as fab  # noqa: E402
from mmakm.datasets import (ME_META_KEYS, DeviceCorpusDataset,  # noqa: E402
                            PackedClips, casme2_sized_plan, corpus_index,
                            load_corpus, render_casme2_sized)
from mmakm.datasets.casme2_sized import (CASME2_EMOTION_COUNTS,  # noqa: E402
                                         _movement_centres)
from mmakm.datasets.device_corpus import release_corpora  # noqa: E402

TINY_PLAN = dict(seed=0, subject_clips=[3, 2, 3], min_len=4, max_len=10,
                 median_len=6)
TINY = dict(type='casme2_sized', size=20, **TINY_PLAN)


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')
    yield
    release_corpora()


def test_plan_has_casme2_shape():
    plan = casme2_sized_plan(seed=0)
    lengths = np.array([p['num_frames'] for p in plan])
    assert len(plan) == 255
    assert len({p['subject'] for p in plan}) == 26
    assert lengths.min() == 24 and lengths.max() == 141
    assert 55 <= np.median(lengths) <= 67
    assert Counter(p['emotion'] for p in plan) == CASME2_EMOTION_COUNTS
    for p in plan:
        assert p['offset'] - p['onset'] + 1 == p['num_frames']
        assert p['onset'] <= p['apex'] <= p['offset']
        assert p['key'] == f"{p['subject']}/{p['clip_id']}"
    # seeded: same seed same plan, another seed another plan
    assert casme2_sized_plan(seed=0) == plan
    assert casme2_sized_plan(seed=1) != plan


def test_plan_scales_emotions_and_checks_arguments():
    plan = casme2_sized_plan(**TINY_PLAN)
    assert len(plan) == 8
    assert sum(Counter(p['emotion'] for p in plan).values()) == 8
    with pytest.raises(ValueError, match='subject_clips'):
        casme2_sized_plan(subject_clips=[2, 0])
    with pytest.raises(ValueError, match='min_len'):
        casme2_sized_plan(min_len=50, median_len=40)


def test_render_is_packed_deterministic_and_moves_at_the_class_place():
    plan = casme2_sized_plan(**TINY_PLAN)
    frames = render_casme2_sized(plan, size=32, seed=0)
    total = sum(p['num_frames'] for p in plan)
    assert frames.shape == (total, 32, 32, 3) and frames.dtype == torch.uint8
    assert torch.equal(frames, render_casme2_sized(plan, size=32, seed=0))
    assert not torch.equal(frames, render_casme2_sized(plan, size=32, seed=1))
    # the apex frame differs from the onset frame most near the movement
    # centre of the clip's class
    start = 0
    centres = _movement_centres(32)
    place = dict(happiness=0, disgust=1, sadness=1, fear=1, surprise=2,
                 others=3, repression=3)
    for p in plan:
        clip = frames[start:start + p['num_frames'], ..., 1].float()
        diff = (clip[p['apex'] - p['onset']] - clip[0]).abs()
        y, x = divmod(int(diff.argmax()), 32)
        cy, cx = centres[place[p['emotion']]].tolist()
        assert abs(y - cy) <= 3 and abs(x - cx) <= 3, p
        start += p['num_frames']


def test_packed_clips_frame_indices():
    packed = PackedClips(torch.zeros(12, 2, 2, 3, dtype=torch.uint8),
                         [3, 5, 4], ['a', 'b', 'c'])
    rows, owner = packed.frame_indices(torch.tensor([2, 0, 2]))
    assert rows.tolist() == [8, 9, 10, 11, 0, 1, 2, 8, 9, 10, 11]
    assert owner.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    with pytest.raises(ValueError, match='sum to 12'):
        PackedClips(torch.zeros(11, 2, 2, 3), [3, 5, 4], ['a', 'b', 'c'])
    with pytest.raises(ValueError, match='duplicate'):
        PackedClips(None, [1, 1], ['a', 'a'])


def test_load_corpus_is_shared_and_index_is_cheap():
    a = load_corpus(TINY)
    assert load_corpus(dict(TINY)) is a  # one copy per process and device
    index = corpus_index(TINY)
    assert index.frames is None and index.keys == a.keys
    assert torch.equal(index.lengths, a.lengths)
    with pytest.raises(ValueError, match='type must be one of'):
        load_corpus(dict(type='jpeg_folder'))


def _wrapper(**dataset_kwargs):
    return DeviceCorpusDataset(
        dataset=dict(type='CASME2SizedDataset', plan=TINY_PLAN,
                     class_setup='paper4', **dataset_kwargs),
        corpus=TINY, crop_size=16)


def test_wrapper_serves_indices_labels_and_meta():
    ds = _wrapper(exclude_subjects=['sub02'])
    plan = casme2_sized_plan(**TINY_PLAN)
    kept = [p for p in plan if p['subject'] != 'casme2/sub02']
    assert len(ds) == len(kept) == 6
    assert ds.metainfo['classes'] == ('positive', 'negative', 'surprise',
                                      'others')
    assert ds.list_subjects() == ['casme2/sub01', 'casme2/sub03']
    keys = corpus_index(TINY).keys
    for i, p in enumerate(kept):
        item = ds[i]
        assert item['inputs'].tolist() == [keys.index(p['key'])]
        meta = item['data_samples'].metainfo
        assert set(ME_META_KEYS) <= set(meta)
        assert meta['clip_id'] == p['clip_id'] and meta['apex'] == p['apex']
        assert meta['img_shape'] == (16, 16)
        assert list(meta['frame_numbers_fed']) == list(
            range(p['onset'], p['offset'] + 1))
        assert int(item['data_samples'].gt_label) == ds.get_labels()[i]


def test_wrapper_refuses_clips_missing_from_the_corpus():
    other = dict(TINY, seed=5)  # another plan: other lengths
    ds = DeviceCorpusDataset(
        dataset=dict(type='CASME2SizedDataset', plan=TINY_PLAN,
                     class_setup='paper4'),
        corpus=other, lazy_init=True)
    with pytest.raises(ValueError, match=r'annotation gives \d+ frames'):
        ds.full_init()
    # fixed-length clips: the plans differ only in their subjects
    fixed = dict(seed=0, subject_clips=[3, 2, 3], min_len=5, max_len=5,
                 median_len=5)
    ds = DeviceCorpusDataset(
        dataset=dict(type='CASME2SizedDataset', plan=fixed,
                     class_setup='paper4'),
        corpus=dict(fixed, type='casme2_sized', size=20,
                    subject_clips=[3, 2]),
        lazy_init=True)
    with pytest.raises(KeyError, match='casme2/sub03/.* is not in the corpus'):
        ds.full_init()


def test_dataset_source_packs_a_shipped_corpus(tmp_path):
    from mmengine.dataset import Compose
    root = fab.make_casme2(str(tmp_path / 'casme2'))
    dataset = dict(type='CASME2Dataset', data_root=root, class_setup='raw')
    load = [dict(type='MESampleFrames'), dict(type='MEFrameDecode'),
            dict(type='Resize', scale=(12, 12), keep_ratio=False)]
    spec = dict(type='dataset', dataset=dataset, load_pipeline=load)
    packed = load_corpus(spec)
    assert len(packed) == len(fab.CASME2_ROWS)
    assert packed.frames.shape[1:] == (12, 12, 3)
    # every clip's frames are its decoded frames, in order
    from mmaction.registry import DATASETS
    ds = DATASETS.build(dict(dataset, pipeline=load))
    pipe = Compose(load)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        clip = packed.index[f"{info['subject']}/{info['clip_id']}"]
        start, n = int(packed.starts[clip]), int(packed.lengths[clip])
        want = np.stack(pipe(dict(info))['imgs'])
        assert np.array_equal(packed.frames[start:start + n].numpy(), want)
    # default load pipeline: every frame as stored (here 8 px images)
    as_stored = load_corpus(dict(type='dataset', dataset=dataset))
    assert as_stored.frames.shape == (int(packed.lengths.sum()), fab.SIZE,
                                      fab.SIZE, 3)
    # the wrapper finds every sample of a subject subset in it
    wrapped = DeviceCorpusDataset(dataset=dict(dataset, subjects=['sub02']),
                                  corpus=spec)
    assert len(wrapped) == 3


def test_dataset_source_needs_fixed_size_frames(tmp_path):
    root = fab.make_casme2(str(tmp_path / 'casme2'))
    spec = dict(type='dataset',
                dataset=dict(type='CASME2Dataset', data_root=root),
                load_pipeline=[dict(type='MESampleFrames'),
                               dict(type='MEFrameDecode', to_gray=True)])
    with pytest.raises(ValueError, match=r'clip casme2/sub01/EP02_01f: '
                       r'load_pipeline gave uint8 frames of shape'):
        load_corpus(spec)


def test_dataset_source_reads_the_frame_cache(tmp_path):
    """A corpus preprocessed into the frame cache (tools/preprocess.py)
    goes to the device as cached: one clip file read per clip."""
    from mmakm.datasets import CASME2Dataset
    from mmakm.preprocessing.runner import preprocess_dataset
    root = fab.make_casme2(str(tmp_path / 'casme2'))
    cache = str(tmp_path / 'cache')
    preprocess_dataset(CASME2Dataset(data_root=root), cache, dict(face=None),
                       log=lambda *_: None)
    spec = dict(type='dataset', dataset=dict(
        type='CASME2Dataset', data_root=root, cache_dir=cache))
    packed = load_corpus(spec)
    cached = CASME2Dataset(data_root=root, cache_dir=cache)
    assert len(packed) == len(cached) == len(fab.CASME2_ROWS)
    for i in range(len(cached)):
        info = cached.get_data_info(i)
        clip = packed.index[f"{info['subject']}/{info['clip_id']}"]
        start, n = int(packed.starts[clip]), int(packed.lengths[clip])
        want = np.load(info['cache_file'])[np.asarray(info['cache_rows'])]
        assert np.array_equal(packed.frames[start:start + n].numpy(), want)
