"""acc / UF1 / UAR / per-class scores against an independent computation
on adversarial cases: classes absent from a fold, from the whole corpus or
never predicted, one-sample folds, labels outside 0..K-1, a head of another
size than the class setup, tied scores; pooled over folds, never the mean
of per-fold scores (docs/datasets.md)."""
import math
import pickle

import numpy as np
import pytest
import torch

from mmakm.evaluation import MEMetric, pooled_report
from mmakm.evaluation import functional as F
from mmakm.loso.plan import Fold
from mmakm.loso.report import fold_row


def reference(gt, pred, k):
    """Plain-Python scores as docs/datasets.md defines them: F1 = 2TP /
    (2TP + FP + FN) and recall = TP / N_c per class (``f1``: where defined),
    UF1 and UAR their means over the classes of the ground truth (N_c > 0,
    as scikit-learn's f1_score(labels=np.unique(gt),
    average='macro') and balanced accuracy)."""
    pairs = list(zip(gt, pred))
    f1s, recalls = {}, {}
    for c in range(k):
        tp = sum(1 for g, p in pairs if g == c and p == c)
        fp = sum(1 for g, p in pairs if g != c and p == c)
        fn = sum(1 for g, p in pairs if g == c and p != c)
        if 2 * tp + fp + fn:
            f1s[c] = 2 * tp / (2 * tp + fp + fn)
        if tp + fn:
            recalls[c] = tp / (tp + fn)
    in_gt = sorted(set(gt))
    return dict(acc=sum(g == p for g, p in pairs) / len(pairs),
                UF1=sum(f1s[c] for c in in_gt) / len(in_gt),
                UAR=sum(recalls[c] for c in in_gt) / len(in_gt),
                f1=f1s, recall=recalls, in_gt=in_gt)


def preds(gt, pred, k, corpus='casme2', subject='casme2/sub01'):
    """Prediction dicts as tools/test.py --dump writes them."""
    out = []
    for i, (g, p) in enumerate(zip(gt, pred)):
        score = torch.full((k, ), 0.1 / max(k - 1, 1))
        score[p] = 0.9
        out.append(dict(pred_score=score, pred_label=torch.tensor([p]),
                        gt_label=torch.tensor([g]), corpus=corpus,
                        subject=subject, clip_id=f'EP{i:02d}'))
    return out


def names(k):
    return tuple(f'c{i}' for i in range(k))


def assert_matches_reference(rep, gt, pred, k):
    ref = reference(gt, pred, k)
    for key in ('acc', 'UF1', 'UAR'):
        assert rep[key] == pytest.approx(ref[key]), key
    for c, name in enumerate(names(k)):
        f1 = rep[f'f1/{name}']
        assert (math.isnan(f1) if c not in ref['f1'] else
                f1 == pytest.approx(ref['f1'][c])), name
        assert rep[f'support/{name}'] == sum(g == c for g in gt)
    assert rep['UF1_num_classes'] == rep['UAR_num_classes'] == len(
        ref['in_gt'])


def test_random_cases_match_the_reference():
    rng = np.random.default_rng(0)
    for _ in range(200):
        k = int(rng.integers(2, 7))
        n = int(rng.integers(1, 30))
        present = rng.choice(k, size=int(rng.integers(1, k + 1)),
                             replace=False)  # some classes never occur
        gt = rng.choice(present, n).tolist()
        pred = rng.integers(0, k, n).tolist()
        rep = pooled_report(preds(gt, pred, k), names(k))
        assert_matches_reference(rep, gt, pred, k)
        assert np.array(rep['confusion_matrix']).sum() == n


def test_class_never_predicted_counts_with_f1_zero():
    gt, pred = [0, 1, 2, 2], [0, 0, 0, 2]
    rep = pooled_report(preds(gt, pred, 3), names(3))
    # c0: 2*1/(2+2+0) = .5; c1: 0 (never predicted); c2: 2/(2+0+1) = 2/3
    assert rep['f1/c1'] == 0 and math.isnan(rep['precision/c1'])
    assert rep['UF1'] == pytest.approx((0.5 + 0 + 2 / 3) / 3)
    assert rep['UAR'] == pytest.approx((1 + 0 + 0.5) / 3)


