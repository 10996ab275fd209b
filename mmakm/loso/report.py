"""Pooled LOSO report from the folds' prediction dumps.

All numbers come from :mod:`mmakm.evaluation` (``pooled_report``,
``keyframe_apex_stats``, ``me_scores``) on the predictions of all folds
pooled, as the protocol prescribes (docs/datasets.md); per-fold numbers are given
for inspection only. A report that lacks folds of the protocol says so
("Incomplete: N of M folds") in every table, file and figure it writes.
Every file is written atomically.
"""
import csv
import io
import json
import math
import os.path as osp
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from mmakm.engine import atomic_json_dump, atomic_write_text
from mmakm.engine.safe_pickle import safe_load
from mmakm.evaluation import (keyframe_apex_stats, me_scores, normalize_sample,
                              plot_confusion_matrix, pooled_report)
from mmakm.evaluation.functional import check_predictions, describe_sample

from .plan import Fold

#: key-frame figures drawn per LOSO run (one per clip, first clips with apex)
MAX_CLIP_FIGURES = 6


@dataclass
class LosoReport:
    pooled: dict           # pooled_report(...)
    keyframes: dict        # keyframe_apex_stats(...)
    per_fold: List[dict]
    classes: Tuple[str, ...]
    markdown: str
    missing: Tuple[str, ...] = ()  # protocol subjects whose fold is absent
    #: ``(subject, clips predicted, clips of the protocol)`` of the pooled
    #: folds whose predictions do not hold all their subject's clips
    short: Tuple[Tuple[str, int, int], ...] = ()

    @property
    def complete(self) -> bool:
        """Every fold of the LOSO protocol is pooled, each with every clip
        of its subject (as far as the protocol's clip counts are known)."""
        return not self.missing and not self.short

    @property
    def num_folds_total(self) -> int:
        return len(self.per_fold) + len(self.missing)

    def row(self) -> dict:
        """The headline numbers (one line of a method table)."""
        kf = self.keyframes
        return dict(acc=self.pooled['acc'], UF1=self.pooled['UF1'],
                    UAR=self.pooled['UAR'],
                    num_samples=self.pooled['num_samples'],
                    num_samples_expected=_expected_total(self.per_fold,
                                                         self.missing),
                    folds=len(self.per_fold),
                    folds_total=self.num_folds_total,
                    complete=self.complete,
                    apex_in_key=kf.get('apex_in_key', float('nan')),
                    apex_is_max_beta=kf.get('apex_is_max_beta', float('nan')),
                    dist_frames_median=kf.get('dist_frames_median',
                                              float('nan')),
                    dist_ms_median=kf.get('dist_ms_median', float('nan')),
                    keyframe_clips=kf.get('num_clips', 0))


def load_predictions(path: str) -> List[dict]:
    """The samples of a prediction dump (``tools/test.py --dump``),
    normalised; every reader of prediction files calls this.

    The pickle is read with :func:`mmakm.engine.safe_pickle.safe_load`: only
    numbers, strings, containers, numpy arrays and torch tensors are
    rebuilt, so a crafted file cannot run code.

    Raises:
        UnsafePickleError: (a ValueError) the file references anything
            else; ValueError: empty, truncated, or not a list of samples.
    """
    preds = safe_load(path)
    if not isinstance(preds, list) or not all(
            isinstance(p, dict) for p in preds):
        raise ValueError(f'{path}: not a prediction dump (expected a list of '
                         f'sample dicts, got {type(preds).__name__})')
    out = []
    for i, p in enumerate(preds):
        try:
            out.append(normalize_sample(p))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f'{path}: sample {i} is not a prediction '
                             f'({exc})') from None
    return out


