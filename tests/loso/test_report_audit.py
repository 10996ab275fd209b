"""The pooled LOSO report as an outside reader checks it: missing folds are
marked in every output, never silently left out; a clip is pooled once; a
fold holds its own subject only; predictions that do not fit the class
setup are refused naming the file; the JSON / CSV agree with the printed
table; the plots are written and labelled."""
import csv
import json
import os
import os.path as osp
import pickle
import sys

import cv2
import numpy as np
import pytest

import loso_testlib as lib
from mmakm.loso.plan import plan_folds
from mmakm.loso.report import (MAX_CLIP_FIGURES, build_report,
                               write_method_table)
from mmakm.loso.suite import Method, RunResult, aggregate, suite_tables

CLASSES = ('positive', 'negative', 'surprise', 'others')
SUBJECTS = ('casme2/sub01', 'casme2/sub02', 'casme2/sub03')
PNG = b'\x89PNG\r\n\x1a\n'


def fold_preds(subject, labels, k=4, apex=104):
    """One fold's predictions (gt, pred) as tools/test.py --dump writes
    them; clips of 8 fed frames 100, 102, ..., 114 at 200 fps."""
    out = []
    for i, (gt, pred) in enumerate(labels):
        score = np.full(k, 0.1 / (k - 1))
        score[pred] = 0.9
        beta = np.linspace(0.1, 0.8, 8)
        out.append(dict(
            pred_score=score, pred_label=pred, gt_label=gt,
            subject=subject, corpus='casme2', clip_id=f'EP0{i}',
            onset=100, apex=apex if i else -1, offset=115, fps=200.0,
            frame_numbers_fed=np.arange(100, 116, 2),
            key_frames=np.array([5, 6, 7]), frame_weights=beta))
    return out


LABELS = {'casme2/sub01': [(0, 0), (1, 1), (2, 1)],
          'casme2/sub02': [(3, 3), (0, 2)],
          'casme2/sub03': [(1, 1), (2, 2)]}


def write_folds(work_dir, preds_by_subject):
    folds = plan_folds(str(work_dir), sorted(preds_by_subject))
    for f in folds:
        os.makedirs(f.work_dir, exist_ok=True)
        with open(f.predictions, 'wb') as fh:
            pickle.dump(preds_by_subject[f.subject], fh)
    return folds


def write_plan(work_dir, folds, subjects=SUBJECTS):
    with open(osp.join(work_dir, 'loso_plan.json'), 'w') as f:
        json.dump(dict(config='configs/akm_synthetic.py',
                       subjects=list(subjects), classes=list(CLASSES),
                       folds=[dict(subject=x.subject, work_dir=x.work_dir)
                              for x in folds]), f)


@pytest.fixture
def captured_figures(monkeypatch):
    """Title and axis labels of every figure the report writes (and the
    PNG written as usual)."""
    from mmakm import visualization
    real, seen = visualization.savefig_atomic, {}

    def capture(fig, path, **kwargs):
        ax = fig.axes[0]
        seen[osp.basename(path)] = dict(
            title=ax.get_title() or fig._suptitle.get_text(),
            xlabel=ax.get_xlabel(), ylabel=ax.get_ylabel(),
            xticks=[t.get_text() for t in ax.get_xticklabels()])
        real(fig, path, **kwargs)
    monkeypatch.setattr(visualization, 'savefig_atomic', capture)
    monkeypatch.setattr('mmakm.visualization.keyframes.savefig_atomic',
                        capture)
    return seen


def md_row(markdown, header_start):
    """The first data row of the markdown table whose header starts so."""
    lines = markdown.splitlines()
    i = next(i for i, l in enumerate(lines) if l.startswith(header_start))
    return [c.strip() for c in lines[i + 2].strip('|').split('|')]


