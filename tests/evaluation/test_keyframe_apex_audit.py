"""Key frames vs the annotated apex: original frame numbers after strided /
resampled sampling, each corpus' frame rate for milliseconds, clips without
apex excluded and counted (never taken as frame 0), ties between two fed
frames equally near the apex."""
import math
import os.path as osp
import sys

import numpy as np
import pytest
import torch

import mmakm  # noqa: F401
from mmakm.datasets import (CASME1Dataset, CASME2Dataset, CASME3Dataset,
                            MEGC2019Dataset, SAMMDataset, SMICDataset)
from mmakm.datasets.transforms import MESampleFrames
from mmakm.evaluation import KeyFrameApexMetric, keyframe_apex_stats

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import fabricate as fab  # noqa: E402


def clip(numbers, keys, best, apex, fps=200.0, **extra):
    """An AKMNet prediction: ``keys`` positions selected, ``best`` the
    max-β one."""
    beta = np.full(len(numbers), 0.1)
    beta[list(keys)] = 0.5
    beta[best] = 0.9
    return dict(gt_label=0, pred_label=0, apex=apex, fps=fps,
                key_frames=np.asarray(keys), frame_weights=beta,
                frame_numbers_fed=np.asarray(numbers), **extra)


def test_frame_rates_are_the_corpora_s():
    # docs/datasets.md: CASME II 200, SAMM 200, SMIC-HS 100 (VIS/NIR 25),
    # CASME I 60, CAS(ME)^3 30 fps
    assert CASME2Dataset.FPS == SAMMDataset.FPS == 200
    assert SMICDataset.FPS == 100
    assert CASME1Dataset.FPS == 60 and CASME3Dataset.FPS == 30


def test_composite_clips_carry_their_own_corpus_frame_rate(tmp_path):
    root = fab.make_megc2019(str(tmp_path / 'megc'))
    ds = MEGC2019Dataset(**fab.megc_cfg(root))
    rates = {ds.get_data_info(i)['corpus']: ds.get_data_info(i)['fps']
             for i in range(len(ds))}
    assert rates == dict(casme2=200.0, samm=200.0, smic=100.0)
    assert SMICDataset(data_root=fab.make_smic(str(tmp_path / 'smic')),
                       subset='VIS').get_data_info(0)['fps'] == 25.0


def test_distances_use_original_frame_numbers_after_striding():
    """CASME II clip img46..img79, every 4th frame fed: the key-frame
    positions index the fed frames, the distance is in corpus frames."""
    results = dict(total_frames=34, frame_numbers=np.arange(46, 80),
                   clip_id='EP02_01f', subject='casme2/sub01')
    fed = MESampleFrames(stride=4, test_mode=True)(results)
    numbers = fed['frame_numbers_fed']
    assert numbers.tolist() == list(range(46, 80, 4))
    # apex 61 is nearest the fed frame 62 (position 4); the max-β key
    # frame is position 7 = frame 74: 13 frames = 65 ms at 200 fps
    st = keyframe_apex_stats([clip(numbers, [4, 7], 7, apex=61)])
    assert st['dist_frames'] == [13] and st['dist_ms'] == [65.0]
    assert st['apex_in_key'] == 1 and st['apex_is_max_beta'] == 0
    # fixed-length resampling (TIM): positions map through the same numbers
    fed = MESampleFrames(num_frames=5, test_mode=True)(dict(results))
    assert fed['frame_numbers_fed'].tolist() == [46, 54, 62, 71, 79]
    st = keyframe_apex_stats([clip(fed['frame_numbers_fed'], [3], 3,
                                   apex=61, fps=30.0)])
    assert st['dist_frames'] == [10]
    assert st['dist_ms'] == pytest.approx([1000 * 10 / 30])


def test_apex_midway_between_two_fed_frames_counts_both():
    # fed frames 100, 102, 104; apex 101 is as near 100 as 102
    st = keyframe_apex_stats([clip([100, 102, 104], [1], 1, apex=101)])
    assert st['apex_in_key'] == 1 and st['apex_is_max_beta'] == 1
    assert st['dist_frames'] == [1]


def test_clips_without_apex_are_excluded_and_counted_never_frame_0():
    # the max-β key frame IS frame 0: taken as an apex, these would score
    unknown = [clip([0, 1, 2], [0], 0, apex=-1),
               clip([0, 1, 2], [0], 0, apex=None)]
    no_apex_key = clip([0, 1, 2], [0], 0, apex=-1)
    del no_apex_key['apex']
    tsn = dict(gt_label=1, pred_label=1, apex=1, fps=200.0)  # no key frames
    known = clip([10, 11, 12], [2], 2, apex=11)
    st = keyframe_apex_stats(unknown + [no_apex_key, tsn, known])
    assert st['num_clips'] == 1
    assert st['num_excluded_no_apex'] == 3
    assert st['num_excluded_no_keyframes'] == 1
    assert st['apex_in_key'] == 0 and st['dist_frames'] == [1]
    none = keyframe_apex_stats(unknown)
    assert none['num_clips'] == 0 and math.isnan(none['apex_in_key'])

    metric = KeyFrameApexMetric()
    for s in unknown[:1] + [known]:
        metric.process({}, [dict(s, gt_label=torch.tensor([0]),
                                 pred_score=torch.tensor([1.0]))])
    res = metric.evaluate(2)
    assert res['keyframe/num_clips'] == 1
    assert res['keyframe/num_excluded_no_apex'] == 1


def test_each_clip_uses_its_own_frame_rate():
    st = keyframe_apex_stats([clip([10, 12], [1], 1, apex=10, fps=200.0),
                              clip([10, 12], [1], 1, apex=10, fps=60.0),
                              clip([10, 12], [1], 1, apex=10, fps=None)])
    assert st['dist_frames'] == [2, 2, 2]
    assert st['dist_ms'] == pytest.approx([10.0, 2000 / 60])
    assert st['num_clips'] == 3 and st['num_clips_ms'] == 2
    assert st['fps'] is None  # no single frame rate for a ms axis
    one = keyframe_apex_stats([clip([10, 12], [1], 1, apex=10)] * 2)
    assert one['fps'] == 200.0


def test_key_frames_outside_the_fed_clip_are_an_error():
    with pytest.raises(ValueError, match=r'EP01.*key frame positions '
                       r'\[0, 5\] outside the 3 fed frames'):
        keyframe_apex_stats([clip([1, 2, 3], [0], 0, apex=2,
                                  clip_id='EP01')
                             | dict(key_frames=np.array([0, 5]))])
    with pytest.raises(ValueError, match='frame_weights has 2 values for 3'):
        keyframe_apex_stats([clip([1, 2, 3], [0], 0, apex=2)
                             | dict(frame_weights=np.ones(2))])
