"""MESampleFrames single-frame modes on fabricated corpora."""
import os.path as osp
import pickle
import sys

import numpy as np
import pytest
import torch

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


def test_require_apex_excludes_and_reports(tmp_path):
    root = fab.make_casme2(str(tmp_path / 'casme2'))
    all_clips = CASME2Dataset(data_root=root, pipeline=[])
    with_apex = CASME2Dataset(data_root=root, pipeline=[],
                              require_apex=True)
    infos = [all_clips.get_data_info(i) for i in range(len(all_clips))]
    no_apex = [d['clip_id'] for d in infos if d['apex'] < 0]
    assert no_apex == ['EP04_03']  # the fabricated row with apex '/'
    assert len(with_apex) == len(all_clips) - 1
    assert with_apex.exclusion_report() == {
        'no apex label (require_apex=True)': 1}
    assert [e['clip_id'] for e in with_apex.excluded] == ['EP04_03']


def dump(path, samples):
    with open(path, 'wb') as f:
        pickle.dump(samples, f)
    return str(path)


def prediction(clip_id, subject, key_frames, weights, fed):
    return dict(pred_score=torch.tensor([.7, .1, .1, .1]),
                gt_label=torch.tensor([0]), corpus='casme2',
                subject=subject, clip_id=clip_id,
                key_frames=torch.tensor(key_frames),
                frame_weights=torch.tensor(weights),
                frame_numbers_fed=np.asarray(fed))


def test_max_beta_mode_feeds_the_predicted_key_frame(tmp_path):
    root = fab.make_casme2(str(tmp_path / 'casme2'))
    # EP02_01f: frames 10..14; the max-β frame overall (11) is not a key
    # frame: the max-β KEY frame is 13
    preds = [prediction('EP02_01f', 'casme2/sub01', [0, 3, 4],
                        [.5, .9, .1, .8, .2], [10, 11, 12, 13, 14])]
    dump(tmp_path / 'casme2_preds.pkl', preds)
    template = str(tmp_path / '{corpus}_preds.pkl')
    ds = CASME2Dataset(data_root=root, subjects=['sub01'], pipeline=[
        MESampleFrames(mode='max_beta', predictions=template),
        MEFrameDecode()])
    first = ds[0]
    assert first['clip_id'] == 'EP02_01f'
    assert first['frame_numbers_fed'].tolist() == [13]
    assert first['frame_inds'].tolist() == [3] and len(first['imgs']) == 1
    assert abs(int(first['imgs'][0][0, 0, 2]) - 13) <= 2
    # a clip the dump does not hold: error naming the clip and the file
    with pytest.raises(ValueError, match=r'EP03_02 \(casme2/sub01\) is not '
                                         r'in the predictions .*casme2_preds'):
        ds[1]


def test_max_beta_mode_errors(tmp_path):
    with pytest.raises(ValueError, match='needs `predictions`'):
        MESampleFrames(mode='max_beta')
    with pytest.raises(ValueError, match='needs `predictions`'):
        MESampleFrames(predictions='x.pkl')
    sample = dict(total_frames=3, frame_numbers=np.arange(10, 13),
                  corpus='casme2', subject='casme2/sub01', clip_id='c1')
    with pytest.raises(ValueError, match='{fold} placeholder'):
        MESampleFrames(mode='max_beta',
                       predictions=str(tmp_path / '{fold}.pkl'))(sample)
    with pytest.raises(FileNotFoundError, match='missing.pkl not found'):
        MESampleFrames(mode='max_beta',
                       predictions=str(tmp_path / 'missing.pkl'))(sample)
    no_keys = prediction('c1', 'casme2/sub01', [0], [1.], [10])
    del no_keys['key_frames']
    path = dump(tmp_path / 'tsn.pkl', [no_keys])
    with pytest.raises(ValueError, match=r'tsn\.pkl: prediction 0 .*no '
                                         'key_frames'):
        MESampleFrames(mode='max_beta', predictions=path)(sample)
    outside = dump(tmp_path / 'outside.pkl',
                   [prediction('c1', 'casme2/sub01', [0], [1.], [40])])
    with pytest.raises(ValueError, match='max-β frame 40 .* not one of its '
                                         r'frames 10\.\.12'):
        MESampleFrames(mode='max_beta', predictions=outside)(sample)