def test_missing_fold_is_marked_in_every_output(tmp_path, captured_figures):
    preds = {s: fold_preds(s, LABELS[s]) for s in SUBJECTS[:2]}
    folds = write_folds(tmp_path, preds)
    report = build_report(str(tmp_path), folds, CLASSES,
                          missing=['casme2/sub03'])
    assert not report.complete and report.num_folds_total == 3
    note = 'Incomplete: 2 of 3 folds (missing: casme2/sub03)'
    assert f'**{note}**' in report.markdown
    assert note in (tmp_path / 'per_fold.md').read_text()
    summary = json.loads((tmp_path / 'loso_summary.json').read_text())
    assert summary['complete'] is False and summary['incomplete'] == note
    assert summary['missing_folds'] == ['casme2/sub03']
    assert summary['headline']['folds'] == 2
    assert summary['headline']['folds_total'] == 3
    flat = dict(csv.reader(open(tmp_path / 'loso_summary.csv')))
    assert flat['complete'] == 'False' and flat['folds_total'] == '3'
    for name in ('confusion_matrix.png', 'keyframe_apex.png'):
        assert 'incomplete: 2 of 3 folds' in captured_figures[name]['title']
    table = write_method_table([('AKMNet', report)], str(tmp_path))
    assert 'AKMNet (incomplete: 2 of 3 folds)' in table
    # a seed pooled over part of its folds is not a result of the suite
    run = RunResult(Method('AKMNet', 'a.py', (0, )), 0, str(tmp_path),
                    report, 1.0)
    (rec, ) = aggregate([run])
    assert rec['seeds'] == [] and rec['missing_seeds'] == [0]
    assert '**Not finished:** AKMNet (seeds [0])' in suite_tables([rec])

    whole = write_folds(tmp_path / 'all', {s: fold_preds(s, LABELS[s])
                                           for s in SUBJECTS})
    full = build_report(str(tmp_path / 'all'), whole, CLASSES)
    assert full.complete and 'Incomplete' not in full.markdown
    assert json.loads((tmp_path / 'all' / 'loso_summary.json').read_text()
                      )['incomplete'] is None


def test_report_files_agree_with_the_printed_table(tmp_path,
                                                   captured_figures):
    folds = write_folds(tmp_path, {s: fold_preds(s, LABELS[s])
                                   for s in SUBJECTS})
    report = build_report(str(tmp_path), folds, CLASSES)
    summary = json.loads((tmp_path / 'loso_summary.json').read_text())
    flat = dict(csv.reader(open(tmp_path / 'loso_summary.csv')))
    acc, uf1, uar, clips = md_row(report.markdown, '| acc | UF1 | UAR |')
    # gt 0 0 1 1 2 2 3, pred 0 2 1 1 1 2 3 (7 clips): acc 5/7
    assert float(acc) == pytest.approx(5 / 7, abs=5e-5) and clips == '7'
    for key, shown in (('acc', acc), ('UF1', uf1), ('UAR', uar)):
        assert f"{summary['pooled'][key]:.4f}" == shown
        assert f'{float(flat[key]):.4f}' == shown
    rows = {r[0]: r for r in (
        [c.strip() for c in line.strip('|').split('|')]
        for line in report.markdown.splitlines()
        if line.split(' | ')[0][2:] in CLASSES)}
    assert list(rows) == list(CLASSES)  # the class setup's order
    for c in CLASSES:
        _, support, precision, recall, f1 = rows[c]
        assert int(support) == summary['pooled'][f'support/{c}'] == int(
            flat[f'support/{c}'])
        for shown, key in ((precision, 'precision'), (recall, 'recall'),
                           (f1, 'f1')):
            value = summary['pooled'][f'{key}/{c}']
            assert shown == ('n/a' if value is None else f'{value:.4f}')
    kf = md_row(report.markdown, '| clips with apex |')
    # 4 of the 7 clips have an apex (the first of each fold has none)
    assert kf[0] == '4' == flat['keyframe/num_clips']
    assert summary['keyframe_apex']['num_excluded_no_apex'] == 3
    assert ('Excluded from the key-frame statistics: 3 clip(s) without '
            'apex annotation.') in report.markdown
    # the apex (frame 104, position 2) vs the max-β key frame (position 7,
    # frame 114): 10 frames = 50 ms at 200 fps
    assert float(kf[3]) == 10 and float(kf[6]) == 50
    cm_fig = captured_figures['confusion_matrix.png']
    assert cm_fig['xticks'] == list(CLASSES)
    assert (cm_fig['xlabel'], cm_fig['ylabel']) == ('predicted',
                                                    'ground truth')
    hist = captured_figures['keyframe_apex.png']
    assert hist['xlabel'] == '|apex − max-β key frame| (frames)'
    clip_figs = [osp.join('keyframes', n)
                 for n in os.listdir(tmp_path / 'keyframes')]
    assert len(clip_figs) == MAX_CLIP_FIGURES  # one per clip, at most
    for name in ['confusion_matrix.png', 'keyframe_apex.png'] + clip_figs:
        img = cv2.imread(str(tmp_path / name))  # decodes: a complete PNG
        assert img is not None and img.shape[0] > 100, name