def test_class_absent_from_the_corpus_is_left_out_and_counted():
    # a 5-class setup whose corpus has no clip of c3 / c4; c3 is predicted
    gt, pred = [0, 0, 1, 2, 2], [0, 3, 1, 2, 0]
    rep = pooled_report(preds(gt, pred, 5), names(5))
    assert_matches_reference(rep, gt, pred, 5)
    # both means over c0..c2 (the classes with clips)
    assert rep['UF1_num_classes'] == rep['UAR_num_classes'] == 3
    assert rep['f1/c3'] == 0 and math.isnan(rep['f1/c4'])  # shown, not meant
    assert rep['support/c3'] == rep['support/c4'] == 0
    # by hand: F1 c0 = 2/(2+1+1), c1 = 1, c2 = 2/(2+0+1); the c3 prediction
    # counts as a miss of its clip's class c0
    assert rep['UF1'] == pytest.approx((0.5 + 1 + 2 / 3) / 3)
    assert rep['UAR'] == pytest.approx((0.5 + 1 + 0.5) / 3)


def test_pooled_over_folds_not_the_mean_of_folds():
    folds = [([0, 0, 1], [0, 1, 1]), ([1], [1]), ([2, 2, 0, 3], [2, 0, 0, 3]),
             ([3], [0])]
    gt = [g for f in folds for g in f[0]]
    pred = [p for f in folds for p in f[1]]
    samples = [s for i, (g, p) in enumerate(folds)
               for s in preds(g, p, 4, subject=f'casme2/sub{i}')]
    rep = pooled_report(samples, names(4))
    assert_matches_reference(rep, gt, pred, 4)
    per_fold = [reference(g, p, 4)['UF1'] for g, p in folds]
    assert abs(np.mean(per_fold) - rep['UF1']) > 0.05  # a real difference
    # per fold, UF1/UAR are undefined when the fold lacks a class
    rows = [fold_row(Fold(f'casme2/sub{i}', f'/w/fold_{i}'),
                     [F.normalize_sample(s) for s in
                      preds(g, p, 4, subject=f'casme2/sub{i}')], names(4))
            for i, (g, p) in enumerate(folds)]
    assert all(math.isnan(r['UF1']) and math.isnan(r['UAR']) for r in rows)
    assert [r['acc'] for r in rows] == pytest.approx([2 / 3, 1, 0.75, 0])


def test_one_sample_folds():
    gt, pred = [0, 1, 2, 1], [0, 2, 2, 1]
    rows = [fold_row(Fold(f's{i}', f'/w/fold_s{i}'),
                     [F.normalize_sample(s) for s in preds([g], [p], 3)],
                     names(3)) for i, (g, p) in enumerate(zip(gt, pred))]
    assert [r['num_samples'] for r in rows] == [1] * 4
    assert [r['correct'] for r in rows] == [1, 0, 1, 1]
    assert all(math.isnan(r['UF1']) for r in rows)
    rep = pooled_report(preds(gt, pred, 3), names(3))
    assert_matches_reference(rep, gt, pred, 3)


def test_per_corpus_scores_from_the_pooled_predictions():
    a = preds([0, 1, 2, 2], [0, 1, 1, 2], 3, corpus='casme2')
    b = preds([0, 0, 1], [1, 0, 1], 3, corpus='samm')
    rep = pooled_report(a + b, names(3))
    for corpus, (gt, pred) in dict(casme2=([0, 1, 2, 2], [0, 1, 1, 2]),
                                   samm=([0, 0, 1], [1, 0, 1])).items():
        ref = reference(gt, pred, 3)
        for key in ('acc', 'UF1', 'UAR'):
            assert rep[f'{corpus}/{key}'] == pytest.approx(ref[key])
        assert rep[f'{corpus}/num_samples'] == len(gt)


def test_labels_outside_the_class_setup_are_an_error():
    bad = preds([0, 1, 7], [0, 1, 1], 4)
    with pytest.raises(ValueError, match=r'EP02.*gt_label 7 is not a class '
                       r'index; expected 0\.\.3'):
        pooled_report(bad, names(4), source='fold_x/predictions.pkl')
    with pytest.raises(ValueError, match='label -1 .*sample 1'):
        F.confusion_matrix([0, -1], [0, 0], 2)


def test_head_of_another_size_than_the_class_setup_is_an_error():
    """A 5-class model scored against a 4-class setup (or the reverse)
    would label the table with shifted names: refused, naming the file."""
    five = preds([0, 1, 2], [0, 1, 4], 5)
    with pytest.raises(ValueError, match=r'preds\.pkl: sample 0 \(EP00, '
                       r'casme2/sub01\) has 5 class scores; the class setup '
                       r'has 4 classes'):
        pooled_report(five, names(4), source='preds.pkl')
    metric = MEMetric()
    metric.dataset_meta = dict(classes=names(3))
    metric.process({}, preds([0, 2], [0, 1], 3))
    res = metric.evaluate(2)  # the matrix comes with its row names
    assert res['classes'] == ['c0', 'c1', 'c2']
    assert res['confusion_matrix'] == [[1, 0, 0], [0, 0, 0], [0, 1, 0]]
    metric.process({}, preds([0, 1], [0, 1], 4))
    with pytest.raises(ValueError, match='MEMetric: .*4 class scores'):
        metric.evaluate(2)


