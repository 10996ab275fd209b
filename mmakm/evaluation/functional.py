"""Pure metric functions (numpy), shared by the registered metrics and the
LOSO pooling of saved predictions.

Definitions (docs/datasets.md; predictions of all LOSO folds pooled):

* confusion matrix ``cm[g, p]``: rows ground truth, columns prediction;
* accuracy = trace / total;
* per class c: TP = cm[c, c], FP = column sum - TP, FN = row sum - TP;
  precision = TP / (TP + FP), recall = TP / (TP + FN),
  F1 = 2TP / (2TP + FP + FN); a ratio with a zero denominator is NaN
  (undefined) in the per-class arrays;
* UF1 = mean of F1 over the classes present in the ground truth
  (N_c > 0); a class with clips that is never predicted counts with F1 = 0;
* UAR = mean of recall over the same classes.

A class of the setup without a clip is left out of both means (UF1 and UAR
average over the same classes, those of the ground truth). Its
F1 is 0 whenever the model predicts it at all, whatever the model does on
the classes that are there, so it measures nothing; those wrong
predictions already count, as misses of the clips' own classes. Its
per-class F1 is still reported (0 if predicted, NaN if not).

These are scikit-learn's ``f1_score(y, p, labels=np.unique(y),
average='macro')`` and ``balanced_accuracy_score(y, p)``.
:func:`me_scores` reports how many classes the means cover
(``UF1_num_classes`` = ``UAR_num_classes``), so a table can say when a class
of the setup had no clip.
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
        bad = np.flatnonzero((a < 0) | (a >= num_classes))
        if bad.size:
            raise ValueError(
                f'{name} label {int(a[bad[0]])} (sample {int(bad[0])}'
                f'{f" and {bad.size - 1} more" if bad.size > 1 else ""}) is '
                f'not a class index; expected 0..{num_classes - 1}')
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
    """Unweighted F1 over the classes present in the ground truth (see
    module doc); NaN if there is none."""
    st = per_class_stats(cm)
    f1 = st['f1'][st['support'] > 0]  # defined there: 2TP + FN = N_c > 0
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
    out = dict(acc=accuracy(cm), UF1=uf1(cm), UAR=uar(cm),
               num_samples=int(cm.sum()),
               UF1_num_classes=int((st['support'] > 0).sum()),
               UAR_num_classes=int((st['support'] > 0).sum()))
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
        score = _as_array(score)
        if score.ndim > 1 and int(np.prod(score.shape[:-1])) > 1:
            # MMAction2 heads with average_clips=None keep one row of
            # scores per test clip / crop (num_segs, num_classes)
            from mmakm.engine.consistency import ConfigMismatchError
            raise ConfigMismatchError(
                f'pred_score of shape {tuple(score.shape)}: one row of class '
                'scores per test clip or crop, not averaged (the head has '
                "average_clips=None); set model.cls_head.average_clips='prob' "
                "(or 'score') to get one score per class")
        out['pred_score'] = score.astype(np.float64).ravel()
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


def describe_sample(sample: dict, index: int) -> str:
    """``sample 3 (EP02_01f, casme2/sub01)`` for error messages."""
    where = ', '.join(str(sample[k]) for k in ('clip_id', 'subject')
                      if sample.get(k) is not None)
    return f'sample {index}' + (f' ({where})' if where else '')


def check_predictions(samples: Sequence[dict], classes: Sequence[str],
                      source: str = 'predictions') -> None:
    """Every normalised prediction must fit the class setup ``classes``.

    A model whose head has another number of classes than the dataset's
    class setup, or labels outside ``0..K-1``, would give a confusion
    matrix shifted against its row and column names; that is refused. So
    are scores that are NaN or infinite (a model that diverged): argmax
    would read them as class 0 (the first NaN) and every number of the
    report would look like a real result.

    Raises:
        ValueError: naming ``source``, the sample and what was expected.
    """
    k = len(classes)
    for i, s in enumerate(samples):
        score = s.get('pred_score')
        if score is not None and len(score) != k:
            raise ValueError(
                f'{source}: {describe_sample(s, i)} has {len(score)} class '
                f'scores; the class setup has {k} classes {list(classes)} '
                "(the model's num_classes and the dataset's classes differ)")
        if score is not None and not np.isfinite(score).all():
            raise ValueError(
                f'{source}: {describe_sample(s, i)} has non-finite class '
                f'scores {np.asarray(score).tolist()}; expected finite '
                'scores (the model diverged: NaN/inf weights, loss or input)')
        for key in ('gt_label', 'pred_label'):
            if not 0 <= s[key] < k:
                raise ValueError(
                    f'{source}: {describe_sample(s, i)}: {key} {s[key]} is '
                    f'not a class index; expected 0..{k - 1} for '
                    f'{list(classes)}')


def pooled_report(samples: Iterable[dict], classes: Sequence[str],
                  per_corpus: Optional[bool] = None,
                  source: str = 'predictions') -> dict:
    """Scores of predictions pooled over all LOSO folds.

    Args:
        samples: prediction dicts (see :func:`normalize_sample`), e.g. the
            concatenated DumpResults pickles of all folds.
        classes: class names (dataset ``metainfo['classes']``), in label
            order.
        per_corpus: also report ``<corpus>/acc|UF1|UAR`` (and
            ``<corpus>/num_samples``); default: when more than one corpus.
        source: what the samples are, for error messages (a file name).

    Returns:
        dict with ``acc``, ``UF1``, ``UAR``, ``num_samples``,
        ``UF1_num_classes``, ``UAR_num_classes``, ``precision/<c>``,
        ``recall/<c>``, ``f1/<c>``, ``support/<c>``, ``confusion_matrix``
        (nested list) and the per-corpus keys.

    Raises:
        ValueError: a sample that does not fit ``classes``
            (:func:`check_predictions`).
    """
    samples = [normalize_sample(s) for s in samples]
    check_predictions(samples, classes, source)
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
    Other samples are excluded and counted: a clip without apex annotation
    (``apex`` -1 or absent: SMIC, some SAMM rows) is never taken as frame 0.
    The apex is located at the fed frame(s) nearest to it: the apex itself
    unless frames were strided/resampled; when the apex lies midway
    between two fed frames both count as the apex.

    Returns:
        ``num_clips`` (clips scored); ``num_excluded_no_apex``,
        ``num_excluded_no_keyframes`` (a clip with apex but without key
        frames / β / fed frame numbers, e.g. a TSN dump); ``apex_in_key``
        (share of clips whose apex frame is a key frame);
        ``apex_is_max_beta`` (share whose apex is the highest-beta key
        frame); ``dist_frames_mean|median|p90`` = |apex - the max-beta key
        frame| in frames (absolute frame numbers; see
        :func:`max_beta_key_frame`) and ``dist_ms_mean|median|p90`` (via
        each clip's own fps) over ``num_clips_ms`` clips (those with an
        fps); ``fps``: the frame rate shared by all scored clips (None when
        they differ or none is known); ``key_ratio_mean`` (share of fed
        frames selected); ``dist_frames`` / ``dist_ms`` per clip (lists).

    Raises:
        ValueError: a clip whose ``frame_weights`` or ``key_frames`` do not
            fit its fed frames, or whose ``frame_weights`` are not finite.
    """
    in_key, is_max, dist_f, dist_ms, ratio = [], [], [], [], []
    no_apex = no_keys = 0
    rates = set()
    for i, s in enumerate(samples):
        s = normalize_sample(s) if 'gt_label' in s else s
        apex = s.get('apex', -1)
        if apex is None or apex < 0:
            no_apex += 1
            continue
        if s.get('key_frames') is None or s.get('frame_weights') is None \
                or s.get('frame_numbers_fed') is None:
            no_keys += 1
            continue
        numbers = np.asarray(s['frame_numbers_fed'], np.int64).reshape(-1)
        beta = np.asarray(s['frame_weights'], np.float64).reshape(-1)
        keys = np.asarray(s['key_frames'], np.int64).reshape(-1)
        if len(numbers) != len(beta) or not len(numbers):
            raise ValueError(
                f'{describe_sample(s, i)}: frame_weights has {len(beta)} '
                f'values for {len(numbers)} fed frames')
        if not np.isfinite(beta).all():  # argmax would pick the NaN
            raise ValueError(
                f'{describe_sample(s, i)}: frame_weights {beta.tolist()} are '
                'not all finite; expected a finite β per fed frame')
        if keys.size and (keys.min() < 0 or keys.max() >= len(numbers)):
            raise ValueError(
                f'{describe_sample(s, i)}: key frame positions {keys.tolist()}'
                f' outside the {len(numbers)} fed frames')
        gap = np.abs(numbers - apex)
        apex_pos = np.flatnonzero(gap == gap.min())
        best_key = max_beta_key_frame(keys, beta)
        in_key.append(bool(np.isin(apex_pos, keys).any()))
        is_max.append(keys.size > 0 and best_key in apex_pos)
        d = abs(int(numbers[best_key]) - apex)
        dist_f.append(d)
        fps = s.get('fps')
        rates.add(float(fps) if fps else None)
        if fps:
            dist_ms.append(1000.0 * d / fps)
        ratio.append(keys.size / len(numbers))
    nan = float('nan')

    def stat(values, fn):
        return float(fn(values)) if len(values) else nan

    return dict(
        num_clips=len(in_key),
        num_excluded_no_apex=no_apex,
        num_excluded_no_keyframes=no_keys,
        apex_in_key=stat(in_key, np.mean),
        apex_is_max_beta=stat(is_max, np.mean),
        dist_frames_mean=stat(dist_f, np.mean),
        dist_frames_median=stat(dist_f, np.median),
        dist_frames_p90=stat(dist_f, lambda v: np.percentile(v, 90)),
        num_clips_ms=len(dist_ms),
        dist_ms_mean=stat(dist_ms, np.mean),
        dist_ms_median=stat(dist_ms, np.median),
        dist_ms_p90=stat(dist_ms, lambda v: np.percentile(v, 90)),
        fps=rates.pop() if len(rates) == 1 else None,
        key_ratio_mean=stat(ratio, np.mean),
        dist_frames=[int(v) for v in dist_f],
        dist_ms=[float(v) for v in dist_ms])