def test_report_says_which_classes_the_means_cover(tmp_path):
    # no clip of 'others'; 'surprise' has no clip but is predicted once
    preds = {'casme2/sub01': fold_preds('casme2/sub01', [(0, 0), (1, 2)]),
             'casme2/sub02': fold_preds('casme2/sub02', [(1, 1), (0, 0)])}
    report = build_report(str(tmp_path), write_folds(tmp_path, preds),
                          CLASSES)
    assert report.pooled['UAR_num_classes'] == 2
    assert report.pooled['UF1_num_classes'] == 2
    assert ('UF1 and UAR are means over the 2 of 4 classes with clips (no '
            'clip: surprise, others); predicted nonetheless: surprise (F1 0 '
            'in the table, not in the mean') in report.markdown
    # F1 positive 2*2/(4+0+0) = 1, negative 2*1/(2+0+1) = 2/3; surprise
    # (no clip) is out of both means; UAR = (2/2 + 1/2) / 2
    assert report.pooled['f1/surprise'] == 0
    assert report.pooled['UF1'] == pytest.approx((1 + 2 / 3) / 2)
    assert report.pooled['UAR'] == pytest.approx(0.75)


@pytest.mark.parametrize('defect,message', [
    ('duplicate', r'fold_casme2_sub02/predictions\.pkl: sample 0 \(EP00, '
                  r'casme2/sub01\) \(onset 100, offset 115\) is already in '
                  r'.*fold_casme2_sub01/predictions\.pkl'),
    ('other_subject', r'fold_casme2_sub02/predictions\.pkl: sample 0 .* is '
                      r'of subject casme2/sub01, not of the held-out subject'
                      r' casme2/sub02'),
    ('five_classes', r'fold_casme2_sub01/predictions\.pkl: sample 0 .* has 5 '
                     r'class scores; the class setup has 4 classes'),
])
def test_predictions_that_cannot_be_pooled_are_refused(tmp_path, defect,
                                                       message):
    preds = {s: fold_preds(s, LABELS[s]) for s in SUBJECTS[:2]}
    if defect == 'duplicate':  # sub01's clip again in sub02's file
        preds['casme2/sub02'] = preds['casme2/sub01'][:1]
        preds['casme2/sub02'][0] = dict(preds['casme2/sub02'][0])
    elif defect == 'other_subject':
        preds['casme2/sub02'] = fold_preds('casme2/sub01', [(0, 0)])
    else:
        preds['casme2/sub01'] = fold_preds('casme2/sub01', [(0, 4)], k=5)
    folds = write_folds(tmp_path, preds)
    if defect == 'duplicate':  # the file itself names its fold's subject
        folds[1].subject = 'casme2/sub01'
    with pytest.raises(ValueError, match=message):
        build_report(str(tmp_path), folds, CLASSES)
    assert not osp.exists(tmp_path / 'loso_summary.json')


def test_report_tool_marks_folds_outside_the_plan_and_reruns_identically(
        tmp_path, capsys):
    sys.path.insert(0, osp.join(lib.TOOLS, 'analysis'))
    import loso_report
    folds = write_folds(tmp_path, {s: fold_preds(s, LABELS[s])
                                   for s in SUBJECTS[:2]})
    # a --folds run over two of the protocol's three subjects
    write_plan(tmp_path, folds)
    assert loso_report.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert '**Incomplete: 2 of 3 folds (missing: casme2/sub03)**' in out
    first = (tmp_path / 'loso_summary.json').read_bytes()
    assert loso_report.main([str(tmp_path), '--quiet']) == 0
    assert (tmp_path / 'loso_summary.json').read_bytes() == first
    assert json.loads(first)['pooled']['num_samples'] == 5  # not 10
    leftovers = [n for _, _, files in os.walk(tmp_path) for n in files
                 if n.endswith('.tmp')]
    assert leftovers == []
    # an unpoolable fold: the message alone, no report files rewritten
    with open(folds[1].predictions, 'wb') as fh:
        pickle.dump(fold_preds('casme2/sub02', [(0, 4)], k=5), fh)
    assert loso_report.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and '5 class scores' in err
    assert (tmp_path / 'loso_summary.json').read_bytes() == first