def test_tied_scores_resolve_to_the_first_class_like_the_model():
    score = torch.tensor([0.1, 0.45, 0.45])
    assert int(torch.argmax(score)) == 1  # the recognizer's pred_label
    sample = dict(pred_score=score, gt_label=torch.tensor([2]))
    assert F.normalize_sample(sample)['pred_label'] == 1
    # the model's own pred_label is never recomputed
    sample['pred_label'] = torch.tensor([2])
    assert F.normalize_sample(sample)['pred_label'] == 2
    rep = pooled_report([dict(sample, pred_label=None)], names(3))
    assert rep['confusion_matrix'][2] == [0, 1, 0]


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_non_finite_scores_are_an_error_not_class_0(bad):
    """A diverged model scores NaN; argmax reads that as class 0, which
    would make a fold of class-0 clips look perfect (acc = UF1 = UAR = 1)."""
    samples = preds([0, 0, 1], [0, 0, 1], 3)
    samples[1]['pred_score'] = torch.full((3, ), bad)
    samples[1]['pred_label'] = torch.argmax(samples[1]['pred_score'])[None]
    assert int(samples[1]['pred_label']) == 0  # what the recognizer gives
    with pytest.raises(ValueError, match=r'fold_x/predictions\.pkl: sample 1 '
                       r'\(EP01, casme2/sub01\) has non-finite class scores'):
        pooled_report(samples, names(3), source='fold_x/predictions.pkl')
    metric = MEMetric()
    metric.dataset_meta = dict(classes=names(3))
    metric.process({}, samples)
    with pytest.raises(ValueError, match='MEMetric: sample 1 .*non-finite'):
        metric.evaluate(3)


def test_non_finite_beta_is_an_error_not_a_key_frame():
    clip = dict(apex=5, fps=200.0, key_frames=np.array([0, 1]),
                frame_numbers_fed=np.array([4, 5, 6]), clip_id='EP01',
                frame_weights=np.array([float('nan'), 0.2, 0.3]))
    with pytest.raises(ValueError, match=r'sample 0 \(EP01\): frame_weights '
                       r'\[nan, 0\.2, 0\.3\] are not all finite'):
        F.keyframe_apex_stats([clip])
    clip['frame_weights'] = np.array([0.1, 0.2, 0.3])  # the same, finite
    assert F.keyframe_apex_stats([clip])['apex_is_max_beta'] == 1.0


def test_metrics_and_dump_refuse_part_of_the_test_set(tmp_path):
    """mmengine's TestLoop calls ``evaluate(len(dataset))`` and cuts the
    collected results to that length, but a test loader with drop_last
    hands over fewer: scored as if they were the whole test set before."""
    from mmakm.engine.dump_results import AtomicDumpResults
    from mmakm.evaluation import KeyFrameApexMetric
    out = tmp_path / 'preds.pkl'
    for metric in (MEMetric(), KeyFrameApexMetric(),
                   AtomicDumpResults(out_file_path=str(out))):
        metric.dataset_meta = dict(classes=names(3))
        metric.process({}, preds([0, 1, 2], [0, 1, 1], 3))
        with pytest.raises(ValueError, match=f'{type(metric).__name__}: 3 '
                           'predictions for the 4 samples of the test set'):
            metric.evaluate(4)  # one clip of the dataset was never tested
        assert not out.exists()  # no dump of part of the test set
        metric.process({}, preds([0, 1, 2], [0, 1, 1], 3))
        metric.evaluate(3)
    assert len(pickle.load(open(out, 'rb'))) == 3


def test_metric_classes_in_another_order_than_the_dataset_are_an_error():
    """Label i is the dataset's classes[i]; MEMetric(classes=...) in another
    order would name every row of the confusion matrix after another
    class."""
    metric = MEMetric(classes=('c1', 'c0', 'c2'))
    metric.dataset_meta = dict(classes=names(3))
    metric.process({}, preds([0, 1], [0, 1], 3))
    with pytest.raises(ValueError, match=r"MEMetric: classes=\['c1', 'c0', "
                       r"'c2'\] differ from the dataset's class setup "
                       r"\['c0', 'c1', 'c2'\]"):
        metric.evaluate(2)
    metric = MEMetric(classes=names(3))  # the same order: fine
    metric.dataset_meta = dict(classes=names(3))
    metric.process({}, preds([0, 1], [0, 1], 3))
    assert metric.evaluate(2)['classes'] == list(names(3))
