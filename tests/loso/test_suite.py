"""The LOSO suite behind ``make demo`` / ``make evidence``: seed
aggregation, random-selection references, tables, wall-time bookkeeping,
the generated block of docs/evidence.md; and the key-frame vs
movement/blink/head statistics."""
import importlib.util
import math
import os
import os.path as osp
import pickle

import numpy as np
import pytest

from mmakm.evaluation.nuisance import keyframe_nuisance_stats, spearman
from mmakm.loso.plan import plan_folds
from mmakm.loso.report import build_report
from mmakm.loso.suite import (Method, RunResult, _add_wall_time, aggregate,
                              random_reference, schedule, suite_tables)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ('a', 'b')


def _clip(subject, k, gt, pred, keys=(), apex=104, t=8, first=100):
    """A prediction of a clip whose fed frames are first..first+t-1."""
    score = np.full(2, 0.1)
    score[pred] = 0.9
    out = dict(gt_label=gt, pred_label=pred, pred_score=score,
               subject=f'casme2/{subject}', clip_id=f'EP0{k}', apex=apex,
               fps=200.0, frame_numbers_fed=np.arange(first, first + t))
    if keys:
        beta = np.full(t, 0.1)
        beta[list(keys)] = np.linspace(0.5, 0.9, len(keys))
        out.update(key_frames=np.asarray(keys), frame_weights=beta)
    return out


def _run(tmp_path, name, seed, preds_by_subject, wall=10.0):
    work_dir = str(tmp_path / name / f'seed{seed}')
    folds = plan_folds(work_dir, [f'casme2/{s}'
                                  for s in sorted(preds_by_subject)])
    for f in folds:
        os.makedirs(f.work_dir)
        with open(f.predictions, 'wb') as fh:
            pickle.dump(preds_by_subject[f.subject.split('/')[1]], fh)
    report = build_report(work_dir, folds, CLASSES)
    return RunResult(Method(name, f'configs/{name}.py', (0, 1)), seed,
                     work_dir, report, wall)


def test_aggregate_mean_std_over_seeds_and_reference(tmp_path):
    # seed 0: 3/4 right, seed 1: 2/4 right; key frames hold the apex (pos 4)
    s0 = {'s1': [_clip('s1', 1, 0, 0, (3, 4)), _clip('s1', 2, 1, 1, (4,))],
          's2': [_clip('s2', 1, 0, 0, (0, 1)), _clip('s2', 2, 1, 0, (4, 5))]}
    s1 = {'s1': [_clip('s1', 1, 0, 0, (3, 4)), _clip('s1', 2, 1, 0, (4,))],
          's2': [_clip('s2', 1, 0, 1, (0, 1)), _clip('s2', 2, 1, 1, (4, 5))]}
    runs = [_run(tmp_path, 'akm', 0, s0, wall=10), _run(tmp_path, 'akm', 1,
                                                        s1, wall=30)]
    (rec, ) = aggregate(runs)
    assert rec['seeds'] == [0, 1] and rec['missing_seeds'] == []
    assert rec['acc_per_seed'] == [0.75, 0.5]
    assert rec['acc'] == pytest.approx(0.625)
    assert rec['acc_std'] == pytest.approx(np.std([0.75, 0.5], ddof=1))
    assert rec['wall_s_per_seed'] == 20 and rec['wall_s_total'] == 40
    # apex (frame 104 = position 4) is a key frame in 3 of 4 clips
    assert rec['apex_in_key'] == pytest.approx(0.75)
    # random selection of the same size: mean N / T = (2+1+2+2) / 4 / 8
    assert rec['random_apex_in_key'] == pytest.approx(7 / 32)
    assert rec['key_ratio_mean'] == pytest.approx(7 / 32)
    table = suite_tables([rec])
    assert '0.625 ± 0.177' in table and '0.750, 0.500' not in table
    assert 'standard deviation over seeds, never over folds' in table
    assert '0.219' in table or '0.2188' in table


def test_random_reference_distance():
    # fed frames 100..107, apex 104: mean |104 - u| = (4+3+2+1+0+1+2+3)/8
    ref = random_reference([_clip('s', 1, 0, 0, (1, ))])
    assert ref['dist_frames_median'] == pytest.approx(2.0)
    assert ref['apex_in_key'] == pytest.approx(1 / 8)
    # clips without key frames or apex are left out
    nan = random_reference([_clip('s', 1, 0, 0), dict(_clip('s', 2, 0, 0,
                                                           (1, )), apex=-1)])
    assert math.isnan(nan['apex_in_key'])


def test_random_reference_counts_both_frames_around_a_midway_apex():
    from mmakm.evaluation.functional import keyframe_apex_stats

    # fed frames 100, 102, ..., 114 (every 2nd), apex 105: 104 and 106 are
    # equally near and both count as the apex, as in keyframe_apex_stats
    clip = dict(_clip('s', 1, 0, 0, (1, 5), apex=105),
                frame_numbers_fed=np.arange(100, 116, 2))
    assert keyframe_apex_stats([dict(clip, key_frames=np.array([3]))])[
        'apex_in_key'] == 1.0  # position 3 = frame 106
    # 2 of 8 frames at random hold 104 or 106 with 1 - C(6,2)/C(8,2)
    ref = random_reference([clip])
    assert ref['apex_in_key'] == pytest.approx(1 - 15 / 28)
    # an exhaustive count over every 2-frame subset agrees
    from itertools import combinations
    hits = [bool({2, 3} & set(c)) for c in combinations(range(8), 2)]
    assert ref['apex_in_key'] == pytest.approx(np.mean(hits))