def fmt(v, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return 'n/a'
    if isinstance(v, float):
        return f'{v:.{digits}f}'
    return str(v)


def json_safe(obj):
    """NaN (undefined metric) -> None, so the JSON is strict (null)."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def md_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    lines += ['| ' + ' | '.join(fmt(c) for c in r) + ' |' for r in rows]
    return '\n'.join(lines)


def _expected_total(per_fold: Sequence[dict], missing: Sequence[str]):
    """Clips of the protocol over the pooled folds; None when a pooled
    fold's count is unknown (a plan of an older version), or folds are
    missing (their clips are not pooled at all)."""
    counts = [r.get('clips_expected') for r in per_fold]
    if missing or any(c is None for c in counts):
        return None
    return int(sum(counts))


def fold_row(fold: Fold, samples: List[dict], classes,
             expected: Optional[int] = None) -> dict:
    """Per-fold counts and scores; UF1/UAR are n/a when the fold lacks a
    class in its ground truth (undefined per fold, see docs/datasets.md).
    ``expected``: clips of the fold's subject in the protocol
    (``clips_expected``; None: unknown)."""
    s = me_scores([p['gt_label'] for p in samples],
                  [p['pred_label'] for p in samples], classes)
    present = {p['gt_label'] for p in samples}
    complete = len(present) == len(classes)
    return dict(subject=fold.subject, fold=fold.name,
                num_samples=s['num_samples'],
                correct=int(round(s['acc'] * s['num_samples']))
                if s['num_samples'] else 0,
                acc=s['acc'],
                UF1=s['UF1'] if complete else float('nan'),
                UAR=s['UAR'] if complete else float('nan'),
                classes_present=len(present),
                clips_expected=expected)


def incomplete_note(num_folds: int, missing: Sequence[str],
                    short: Sequence[Tuple[str, int, int]] = ()) -> str:
    """``Incomplete: 6 of 8 folds (missing: ...)``, and the pooled folds
    that lack clips of their subject; '' when nothing is missing: the
    marker every output of a partial LOSO carries."""
    parts = []
    if missing:
        parts.append(f'{num_folds} of {num_folds + len(missing)} folds '
                     f'(missing: {", ".join(missing)})')
    if short:
        parts.append('predictions that do not hold every clip of their '
                     'subject: ' + ', '.join(
                         f'{s} ({got} of {want} clips)'
                         for s, got, want in short))
    return 'Incomplete: ' + '; '.join(parts) if parts else ''


def _unscored_note(pooled: dict, classes: Sequence[str]) -> List[str]:
    """Which classes UF1 / UAR leave out (no clip of the class), so a
    reader recomputing them knows."""
    no_gt = [c for c in classes if pooled[f'support/{c}'] == 0]
    if not no_gt:
        return []
    predicted = [c for c in no_gt if not math.isnan(pooled[f'f1/{c}'])]
    line = (f'UF1 and UAR are means over the {pooled["UAR_num_classes"]} of '
            f'{len(classes)} classes with clips (no clip: '
            f'{", ".join(no_gt)})')
    if predicted:
        line += (f'; predicted nonetheless: {", ".join(predicted)} (F1 0 in '
                 'the table, not in the mean; those predictions count as '
                 'misses of their clips\' classes)')
    return [line + '.', '']


def _summary_markdown(pooled, kf, classes, per_fold, missing, title,
                      short=()):
    n = pooled['num_samples']
    out = [f'## {title}' if title else '## LOSO (pooled over folds)', '',
           f'{len(per_fold)} folds, {n} clips; metrics on the predictions of '
           'all folds pooled (leak-free: fixed schedule, last checkpoint).',
           '']
    if missing or short:
        out += [f'**{incomplete_note(len(per_fold), missing, short)}**', '']
    out += [md_table(['acc', 'UF1', 'UAR', 'clips'],
                     [[pooled['acc'], pooled['UF1'], pooled['UAR'], n]]), '']
    out += _unscored_note(pooled, classes)
    out += ['### Per class', '', md_table(
        ['class', 'support', 'precision', 'recall', 'F1'],
        [[c, pooled[f'support/{c}'], pooled[f'precision/{c}'],
          pooled[f'recall/{c}'], pooled[f'f1/{c}']] for c in classes]), '']
    corpora = sorted({k.split('/')[0] for k in pooled
                      if k.endswith('/num_samples')})
    if corpora:
        out += ['### Per corpus (pooled predictions)', '', md_table(
            ['corpus', 'clips', 'acc', 'UF1', 'UAR'],
            [[c, pooled[f'{c}/num_samples'], pooled[f'{c}/acc'],
              pooled[f'{c}/UF1'], pooled[f'{c}/UAR']] for c in corpora]), '']
    out += ['### Key frames vs annotated apex', '']
    if kf.get('num_clips'):
        out += [md_table(
            ['clips with apex', 'apex in key frames', 'apex = max-β key frame',
             'median abs(apex − max-β key frame) (fr)', 'mean (fr)', 'p90 (fr)',
             'median (ms)', 'key-frame share'],
            [[kf['num_clips'], kf['apex_in_key'], kf['apex_is_max_beta'],
              kf['dist_frames_median'], kf['dist_frames_mean'],
              kf['dist_frames_p90'], kf['dist_ms_median'],
              kf['key_ratio_mean']]]), '']
    else:
        out += ['n/a (no apex annotation, or the model gives no key frames)',
                '']
    excluded = [f'{kf[k]} clip(s) {what}' for k, what in (
        ('num_excluded_no_apex', 'without apex annotation'),
        ('num_excluded_no_keyframes', 'without key frames'))
        if kf.get(k)]
    if excluded:
        out += ['Excluded from the key-frame statistics: '
                + ' and '.join(excluded) + '.', '']
    if kf.get('num_clips') and kf['num_clips_ms'] != kf['num_clips']:
        out += [f'ms over the {kf["num_clips_ms"]} clips with a known frame '
                'rate.', '']
    return '\n'.join(out)


def _csv_text(flat: Dict[str, object]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(['metric', 'value'])
    for k, v in flat.items():
        w.writerow([k, v])
    return buf.getvalue()


def check_fold_predictions(fold: Fold, preds: List[dict],
                           classes: Sequence[str], seen: Dict[tuple, str]
                           ) -> None:
    """A fold's predictions may be pooled: they fit the class setup, hold
    the fold's own held-out subject only, and no clip is already pooled
    (``seen``: clip key -> file, updated).

    Raises:
        ValueError: naming the predictions file, the sample and why.
    """
    src = fold.predictions
    check_predictions(preds, classes, src)
    for i, p in enumerate(preds):
        subject = p.get('subject')
        if subject is not None and subject != fold.subject:
            raise ValueError(
                f'{src}: {describe_sample(p, i)} is of subject {subject}, '
                f'not of the held-out subject {fold.subject} of this fold')
        key = (p.get('corpus'), subject, p.get('clip_id'), p.get('onset'),
               p.get('offset'))
        if p.get('clip_id') is None:
            continue  # not identifiable: nothing to compare
        if key in seen:
            raise ValueError(
                f'{src}: {describe_sample(p, i)} (onset {key[3]}, offset '
                f'{key[4]}) is already in {seen[key]}; a clip is pooled once')
        seen[key] = src


class LosoPlanError(ValueError):
    """A work dir without a readable ``loso_plan.json``."""


@dataclass
class LosoRun:
    """What a ``tools/loso.py`` work dir holds, read from its plan.

    Attributes:
        plan (dict): ``loso_plan.json``.
        folds (list[Fold]): every planned fold, resolved under the work dir
            (so a moved work dir still works).
        finished (list[Fold]): the folds with predictions.
        missing (list[str]): subjects of the protocol (the plan's folds may
            be a ``--folds`` subset) whose fold is not finished.
        clips (dict, optional): ``{subject: clips}`` of the protocol (None
            in a plan of an older version).
    """
    plan: dict
    folds: List[Fold]
    finished: List[Fold]
    missing: List[str]
    clips: Optional[Dict[str, int]] = None


def read_loso_run(work_dir: str) -> LosoRun:
    """Read ``WORK_DIR/loso_plan.json`` and find the finished folds.

    Raises:
        LosoPlanError: no such plan, or one that is not JSON.
    """
    from .runner import fold_finished
    plan_path = osp.join(work_dir, 'loso_plan.json')
    if not osp.isfile(plan_path):
        raise LosoPlanError(
            f'{plan_path} not found (not a tools/loso.py work dir)')
    try:
        with open(plan_path) as f:
            plan = json.load(f)
    except (OSError, ValueError) as exc:
        raise LosoPlanError(f'{plan_path}: unreadable plan ({exc})') from exc
    folds = [Fold(f['subject'], osp.join(osp.abspath(work_dir),
                                         osp.basename(f['work_dir'])))
             for f in plan['folds']]
    finished = [f for f in folds if fold_finished(f)]
    pooled = {f.subject for f in finished}
    subjects = plan.get('subjects') or [f.subject for f in folds]
    return LosoRun(plan, folds, finished,
                   [s for s in subjects if s not in pooled],
                   plan.get('clips'))


def fold_predictions(folds: Sequence[Fold],
                     classes: Sequence[str]) -> List[List[dict]]:
    """The predictions of each of ``folds`` (one list per fold), checked
    together by :func:`check_fold_predictions` (so no clip is pooled twice)
    and tagged with their ``fold``.

    Raises:
        ValueError: as :func:`check_fold_predictions`.
    """
    out, seen = [], {}
    for fold in folds:
        preds = load_predictions(fold.predictions)
        check_fold_predictions(fold, preds, tuple(classes), seen)
        for p in preds:
            p.setdefault('fold', fold.subject)
        out.append(preds)
    return out


def build_report(work_dir: str, folds: Sequence[Fold], classes: Sequence[str],
                 config: Optional[str] = None,
                 missing: Sequence[str] = (),
                 expected_clips: Optional[Dict[str, int]] = None
                 ) -> LosoReport:
    """Pool the finished folds of ``work_dir`` and write the report files.

    Args:
        folds: the finished folds to pool.
        classes: the class setup's names, in label order.
        missing: subjects of the LOSO protocol whose fold is not pooled;
            every output is then marked incomplete.
        expected_clips: ``{subject: clips}`` of the protocol
            (:func:`mmakm.loso.plan.protocol_clips`, ``loso_plan.json``
            ``clips``); a pooled fold whose predictions hold another number
            of clips (a test dataloader with ``drop_last``, a clip skipped
            as a bad sample at test time) marks every output incomplete,
            naming the fold and both counts. None: counts not checked.

    Raises:
        ValueError: a fold's predictions are unreadable, do not fit
            ``classes``, hold another subject, or repeat a pooled clip.
    """
    from mmakm.visualization import apex_offset_histogram, plot_key_frames
    classes, missing = tuple(classes), tuple(missing)
    by_fold = fold_predictions(folds, classes)
    samples = [p for preds in by_fold for p in preds]
    expected_clips = expected_clips or {}
    per_fold = [fold_row(fold, preds, classes,
                         expected_clips.get(fold.subject))
                for fold, preds in zip(folds, by_fold)]
    short = tuple((r['subject'], r['num_samples'], r['clips_expected'])
                  for r in per_fold if r['clips_expected'] is not None
                  and r['num_samples'] != r['clips_expected'])
    pooled = pooled_report(samples, classes)
    kf = keyframe_apex_stats(samples)
    title = (f'LOSO: {osp.basename(config)}' if config else None)
    markdown = _summary_markdown(pooled, kf, classes, per_fold, missing,
                                 title, short)
    report = LosoReport(pooled, kf, per_fold, classes, markdown, missing,
                        short)
    note = incomplete_note(len(per_fold), missing, short)
    short_note = ''
    if missing:
        short_note = (f'\nincomplete: {len(per_fold)} of '
                      f'{report.num_folds_total} folds')
    elif short:
        short_note = f'\nincomplete: {len(short)} fold(s) lack clips'

    headline = report.row()
    atomic_json_dump(json_safe(dict(
        config=config, classes=list(classes), folds=[f.subject for f in folds],
        missing_folds=list(missing), complete=report.complete,
        short_folds=[dict(subject=s, clips=got, clips_expected=want)
                     for s, got, want in short],
        incomplete=note or None, headline=headline, pooled=pooled,
        keyframe_apex=kf, per_fold=per_fold)),
                     osp.join(work_dir, 'loso_summary.json'))
    atomic_write_text(markdown + '\n', osp.join(work_dir, 'loso_summary.md'))
    flat = dict(headline)
    flat.update({k: v for k, v in pooled.items() if k != 'confusion_matrix'})
    flat.update({f'keyframe/{k}': v for k, v in kf.items()
                 if not isinstance(v, list)})
    atomic_write_text(_csv_text(flat), osp.join(work_dir, 'loso_summary.csv'))
    atomic_write_text(
        (f'**{note}**\n\n' if note else '') +
        md_table(['fold', 'subject', 'clips', 'of the protocol', 'correct',
                  'acc', 'UF1', 'UAR'],
                 [[r['fold'], r['subject'], r['num_samples'],
                   r['clips_expected'], r['correct'], r['acc'], r['UF1'],
                   r['UAR']] for r in per_fold] +
                 [['all', f'{len(per_fold)} folds', pooled['num_samples'],
                   _expected_total(per_fold, missing),
                   sum(r['correct'] for r in per_fold), pooled['acc'],
                   pooled['UF1'], pooled['UAR']]]) +
        '\n\nUF1/UAR per fold are n/a where a fold lacks a class (undefined); '
        'the row "all" is the pooled predictions (loso_summary.md); "of the '
        'protocol": the clips of the subject in the annotation (n/a: not '
        'known, or folds missing).\n',
        osp.join(work_dir, 'per_fold.md'))
    plot_confusion_matrix(
        pooled['confusion_matrix'], classes,
        osp.join(work_dir, 'confusion_matrix.png'),
        title=f'{title or "LOSO"} (pooled, {pooled["num_samples"]} clips)'
        + short_note)
    if kf.get('num_clips'):
        apex_offset_histogram(
            kf['dist_frames'], fps=kf['fps'],
            title=f'|apex − max-β key frame| over {kf["num_clips"]} clips'
            + short_note, out=osp.join(work_dir, 'keyframe_apex.png'))
    drawn = 0
    per_clip = Counter((s.get('subject'), s.get('clip_id')) for s in samples)
    for s in samples:
        if drawn >= MAX_CLIP_FIGURES:
            break
        if s.get('frame_weights') is None or s.get('key_frames') is None:
            continue
        name = f"{s.get('subject', '')}_{s.get('clip_id', drawn)}"
        if per_clip[(s.get('subject'), s.get('clip_id'))] > 1:
            name += f"_{s.get('onset')}-{s.get('offset')}"  # one per sample
        plot_key_frames(
            s['frame_weights'], s['key_frames'],
            frame_numbers=s.get('frame_numbers_fed'), apex=s.get('apex'),
            fps=s.get('fps'), probs=s.get('pred_score'), classes=classes,
            title=f"{s.get('subject')} {s.get('clip_id')} "
                  f"(gt {classes[s['gt_label']]})",
            out=osp.join(work_dir, 'keyframes',
                         name.replace('/', '_') + '.png'))
        drawn += 1
    return report


def write_method_table(rows: Sequence[Tuple[str, LosoReport]],
                       out_dir: str) -> str:
    """One pooled table over methods; written as summary.{md,json,csv}."""
    header = ['method', 'acc', 'UF1', 'UAR', 'apex in key frames',
              'median abs(apex − max-β key frame) (ms)', 'clips']
    table_rows, records = [], []
    for name, rep in rows:
        r = rep.row()
        has_kf = bool(r['keyframe_clips'])
        label = name if r['complete'] else (
            f"{name} (incomplete: {r['folds']} of {r['folds_total']} folds)")
        table_rows.append([label, r['acc'], r['UF1'], r['UAR'],
                           r['apex_in_key'] if has_kf else float('nan'),
                           (f"{r['dist_ms_median']:.1f}" if has_kf and not
                            math.isnan(r['dist_ms_median']) else
                            float('nan')),
                           r['num_samples']])
        records.append(dict(method=name, **r))
    table = md_table(header, table_rows)
    atomic_write_text(table + '\n', osp.join(out_dir, 'summary.md'))
    atomic_json_dump(json_safe(records), osp.join(out_dir, 'summary.json'))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(records[0]))
    w.writeheader()
    w.writerows(records)
    atomic_write_text(buf.getvalue(), osp.join(out_dir, 'summary.csv'))
    return table
