"""End to end: tools/loso.py -> tools/train.py + tools/test.py per fold on a
tiny synthetic corpus; kill mid-fold and resume; report tools."""
import json
import os
import os.path as osp
import pickle
import signal
import subprocess
import time

import numpy as np

import loso_testlib as lib

FOLDS = ('fold_casme2_sub01', 'fold_casme2_sub02')


def _summary(work_dir):
    with open(osp.join(work_dir, 'loso_summary.json')) as f:
        return json.load(f)


def _preds(work_dir):
    out = []
    for fold in FOLDS:
        with open(osp.join(work_dir, fold, 'predictions.pkl'), 'rb') as f:
            out += pickle.load(f)
    return out


def _train_commands(fold_dir):
    with open(osp.join(fold_dir, 'train.log')) as f:
        return [l for l in f if l.startswith('$ ') and 'train.py' in l]


def _leftovers(work_dir):
    bad = []
    for root, _, files in os.walk(work_dir):
        bad += [osp.join(root, n) for n in files
                if n.endswith('.tmp') or 'partial' in n]
    return bad


def test_loso_end_to_end(reference_run):
    work_dir, stdout = reference_run
    for name in ('loso_summary.md', 'loso_summary.json', 'loso_summary.csv',
                 'per_fold.md', 'confusion_matrix.png', 'keyframe_apex.png',
                 'loso_plan.json'):
        assert osp.getsize(osp.join(work_dir, name)) > 0, name
    assert os.listdir(osp.join(work_dir, 'keyframes'))
    assert '| acc | UF1 | UAR |' in stdout
    assert 'fold 2/2' in stdout
    summary = _summary(work_dir)
    assert summary['folds'] == ['casme2/sub01', 'casme2/sub02']
    assert summary['pooled']['num_samples'] == 8  # 4 clips x 2 held-out
    assert 0 <= summary['pooled']['UF1'] <= 1
    assert summary['keyframe_apex']['num_clips'] == 8
    assert not _leftovers(work_dir)
    # every fold tested only its own subject, with its last checkpoint
    for fold, subject in zip(FOLDS, summary['folds']):
        with open(osp.join(work_dir, fold, 'predictions.pkl'), 'rb') as f:
            preds = pickle.load(f)
        assert {p['subject'] for p in preds} == {subject}
        for p in preds:
            assert abs(float(p['pred_score'].sum()) - 1) < 1e-4
            assert len(p['frame_weights']) == len(p['frame_numbers_fed'])
        with open(osp.join(work_dir, fold, 'train_done.json')) as f:
            assert json.load(f)['checkpoint'].endswith('epoch_2.pth')


def test_fold_configs_are_leak_free(reference_run):
    from mmengine.config import Config
    work_dir, _ = reference_run
    for fold, subject in zip(FOLDS, ('casme2/sub01', 'casme2/sub02')):
        cfg = Config.fromfile(osp.join(work_dir, 'fold_configs', fold + '.py'))
        assert subject in cfg.train_dataloader.dataset.exclude_subjects
        assert cfg.test_dataloader.dataset.subjects == [subject]
        assert cfg.val_dataloader is None and cfg.val_cfg is None


def test_rerun_skips_finished_folds(reference_run):
    work_dir, _ = reference_run
    before = {f: os.stat(osp.join(work_dir, f, 'predictions.pkl'))
              for f in FOLDS}
    summary = _summary(work_dir)
    proc = lib.run(lib.loso_cmd(lib_config(work_dir), work_dir))
    assert '2 already finished, 0 to run' in proc.stdout
    for f in FOLDS:
        st = os.stat(osp.join(work_dir, f, 'predictions.pkl'))
        assert (st.st_ino, st.st_mtime_ns) == (before[f].st_ino,
                                               before[f].st_mtime_ns)
        assert len(_train_commands(osp.join(work_dir, f))) == 1
    assert _summary(work_dir)['pooled'] == summary['pooled']


def lib_config(work_dir):
    with open(osp.join(work_dir, 'loso_plan.json')) as f:
        return json.load(f)['config']


def test_killed_mid_fold_resumes_to_same_result(tiny_config, reference_run,
                                                tmp_path):
    from mmakm.engine import find_resume_checkpoint
    ref_dir, _ = reference_run
    work_dir = str(tmp_path / 'killed')
    fold1, fold2 = (osp.join(work_dir, f) for f in FOLDS)
    proc = subprocess.Popen(lib.loso_cmd(tiny_config, work_dir), cwd=lib.REPO,
                            env=lib.tool_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    try:
        # kill the whole process group (loso.py + its train/test children)
        # once fold 1 is finished and fold 2 has saved a checkpoint
        while time.time() < deadline:
            assert proc.poll() is None, 'LOSO finished before it was killed'
            if (osp.isfile(osp.join(fold1, 'predictions.pkl'))
                    and osp.isdir(fold2) and find_resume_checkpoint(fold2)):
                break
            time.sleep(0.05)
        else:
            raise AssertionError('fold 2 never saved a checkpoint')
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not osp.exists(osp.join(fold2, 'predictions.pkl'))
    st1 = os.stat(osp.join(fold1, 'predictions.pkl'))
    fold2_trained = osp.isfile(osp.join(fold2, 'train_done.json'))

    lib.run(lib.loso_cmd(tiny_config, work_dir))

    st1b = os.stat(osp.join(fold1, 'predictions.pkl'))
    assert (st1b.st_ino, st1b.st_mtime_ns) == (st1.st_ino, st1.st_mtime_ns)
    assert len(_train_commands(fold1)) == 1  # fold 1 not retrained
    cmds2 = _train_commands(fold2)
    if fold2_trained:  # killed while testing: tested again, not retrained
        assert len(cmds2) == 1
    else:  # killed while training: resumed from its checkpoint
        assert len(cmds2) == 2 and '--resume' in cmds2[1]
    assert not _leftovers(work_dir)
    # same pooled result as the uninterrupted run
    assert _summary(work_dir)['pooled'] == _summary(ref_dir)['pooled']
    got, ref = _preds(work_dir), _preds(ref_dir)
    assert [p['clip_id'] for p in got] == [p['clip_id'] for p in ref]
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a['pred_score'], b['pred_score'],
                                   rtol=0, atol=1e-6)
        np.testing.assert_allclose(a['frame_weights'], b['frame_weights'],
                                   rtol=0, atol=1e-6)


def test_report_and_keyframe_tools(reference_run, tmp_path):
    work_dir, _ = reference_run
    summary = _summary(work_dir)
    os.remove(osp.join(work_dir, 'loso_summary.json'))
    proc = lib.run([lib.sys.executable,
                    osp.join(lib.TOOLS, 'analysis', 'loso_report.py'),
                    work_dir])
    assert '| acc | UF1 | UAR |' in proc.stdout
    assert _summary(work_dir)['pooled'] == summary['pooled']
    out = str(tmp_path / 'kf')
    lib.run([lib.sys.executable,
             osp.join(lib.TOOLS, 'analysis', 'keyframe_plot.py'),
             osp.join(work_dir, FOLDS[0], 'predictions.pkl'), '--out', out,
             '--config', osp.join(work_dir, 'fold_configs', FOLDS[0] + '.py'),
             '--max', '2'])
    names = sorted(os.listdir(out))
    assert 'keyframe_apex.png' in names and len(names) == 3