def test_unfinished_and_keyframe_free_methods(tmp_path):
    tsn = _run(tmp_path, 'tsn', 0, {'s1': [_clip('s1', 1, 0, 0)],
                                    's2': [_clip('s2', 1, 1, 1)]})
    missing = RunResult(tsn.method, 1, str(tmp_path / 'x'), None, 5.0)
    (rec, ) = aggregate([tsn, missing])
    assert rec['seeds'] == [0] and rec['missing_seeds'] == [1]
    assert rec['acc'] == 1.0 and rec['acc_std'] == 0.0
    assert math.isnan(rec['apex_in_key'])
    table = suite_tables([rec])
    assert '**Not finished:** tsn (seeds [1])' in table
    assert 'n/a (no finished mining run)' in table


def test_schedule_runs_comparable_seeds_first():
    a, b = Method('a', 'a.py', (0, 1, 2)), Method('b', 'b.py', (0, 1))
    c, d = Method('c', 'c.py'), Method('d', 'd.py', (5, ))
    order = [(m.name, s) for m, s in schedule([c, a, d, b])]
    assert order == [('a', 0), ('b', 0), ('a', 1), ('b', 1), ('a', 2),
                     ('c', 0), ('d', 5)]
    # a seeds override applies to every method
    assert [(m.name, s) for m, s in schedule([a, c], seeds=(7, ))] == [
        ('a', 7), ('c', 7)]


def test_wall_time_accumulates_over_invocations(tmp_path):
    path = str(tmp_path / 'wall_time.json')
    assert _add_wall_time(path, 12.5, False) == 12.5
    assert _add_wall_time(path, 7.5, True) == 20.0


def _truth(t=8, first=100):
    mv = np.zeros(t)
    mv[3:6] = [0.5, 1.5, 0.5]
    blink = np.zeros(t)
    blink[6:8] = 1.0
    return {'s1/EP01': dict(first=first, movement_px=mv.tolist(),
                            blink=blink.tolist(),
                            head_dx=np.linspace(0, 3.5, t).tolist(),
                            head_dy=[0.0] * t)}


def test_nuisance_stats_follow_the_key_frames():
    truth = _truth()
    on_move = keyframe_nuisance_stats([_clip('s1', 1, 0, 0, (4, ))], truth)
    assert on_move['num_clips'] == 1
    assert on_move['key_in_movement'] == 1.0
    assert on_move['fed_in_movement'] == pytest.approx(1 / 8)
    assert on_move['key_in_blink'] == 0.0
    assert on_move['fed_in_blink'] == pytest.approx(2 / 8)
    assert on_move['key_head_px'] == pytest.approx(2.0)
    on_blink = keyframe_nuisance_stats([_clip('s1', 1, 0, 0, (6, 7))], truth)
    assert on_blink['key_in_blink'] == 1.0
    assert on_blink['key_in_movement'] == 0.0
    # β rises with frame index here, as does the head displacement
    assert on_blink['rho_beta_head'] > 0.5
    # clips unknown to the truth are not counted
    other = keyframe_nuisance_stats([_clip('s9', 1, 0, 0, (4, ))], truth)
    assert other['num_clips'] == 0 and math.isnan(other['key_in_movement'])


def test_nuisance_stats_refuse_the_truth_of_another_corpus():
    """Before: frames past the truth were an IndexError, frames before its
    first one silently wrapped round to the clip's end."""
    truth = _truth()
    for first in (104, 90):
        with pytest.raises(ValueError, match=r'clip s1/EP01: frames '
                           rf'{first}\.\.{first + 7} were fed, its ground '
                           r'truth covers 100\.\.107: the predictions were '
                           'made on another corpus'):
            keyframe_nuisance_stats(
                [_clip('s1', 1, 0, 0, (4, ), first=first)], truth)


def test_spearman():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert spearman(a, a ** 3) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert math.isnan(spearman(a, np.ones(4)))


def _evidence_tool():
    spec = importlib.util.spec_from_file_location(
        'evidence_tool', osp.join(REPO, 'tools', 'evidence.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_evidence_doc_block_and_rows(tmp_path):
    ev = _evidence_tool()
    doc = tmp_path / 'evidence.md'
    doc.write_text(f'# T\n\nintro\n\n{ev.BEGIN}\nold\n{ev.END}\n\nanalysis\n')
    ev.replace_block(str(doc), '| new |')
    assert doc.read_text() == (f'# T\n\nintro\n\n{ev.BEGIN}\n| new |\n'
                               f'{ev.END}\n\nanalysis\n')
    (tmp_path / 'plain.md').write_text('no markers\n')
    with pytest.raises(ValueError, match='evidence:begin'):
        ev.replace_block(str(tmp_path / 'plain.md'), 'x')
    # every row's config exists; the seeded rows have 3 seeds
    names = [m.name for m in ev.METHODS]
    for m in ev.METHODS:
        assert osp.isfile(osp.join(REPO, m.config)), m.config
    assert {m.name for m in ev.METHODS if len(m.seeds) == 3} == {
        'AKMNet', 'all frames', 'TSN-R18'}
    assert {'s12', 's13', 's23', 'random key frames', 'TIM-16', 'TIM-64',
            'single apex frame', 'I3D'} <= set(names)
    assert [m.name for m in ev.select(['TSN-R18'])] == ['TSN-R18']
    with pytest.raises(SystemExit, match='unknown'):
        ev.select(['nope'])
