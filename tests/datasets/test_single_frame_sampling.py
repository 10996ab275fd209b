"""MESampleFrames single-frame modes on fabricated corpora."""
import os.path as osp
import sys

import numpy as np
import pytest

import mmakm  # noqa: F401
sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate as fab  # noqa: E402
from mmakm.datasets import (CASME2Dataset, MEFrameDecode,  # noqa: E402
                            MESampleFrames)


def test_apex_mode_feeds_the_apex_frame_only(tmp_path):
    root = fab.make_casme2(str(tmp_path / 'casme2'))
    ds = CASME2Dataset(data_root=root,
                       pipeline=[MESampleFrames(mode='apex'), MEFrameDecode()])
    first = ds[0]  # EP02_01f: onset 10, apex 12, offset 14
    assert first['frame_inds'].tolist() == [2]
    assert first['frame_numbers_fed'].tolist() == [12]
    assert (first['clip_len'], first['num_clips']) == (1, 1)
    assert len(first['imgs']) == 1
    # the fabricated frame n has value n in its blue channel (lossy jpg)
    assert abs(int(first['imgs'][0][0, 0, 2]) - 12) <= 2
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        if info['apex'] < 0:
            with pytest.raises(ValueError,
                               match=f"{info['clip_id']}.*no apex"):
                ds[i]
        else:
            assert ds[i]['frame_numbers_fed'].tolist() == [info['apex']]


def test_apex_mode_errors():
    numbers = np.arange(100, 105, dtype=np.int64)
    sample = dict(total_frames=5, frame_numbers=numbers, clip_id='c7',
                  subject='casme2/sub09', apex=110)
    with pytest.raises(ValueError, match=r'c7 \(casme2/sub09\).*apex frame '
                                         r'110 is not one of its frames '
                                         r'100\.\.104'):
        MESampleFrames(mode='apex')(sample)
    with pytest.raises(ValueError, match='feeds one frame'):
        MESampleFrames(mode='apex', num_frames=4)
    with pytest.raises(ValueError, match='mode must be one of'):
        MESampleFrames(mode='onset')