def test_report_only_loso_names_every_missing_subject(tiny_config, tmp_path):
    from mmakm.loso import run_loso
    work_dir = tmp_path / 'exp'
    write_folds(work_dir, {s: fold_preds(s, LABELS[s]) for s in SUBJECTS[:2]})
    quiet = dict(log=lambda m: None, report_only=True, seed=0)
    res = run_loso(tiny_config, str(work_dir), **quiet)
    assert res.report.missing == ('casme2/sub03', )
    res = run_loso(tiny_config, str(work_dir), folds=['sub01'], **quiet)
    assert [r['subject'] for r in res.report.per_fold] == ['casme2/sub01']
    assert res.report.missing == ('casme2/sub02', 'casme2/sub03')
    assert 'Incomplete: 1 of 3 folds' in res.report.markdown


def test_keyframe_plot_tool_names_classes(tiny_config, tmp_path,
                                          monkeypatch, capsys):
    sys.path.insert(0, osp.join(lib.TOOLS, 'analysis'))
    import keyframe_plot
    titles = []
    monkeypatch.setattr(keyframe_plot, 'plot_key_frames',
                        lambda *a, **k: titles.append(
                            (k['title'], k['classes'])))
    path = tmp_path / 'preds.pkl'
    with open(path, 'wb') as fh:
        pickle.dump(fold_preds('casme2/sub01', LABELS['casme2/sub01']), fh)
    rc = keyframe_plot.main([str(path), '--out', str(tmp_path / 'kf'),
                             '--config', tiny_config])
    assert rc == 0
    assert titles[2] == ('casme2/sub01 EP02 (gt surprise, pred negative)',
                         CLASSES)
    out = capsys.readouterr().out
    assert '1 clip(s) without apex annotation left out' in out
    assert (tmp_path / 'kf' / 'keyframe_apex.png').read_bytes()[:8] == PNG
    # a dump of a 5-class model against the config's 4 classes
    with open(path, 'wb') as fh:
        pickle.dump(fold_preds('casme2/sub01', [(0, 4)], k=5), fh)
    assert keyframe_plot.main([str(path), '--out', str(tmp_path / 'kf2'),
                               '--config', tiny_config]) == 2
    assert '5 class scores' in capsys.readouterr().err


def test_keyframe_nuisance_reads_the_corpus_the_run_was_tested_on(
        tmp_path, capsys):
    """Before: data/synthetic was read whatever the run was tested on, and
    a corpus without ground truth was a traceback."""
    sys.path.insert(0, osp.join(lib.TOOLS, 'analysis'))
    import keyframe_nuisance
    work = tmp_path / 'run'
    folds = write_folds(work, {s: fold_preds(s, LABELS[s])
                               for s in SUBJECTS[:1]})
    write_plan(work, folds)
    corpus = tmp_path / 'tested_on'
    corpus.mkdir()
    os.makedirs(osp.dirname(folds[0].config_path))
    with open(folds[0].config_path, 'w') as f:
        f.write(f'test_dataloader = dict(dataset=dict(type="CASME2Dataset", '
                f'data_root={str(corpus)!r}))\n')
    assert keyframe_nuisance.main([str(work)]) == 2
    assert capsys.readouterr().err.strip() == (
        f'error: {corpus}/.mmakm_synthetic_truth.json not found: the '
        'statistics need a corpus written by tools/misc/make_synthetic.py '
        '(--corpus DIR)')
    # clip EP01 of sub01 fed frames 100..114 (fold_preds)
    (corpus / '.mmakm_synthetic_truth.json').write_text(json.dumps({
        'sub01/EP01': dict(first=100, movement_px=[0.0] * 16,
                           blink=[0.0] * 16, head_dx=[0.0] * 16,
                           head_dy=[0.0] * 16)}))
    assert keyframe_nuisance.main([str(work)]) == 0
    assert f'| {work} | 1 of 3 | 3 |' in capsys.readouterr().out


