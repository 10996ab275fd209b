"""Metric values against hand-computed numbers."""
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

import mmakm  # noqa: F401
from mmaction.registry import METRICS
from mmaction.structures import ActionDataSample
from mmakm.evaluation import (KeyFrameApexMetric, MEMetric,
                              keyframe_apex_stats, per_class_stats,
                              plot_confusion_matrix, pooled_report)
from mmakm.evaluation import functional as F

CLASSES = ('a', 'b', 'c', 'd')
# class 'd' never occurs (neither gt nor pred); class 'c' only predicted
GT = [0, 0, 0, 1, 1, 0]
PRED = [0, 0, 1, 1, 2, 0]


def test_hand_computed_with_absent_classes():
    cm = F.confusion_matrix(GT, PRED, 4)
    assert cm.tolist() == [[3, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0],
                           [0, 0, 0, 0]]
    assert F.accuracy(cm) == pytest.approx(4 / 6)
    # F1: a = 2*3/(6+0+1) = 6/7, b = 2/(2+1+1) = 1/2; c (no clip, predicted
    # once: F1 0) and d (undefined) are not classes of the ground truth
    assert F.uf1(cm) == pytest.approx((6 / 7 + 0.5) / 2)
    # recall: a = 3/4, b = 1/2; c, d absent from gt
    assert F.uar(cm) == pytest.approx((0.75 + 0.5) / 2)
    st = per_class_stats(cm)
    assert st['precision'][:3] == pytest.approx([1.0, 0.5, 0.0])
    assert np.isnan(st['precision'][3]) and np.isnan(st['recall'][2])


def sample(gt, pred, corpus, subject, n=4):
    score = torch.full((n,), 0.1)
    score[pred] = 0.7
    return dict(pred_score=score, pred_label=torch.tensor([pred]),
                gt_label=torch.tensor([gt]), corpus=corpus, subject=subject)


def test_pooled_report_per_corpus():
    samples = [sample(g, p, 'casme2' if i < 3 else 'samm', f's{i}')
               for i, (g, p) in enumerate(zip(GT, PRED))]
    rep = pooled_report(samples, CLASSES)
    assert rep['acc'] == pytest.approx(4 / 6)
    assert rep['UF1'] == pytest.approx((6 / 7 + 0.5) / 2)  # a, b have clips
    assert rep['UAR'] == pytest.approx(0.625)
    assert rep['num_samples'] == 6
    assert rep['confusion_matrix'][0] == [3, 1, 0, 0]
    assert rep['f1/a'] == pytest.approx(6 / 7)
    assert np.isnan(rep['f1/d'])
    # casme2: gt 0,0,0 pred 0,0,1 -> F1 a = 2*2/(4+0+1) = 0.8; b has no
    # clip in casme2 (its F1 0 is not averaged) -> UF1 0.8; UAR = 2/3
    assert rep['casme2/UF1'] == pytest.approx(0.8)
    assert rep['casme2/UAR'] == pytest.approx(2 / 3)
    assert rep['casme2/acc'] == pytest.approx(2 / 3)
    # samm: gt 1,1,0 pred 1,2,0 -> a 1, b 2/(2+0+1)=2/3 (c: no clip)
    assert rep['samm/UF1'] == pytest.approx((1 + 2 / 3) / 2)
    assert rep['samm/UAR'] == pytest.approx(0.75)


def test_pooled_over_folds_from_dumps(tmp_path):
    """Folds lacking a class still pool correctly (DumpResults pickles)."""
    folds = [[sample(0, 0, 'x', 's1', 3), sample(0, 1, 'x', 's1', 3)],
             [sample(1, 1, 'x', 's2', 3)],
             [sample(2, 2, 'x', 's3', 3), sample(1, 2, 'x', 's3', 3)]]
    paths = []
    for k, fold in enumerate(folds):
        p = tmp_path / f'fold{k}.pkl'
        with open(p, 'wb') as f:
            pickle.dump(fold, f)
        paths.append(p)
    pooled = []
    for p in paths:
        with open(p, 'rb') as f:
            pooled += pickle.load(f)
    rep = pooled_report(pooled, ('a', 'b', 'c'))
    # cm: a:[1,1,0] b:[0,1,1] c:[0,0,1]
    # F1 a = 2/3, b = 2/(2+1+1) = .5, c = 2/(2+1) = 2/3
    assert rep['UF1'] == pytest.approx((2 / 3 + 0.5 + 2 / 3) / 3)
    assert rep['UAR'] == pytest.approx((0.5 + 0.5 + 1) / 3)
    assert 'x/UF1' not in rep


