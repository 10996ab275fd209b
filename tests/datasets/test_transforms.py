import os.path as osp
import sys

import numpy as np
import pytest
import torch

import mmakm  # noqa: F401
sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate as fab  # noqa: E402
from mmaction.registry import TRANSFORMS  # noqa: E402
from mmengine.dataset import Compose  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmakm.datasets import (ME_META_KEYS, CASME2Dataset, MEFrameDecode,  # noqa: E402
                            MESampleFrames, METoGray, SAMMDataset)


init_default_scope('mmaction')


def sample(total=10, start=100):
    return dict(total_frames=total,
                frame_numbers=np.arange(start, start + total, dtype=np.int64))


def test_sample_all_stride_maxlen():
    r = MESampleFrames()(sample(7))
    assert r['frame_inds'].tolist() == list(range(7))
    assert r['frame_inds'].dtype == np.int64
    assert (r['num_clips'], r['clip_len']) == (1, 7)
    assert r['frame_numbers_fed'].tolist() == list(range(100, 107))
    r = MESampleFrames(stride=3)(sample(10))
    assert r['frame_inds'].tolist() == [0, 3, 6, 9]
    r = MESampleFrames(max_len=4)(sample(10))
    assert r['frame_inds'].tolist() == [0, 3, 6, 9] and r['clip_len'] == 4
    assert MESampleFrames(max_len=20)(sample(5))['clip_len'] == 5


def test_sample_resample_and_segments():
    r = MESampleFrames(num_frames=4)(sample(10))
    assert r['frame_inds'].tolist() == [0, 3, 6, 9]
    assert (r['num_clips'], r['clip_len']) == (1, 4)
    r = MESampleFrames(num_frames=6)(sample(3))  # upsampling repeats
    assert r['frame_inds'].tolist() == [0, 0, 1, 1, 2, 2]
    r = MESampleFrames(num_clips=3, test_mode=True)(sample(9))
    assert r['frame_inds'].tolist() == [1, 4, 7]
    assert (r['num_clips'], r['clip_len']) == (3, 1)
    np.random.seed(0)
    for _ in range(20):
        r = MESampleFrames(num_clips=4, clip_len=2)(sample(13))
        inds = r['frame_inds']
        assert len(inds) == 8 and inds.min() >= 0 and inds.max() < 13
        assert (np.diff(inds.reshape(4, 2), axis=1) == 1).all()
    r = MESampleFrames(num_clips=4, clip_len=3, test_mode=True)(sample(2))
    assert r['frame_inds'].max() <= 1


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp('tr')
    return dict(casme2=fab.make_casme2(str(base / 'casme2')),
                samm=fab.make_samm(str(base / 'samm')))


def test_decode_and_pack(roots):
    pipeline = [dict(type='MESampleFrames'), dict(type='MEFrameDecode'),
                dict(type='FormatShape', input_format='NCHW'),
                dict(type='PackActionInputs', meta_keys=ME_META_KEYS)]
    ds = CASME2Dataset(data_root=roots['casme2'], pipeline=pipeline)
    out = ds[0]
    x = out['inputs']
    assert x.dtype == torch.uint8 and tuple(x.shape) == (5, 3, 8, 8)
    # fabricated frame n has value n in its first (B) channel: RGB order
    got = x[:, 2, 0, 0].numpy().astype(int)
    assert np.abs(got - np.arange(10, 15)).max() <= 2  # lossy jpg
    ds_meta = out['data_samples'].metainfo
    for k in ME_META_KEYS:
        assert k in ds_meta, k
    assert ds_meta['frame_numbers_fed'].tolist() == [10, 11, 12, 13, 14]
    assert ds_meta['subject'] == 'casme2/sub01'
    assert int(out['data_samples'].gt_label) == 0


def test_grayscale_samm(roots):
    ds = SAMMDataset(data_root=roots['samm'],
                     pipeline=[MESampleFrames(), MEFrameDecode()])
    imgs = ds[0]['imgs']
    assert imgs[0].shape == (8, 8, 3)
    assert (imgs[0][..., 0] == imgs[0][..., 1]).all()
    ds = SAMMDataset(data_root=roots['samm'],
                     pipeline=[MESampleFrames(), MEFrameDecode(to_gray=True)])
    assert ds[0]['imgs'][0].shape == (8, 8, 1)
    r = METoGray()(dict(imgs=[np.zeros((4, 4, 3), np.uint8)]))
    assert r['imgs'][0].shape == (4, 4, 1)
    r = METoGray(keep_channels=True)(dict(imgs=[np.zeros((4, 4, 3),
                                                         np.uint8)]))
    assert r['imgs'][0].shape == (4, 4, 3)


def test_clip_consistent_augmentation():
    """mmaction's Resize/RandomCrop/Flip apply one crop/flip per clip."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (18, 18, 3), dtype=np.uint8)
    imgs = [base.copy() for _ in range(6)]
    pipe = Compose([dict(type='Resize', scale=(-1, 18)),
                    dict(type='RandomCrop', size=12),
                    dict(type='Flip', flip_ratio=0.5)])
    import mmaction.datasets  # noqa: F401 (register)
    for seed in range(6):
        np.random.seed(seed)
        import random
        random.seed(seed)
        out = pipe(dict(imgs=[i.copy() for i in imgs], img_shape=(18, 18),
                        modality='RGB', num_clips=1, clip_len=6))
        first = out['imgs'][0]
        assert first.shape == (12, 12, 3)
        for im in out['imgs'][1:]:
            assert np.array_equal(im, first)


def test_registered_transforms():
    for name in ('MESampleFrames', 'MEFrameDecode', 'METoGray'):
        assert TRANSFORMS.get(name) is not None
