"""Pure metric functions (numpy), shared by the registered metrics and the
LOSO pooling of saved predictions.

Definitions (docs/datasets.md; predictions of all LOSO folds pooled):

* confusion matrix ``cm[g, p]``: rows ground truth, columns prediction;
* accuracy = trace / total;
* per class c: TP = cm[c, c], FP = column sum - TP, FN = row sum - TP;
  precision = TP / (TP + FP), recall = TP / (TP + FN),
  F1 = 2TP / (2TP + FP + FN); a ratio with a zero denominator is NaN
  (undefined) in the per-class arrays;
* UF1 = mean of F1 over the classes with 2TP + FP + FN > 0, i.e. classes
  that occur in the ground truth or in the predictions. A class absent from
  both (it cannot be scored) is left out of the mean; a class that occurs
  only in the predictions counts with F1 = 0, one that occurs in the ground
  truth but is never predicted counts with F1 = 0;
* UAR = mean of recall over the classes present in the ground truth
  (N_c > 0); recall of an absent class is undefined and left out.
"""
from typing import Dict, Iterable, Optional, Sequence

import numpy as np


def _as_array(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def confusion_matrix(gt, pred, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) int64 counts, rows = ground truth."""
    gt = _as_array(gt).astype(np.int64).ravel()
    pred = _as_array(pred).astype(np.int64).ravel()
    if gt.shape != pred.shape:
        raise ValueError(f'gt and pred differ in length: {gt.shape} vs '
                         f'{pred.shape}')
    for name, a in (('gt', gt), ('pred', pred)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ValueError(f'{name} labels must be in 0..{num_classes - 1}')
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (gt, pred), 1)
    return cm


def _div(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    out = np.full(a.shape, np.nan)
    np.divide(a, b, out=out, where=b > 0)
    return out


def per_class_stats(cm: np.ndarray) -> Dict[str, np.ndarray]:
    """tp, fp, fn, support, precision, recall, f1 per class (NaN when
    undefined)."""
    cm = np.asarray(cm, np.int64)
    tp = np.diag(cm)
    fp = cm.sum(0) - tp
    fn = cm.sum(1) - tp
    return dict(tp=tp, fp=fp, fn=fn, support=cm.sum(1),
                precision=_div(tp, tp + fp), recall=_div(tp, tp + fn),
                f1=_div(2 * tp, 2 * tp + fp + fn))


def accuracy(cm: np.ndarray) -> float:
    total = np.asarray(cm).sum()
    return float(np.trace(cm) / total) if total else float('nan')


def uf1(cm: np.ndarray) -> float:
    """Unweighted F1 (see module doc); NaN if no class can be scored."""
    f1 = per_class_stats(cm)['f1']
    f1 = f1[~np.isnan(f1)]
    return float(f1.mean()) if f1.size else float('nan')


def uar(cm: np.ndarray) -> float:
    """Unweighted average recall over classes present in the ground truth."""
    rec = per_class_stats(cm)['recall']
    rec = rec[~np.isnan(rec)]
    return float(rec.mean()) if rec.size else float('nan')


def me_scores(gt, pred, classes: Sequence[str]) -> dict:
    """acc, UF1, UAR, per-class precision/recall/F1/support and the
    confusion matrix for one set of predictions."""
    cm = confusion_matrix(gt, pred, len(classes))
    st = per_class_stats(cm)
    out = dict(acc=accuracy(cm), UF1=uf1(cm), UAR=uar(cm), num_samples=int(
        cm.sum()))
    for i, c in enumerate(classes):
        out[f'precision/{c}'] = float(st['precision'][i])
        out[f'recall/{c}'] = float(st['recall'][i])
        out[f'f1/{c}'] = float(st['f1'][i])
        out[f'support/{c}'] = int(st['support'][i])
    out['confusion_matrix'] = cm.tolist()
    return out


def normalize_sample(sample: dict) -> dict:
    """A prediction dict (ActionDataSample.to_dict() / DumpResults item /
    MEMetric record) as plain numpy/python values."""
    out = {}
    score = sample.get('pred_score')
    if score is not None:
        out['pred_score'] = _as_array(score).astype(np.float64).ravel()
    label = sample.get('pred_label')
    if label is not None:
        out['pred_label'] = int(_as_array(label).ravel()[0])
    elif score is not None:
        out['pred_label'] = int(np.argmax(out['pred_score']))
    else:
        raise KeyError('prediction has neither pred_score nor pred_label')
    gt = sample.get('gt_label', sample.get('label'))
    if gt is None:
        raise KeyError('prediction has no gt_label')
    out['gt_label'] = int(_as_array(gt).ravel()[0])
    for key in ('subject', 'corpus', 'clip_id', 'emotion'):
        if key in sample:
            out[key] = str(sample[key])
    for key in ('apex', 'onset', 'offset'):
        if key in sample and sample[key] is not None:
            out[key] = int(_as_array(sample[key]).ravel()[0])
    if sample.get('fps') is not None:
        out['fps'] = float(_as_array(sample['fps']).ravel()[0])
    for key in ('key_frames', 'frame_numbers_fed'):
        if sample.get(key) is not None:
            out[key] = _as_array(sample[key]).astype(np.int64).ravel()
    if sample.get('frame_weights') is not None:
        out['frame_weights'] = _as_array(
            sample['frame_weights']).astype(np.float64).ravel()
    return out


def pooled_report(samples: Iterable[dict], classes: Sequence[str],
                  per_corpus: Optional[bool] = None) -> dict:
    """Scores of predictions pooled over all LOSO folds.

    Args:
        samples: prediction dicts (see :func:`normalize_sample`), e.g. the
            concatenated DumpResults pickles of all folds.
        classes: class names (dataset ``metainfo['classes']``).
        per_corpus: also report ``<corpus>/acc|UF1|UAR`` (and
            ``<corpus>/num_samples``); default: when more than one corpus.

    Returns:
        dict with ``acc``, ``UF1``, ``UAR``, ``num_samples``,
        ``precision/<c>``, ``recall/<c>``, ``f1/<c>``, ``support/<c>``,
        ``confusion_matrix`` (nested list) and the per-corpus keys.
    """
    samples = [normalize_sample(s) for s in samples]
    gt = np.array([s['gt_label'] for s in samples], np.int64)
    pred = np.array([s['pred_label'] for s in samples], np.int64)
    out = me_scores(gt, pred, classes)
    corpora = [s.get('corpus', '') for s in samples]
    names = sorted(set(corpora))
    if per_corpus is None:
        per_corpus = len(names) > 1
    if per_corpus:
        corpora = np.array(corpora)
        for c in names:
            sel = corpora == c
            cm = confusion_matrix(gt[sel], pred[sel], len(classes))
            out[f'{c}/acc'] = accuracy(cm)
            out[f'{c}/UF1'] = uf1(cm)
            out[f'{c}/UAR'] = uar(cm)
            out[f'{c}/num_samples'] = int(sel.sum())
    return out


def max_beta_key_frame(key_frames, frame_weights) -> int:
    """Position (within the fed clip) of the key frame with the highest β.

    Args:
        key_frames: ``(N,)`` 0-based positions of the key frames.
        frame_weights: ``(T,)`` β of every fed frame.

    Returns:
        int: the max-β key frame (the first on ties); the max-β fed frame
        when there is no key frame.
    """
    keys = np.asarray(key_frames, np.int64).reshape(-1)
    beta = np.asarray(frame_weights, np.float64).reshape(-1)
    if keys.size:
        return int(keys[np.argmax(beta[keys])])
    return int(np.argmax(beta))


def keyframe_apex_stats(samples: Iterable[dict]) -> dict:
    """Key frames vs the annotated apex (paper Table VI).

    Uses the samples with a known apex (>= 0), ``key_frames`` (0-based
    positions within the fed clip), ``frame_weights`` (beta of every fed
    frame) and ``frame_numbers_fed`` (absolute numbers of the fed frames).
    The apex is located at the fed frame nearest to it (the apex itself
    unless frames were strided/resampled).

    Returns:
        ``num_clips``; ``apex_in_key`` (share of clips whose apex frame is a
        key frame); ``apex_is_max_beta`` (share whose apex is the highest-beta
        key frame); ``dist_frames_mean|median|p90`` = |apex - the max-beta key
        frame| in frames (absolute frame numbers; see
        :func:`max_beta_key_frame`) and ``dist_ms_mean|median|p90`` (via
        each clip's fps; clips without fps are left out of the ms stats);
        ``key_ratio_mean`` (share of fed frames selected); ``dist_frames`` /
        ``dist_ms`` per clip (lists).
    """
    in_key, is_max, dist_f, dist_ms, ratio = [], [], [], [], []
    for s in samples:
        s = normalize_sample(s) if 'gt_label' in s else s
        apex = s.get('apex', -1)
        if apex is None or apex < 0:
            continue
        if s.get('key_frames') is None or s.get('frame_weights') is None \
                or s.get('frame_numbers_fed') is None:
            continue
        numbers = np.asarray(s['frame_numbers_fed'], np.int64)
        beta = np.asarray(s['frame_weights'], np.float64)
        keys = np.asarray(s['key_frames'], np.int64)
        if len(numbers) != len(beta):
            raise ValueError(
                f"clip {s.get('clip_id')}: frame_weights has {len(beta)} "
                f'values for {len(numbers)} fed frames')
        apex_pos = int(np.argmin(np.abs(numbers - apex)))
        best_key = max_beta_key_frame(keys, beta)
        in_key.append(apex_pos in set(keys.tolist()))
        is_max.append(keys.size > 0 and best_key == apex_pos)
        d = abs(int(numbers[best_key]) - apex)
        dist_f.append(d)
        fps = s.get('fps')
        if fps:
            dist_ms.append(1000.0 * d / fps)
        ratio.append(keys.size / max(len(numbers), 1))
    nan = float('nan')

    def stat(values, fn):
        return float(fn(values)) if len(values) else nan

    return dict(
        num_clips=len(in_key),
        apex_in_key=stat(in_key, np.mean),
        apex_is_max_beta=stat(is_max, np.mean),
        dist_frames_mean=stat(dist_f, np.mean),
        dist_frames_median=stat(dist_f, np.median),
        dist_frames_p90=stat(dist_f, lambda v: np.percentile(v, 90)),
        dist_ms_mean=stat(dist_ms, np.mean),
        dist_ms_median=stat(dist_ms, np.median),
        dist_ms_p90=stat(dist_ms, lambda v: np.percentile(v, 90)),
        key_ratio_mean=stat(ratio, np.mean),
        dist_frames=[int(v) for v in dist_f],
        dist_ms=[float(v) for v in dist_ms])