FAKE_TEST = '''
import argparse, pickle, sys
p = argparse.ArgumentParser()
p.add_argument('config'); p.add_argument('checkpoint')
p.add_argument('--work-dir'); p.add_argument('--dump')
a = p.parse_args()
if 'sub02' in a.config:
    sys.exit(3)  # this fold fails
pickle.dump([dict(pred_score=[0.7, 0.1, 0.1, 0.1], gt_label=0,
                  subject='casme2/sub01', clip_id='EP01')],
            open(a.dump, 'wb'))
'''


def test_failed_fold_gives_an_incomplete_report_not_a_stale_one(
        tiny_config, tmp_path, monkeypatch):
    from mmakm.loso import run_loso
    lib.install_fake_tools(tmp_path, monkeypatch, lib.FAKE_TRAIN,
                           FAKE_TEST)
    work_dir = tmp_path / 'exp'
    work_dir.mkdir()
    # the report of an earlier run that had all three folds
    (work_dir / 'loso_summary.json').write_text('{"complete": true}')
    res = run_loso(tiny_config, str(work_dir), folds=['sub01', 'sub02'],
                   seed=0, log=lambda m: None)
    assert res.failed == ['casme2/sub02']
    assert res.report.missing == ('casme2/sub02', 'casme2/sub03')
    summary = json.loads((work_dir / 'loso_summary.json').read_text())
    assert summary['complete'] is False
    assert summary['folds'] == ['casme2/sub01']
    assert summary['pooled']['num_samples'] == 1


def test_keyframe_nuisance_tool_pools_the_plan_with_the_same_checks(
        tmp_path, capsys):
    sys.path.insert(0, osp.join(lib.TOOLS, 'analysis'))
    import keyframe_nuisance
    corpus = tmp_path / 'corpus'
    corpus.mkdir()
    (corpus / '.mmakm_synthetic_truth.json').write_text('{}')
    work = tmp_path / 'run'
    folds = write_folds(work, {s: fold_preds(s, LABELS[s])
                               for s in SUBJECTS[:2]})
    write_plan(work, folds)
    # a predictions file left from an earlier run of another protocol: not
    # in the plan, so not pooled
    stray = work / 'fold_casme2_sub09'
    stray.mkdir()
    with open(stray / 'predictions.pkl', 'wb') as fh:
        pickle.dump(fold_preds('casme2/sub09', [(0, 0)] * 4), fh)
    args = [str(work), '--corpus', str(corpus)]
    assert keyframe_nuisance.main(args) == 0
    row = [line for line in capsys.readouterr().out.splitlines()
           if line.startswith(f'| {work} |')]
    assert row and row[0].split(' | ')[1:3] == ['2 of 3', '5']
    # a fold that may not be pooled: the message alone
    with open(folds[1].predictions, 'wb') as fh:
        pickle.dump(fold_preds('casme2/sub01', [(0, 0)]), fh)
    assert keyframe_nuisance.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'not of the held-out subject' in err
    assert keyframe_nuisance.main([str(tmp_path / 'nowhere'), '--corpus',
                                   str(corpus)]) == 2
    assert 'loso_plan.json not found' in capsys.readouterr().err
    (work / 'loso_plan.json').write_text('{"folds": [')  # cut short
    assert keyframe_nuisance.main(args) == 2
    assert 'loso_plan.json: unreadable plan' in capsys.readouterr().err