def test_me_metric_registered_and_process():
    metric = METRICS.build(dict(type='MEMetric'))
    assert isinstance(metric, MEMetric)
    metric.dataset_meta = dict(classes=CLASSES)
    outs = []
    for i, (g, p) in enumerate(zip(GT, PRED)):
        ds = ActionDataSample()
        ds.set_gt_label(g)
        ds.set_pred_score(torch.softmax(torch.eye(4)[p] * 5, 0))
        ds.set_pred_label(p)
        ds.set_metainfo(dict(subject=f'casme2/sub0{i}', corpus='casme2'))
        outs.append(ds.to_dict())
    metric.process({}, outs[:3])
    metric.process({}, outs[3:])
    res = metric.evaluate(6)
    assert res['acc'] == pytest.approx(4 / 6)
    assert res['UF1'] == pytest.approx((6 / 7 + 0.5) / 2)
    assert res['UAR'] == pytest.approx(0.625)
    assert 'casme2/UF1' not in res  # one corpus
    assert res['confusion_matrix'][1] == [0, 1, 1, 0]


def test_keyframe_apex():
    s1 = dict(apex=12, key_frames=np.array([1, 2]),
              frame_weights=np.array([.1, .9, .8, .2]),
              frame_numbers_fed=np.array([10, 11, 12, 13]), fps=200.)
    # apex 12 is position 2: a key frame, but argmax beta is position 1
    s2 = dict(apex=21, key_frames=np.array([1]),
              frame_weights=np.array([.1, .9, .3]),
              frame_numbers_fed=np.array([20, 21, 22]), fps=100.)
    s3 = dict(apex=35, key_frames=np.array([0]),
              frame_weights=np.array([.9, .1, .1]),
              frame_numbers_fed=np.array([30, 35, 40]), fps=100.)
    unknown = dict(apex=-1, key_frames=np.array([0]),
                   frame_weights=np.array([1.]),
                   frame_numbers_fed=np.array([5]), fps=100.)
    st = keyframe_apex_stats([s1, s2, s3, unknown])
    assert st['num_clips'] == 3
    assert st['apex_in_key'] == pytest.approx(2 / 3)
    assert st['apex_is_max_beta'] == pytest.approx(1 / 3)
    assert st['dist_frames'] == [1, 0, 5]
    assert st['dist_ms'] == pytest.approx([5.0, 0.0, 50.0])
    assert st['dist_frames_median'] == 1
    metric = KeyFrameApexMetric()
    for s in (s1, s2, s3):
        d = dict(s, gt_label=torch.tensor([0]),
                 pred_score=torch.tensor([1.0, 0.0]),
                 key_frames=torch.as_tensor(s['key_frames']),
                 frame_weights=torch.as_tensor(s['frame_weights']))
        metric.process({}, [d])
    res = metric.evaluate(3)
    assert res['keyframe/apex_in_key'] == pytest.approx(2 / 3)
    assert res['keyframe/dist_ms_mean'] == pytest.approx(55 / 3)


def test_apex_distance_uses_the_max_beta_key_frame():
    # the highest β overall (frame 12) is not a key frame: the distance is
    # measured from the max-β KEY frame (frame 10), as apex_is_max_beta is
    st = keyframe_apex_stats([dict(gt_label=0, pred_label=0, apex=12,
                                   key_frames=[0], frame_weights=[.1, .9],
                                   frame_numbers_fed=[10, 12])])
    assert st['dist_frames'] == [2]
    assert st['apex_in_key'] == 0 and st['apex_is_max_beta'] == 0
    assert F.max_beta_key_frame([0, 2, 3], [.5, .9, .7, .6]) == 2
    assert F.max_beta_key_frame([], [.5, .9, .7]) == 1  # no key frame


def test_confusion_plot(tmp_path):
    path = str(tmp_path / 'sub' / 'cm.png')
    plot_confusion_matrix(F.confusion_matrix(GT, PRED, 4), CLASSES, path,
                          title='pooled')
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert sorted(p.name for p in (tmp_path / 'sub').iterdir()) == ['cm.png']
