"""MEMagnify: linear motion magnification relative to the first frame."""
import numpy as np
import pytest

from mmakm.datasets.transforms import MEMagnify


def _clip():
    rng = np.random.default_rng(0)
    first = rng.integers(60, 190, (4, 5, 3)).astype(np.uint8)
    moved = first.copy()
    moved[1, 2] += 10  # a small local change
    return [first, moved]


def test_magnify_amplifies_change_and_keeps_first_frame():
    imgs = _clip()
    out = MEMagnify(alpha=3.0).transform(dict(imgs=[i.copy() for i in imgs]))
    assert np.array_equal(out['imgs'][0], imgs[0])
    diff = out['imgs'][1].astype(int) - imgs[0].astype(int)
    assert np.array_equal(diff[1, 2], [40, 40, 40])  # 10 * (1 + 3)
    diff[1, 2] = 0
    assert not diff.any()  # unchanged pixels stay unchanged


def test_difference_mode_removes_appearance():
    imgs = _clip()
    out = MEMagnify(alpha=2.0, keep_frame=False).transform(dict(imgs=imgs))
    assert (out['imgs'][0] == 128).all()
    assert out['imgs'][1][1, 2].tolist() == [148, 148, 148]
    assert out['imgs'][1].dtype == np.uint8


def test_magnify_clips_to_uint8_range():
    first = np.full((2, 2, 1), 250, np.uint8)
    moved = np.full((2, 2, 1), 5, np.uint8)
    out = MEMagnify(alpha=10).transform(dict(imgs=[first, moved]))
    assert out['imgs'][1].min() == 0 and out['imgs'][0].max() == 250


def test_negative_alpha_rejected():
    with pytest.raises(ValueError, match='alpha'):
        MEMagnify(alpha=-1)