def test_samples_of_one_clip_get_one_figure_each(tmp_path):
    """Two samples of one clip (CAS(ME)^3 codes several movements of one
    recording): one key-frame figure each (before: the second overwrote
    the first)."""
    preds = {s: fold_preds(s, LABELS[s]) for s in SUBJECTS}
    second = preds['casme2/sub01'][1]
    second.update(clip_id='EP00', onset=200, offset=215,
                  frame_numbers_fed=np.arange(200, 216, 2))
    build_report(str(tmp_path), write_folds(tmp_path, preds), CLASSES)
    names = set(os.listdir(tmp_path / 'keyframes'))
    assert {'casme2_sub01_EP00_100-115.png',
            'casme2_sub01_EP00_200-215.png'} <= names
    assert 'casme2_sub01_EP02.png' in names  # a clip of one sample


def test_fold_without_all_its_clips_is_marked_incomplete(tmp_path,
                                                        captured_figures):
    """A fold whose predictions lack clips of its subject (a test loader
    with drop_last, a clip skipped as a bad sample) is not pooled as if
    complete; the per-fold table adds up to the pooled count."""
    preds = {s: fold_preds(s, LABELS[s]) for s in SUBJECTS}
    preds['casme2/sub02'] = preds['casme2/sub02'][:1]  # 1 of its 2 clips
    folds = write_folds(tmp_path, preds)
    expected = {s: len(LABELS[s]) for s in SUBJECTS}
    report = build_report(str(tmp_path), folds, CLASSES,
                          expected_clips=expected)
    assert not report.complete and report.missing == ()
    assert report.short == (('casme2/sub02', 1, 2), )
    note = ('Incomplete: predictions that do not hold every clip of their '
            'subject: casme2/sub02 (1 of 2 clips)')
    assert f'**{note}**' in report.markdown
    per_fold = (tmp_path / 'per_fold.md').read_text()
    assert note in per_fold
    summary = json.loads((tmp_path / 'loso_summary.json').read_text())
    assert summary['complete'] is False and summary['incomplete'] == note
    assert summary['short_folds'] == [dict(subject='casme2/sub02', clips=1,
                                           clips_expected=2)]
    assert summary['headline']['num_samples'] == 6
    assert summary['headline']['num_samples_expected'] == 7
    assert 'incomplete: 1 fold(s) lack clips' in \
        captured_figures['confusion_matrix.png']['title']
    assert 'incomplete' in write_method_table([('AKMNet', report)],
                                              str(tmp_path))
    # the per-fold rows add up to the row of the pooled predictions
    rows = [[c.strip() for c in line.strip('|').split('|')]
            for line in per_fold.splitlines() if line.startswith('| fold_')
            or line.startswith('| all')]
    assert [r[2] for r in rows] == ['3', '1', '2', '6']
    assert [r[3] for r in rows] == ['3', '2', '2', '7']
    assert int(rows[-1][4]) == sum(int(r[4]) for r in rows[:-1]) == 5
    assert rows[-1][5] == f"{5 / 6:.4f}"

    preds['casme2/sub02'] = fold_preds('casme2/sub02', LABELS['casme2/sub02'])
    whole = write_folds(tmp_path / 'all', preds)
    full = build_report(str(tmp_path / 'all'), whole, CLASSES,
                        expected_clips=expected)
    assert full.complete and 'Incomplete' not in full.markdown
    assert full.row()['num_samples_expected'] == 7


def test_plan_counts_each_subject_s_clips_as_its_fold_tests_them(
        tiny_config, tmp_path):
    from mmaction.registry import DATASETS

    from mmakm.loso import run_loso
    from mmakm.loso.plan import load_config
    work_dir = tmp_path / 'exp'
    write_folds(work_dir, {s: fold_preds(s, LABELS[s]) for s in SUBJECTS})
    res = run_loso(tiny_config, str(work_dir), log=lambda m: None,
                   report_only=True, seed=0)
    cfg = load_config(tiny_config)
    test = dict(cfg.test_dataloader.dataset, pipeline=[])
    # what each fold's test set holds, the dataset built as the fold builds it
    counts = {s: len(DATASETS.build(dict(test, subjects=[s])))
              for s in SUBJECTS}
    assert min(counts.values()) > 3  # more than fold_preds gives
    rows = {r['subject']: r for r in res.report.per_fold}
    assert {s: r['clips_expected'] for s, r in rows.items()} == counts
    assert res.report.short == tuple(
        (s, len(LABELS[s]), counts[s]) for s in SUBJECTS)
    assert not res.report.complete
