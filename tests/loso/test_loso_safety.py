"""LOSO never reports numbers its folds did not produce: seeds frozen per
work dir, bit-reproducible default threads, safe prediction files, clear
argument errors."""
import contextlib
import io
import os
import os.path as osp
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

import loso_testlib as lib
from mmakm.engine.safe_pickle import UnsafePickleError
from mmakm.loso.report import load_predictions
from mmakm.loso.runner import FoldRunner, fold_threads


# ------------------------------------------------------------------ seeds
class _NoRun:
    """FoldRunner stand-in: fold configs are written, nothing is run."""

    def __init__(self, **kwargs):
        pass

    def run(self, folds):
        return {}


def test_changed_seed_is_refused(tiny_config, tmp_path, monkeypatch):
    import mmakm.loso.experiment as experiment
    from mmakm.loso import LosoSetupError, run_loso
    monkeypatch.setattr(experiment, 'FoldRunner', _NoRun)
    work_dir = str(tmp_path / 'exp')
    quiet = dict(log=lambda m: None, folds=['sub01'])
    result = run_loso(tiny_config, work_dir, seed=0, **quiet)
    fold_cfg = open(result.folds[0].config_path).read()
    assert "seed=0" in fold_cfg  # the seed is part of the frozen config
    run_loso(tiny_config, work_dir, seed=0, **quiet)  # same seed: resumes
    with pytest.raises(LosoSetupError) as e:
        run_loso(tiny_config, work_dir, seed=1, **quiet)
    assert 'use seed 0, this run asks for seed 1' in str(e.value)
    with pytest.raises(LosoSetupError, match='asks for seed 1'):
        run_loso(tiny_config, work_dir, seed=1, report_only=True, **quiet)
    # without the plan, the frozen fold config still refuses the new seed
    os.remove(osp.join(work_dir, 'loso_plan.json'))
    with pytest.raises(RuntimeError, match='--seed.*changed since'):
        run_loso(tiny_config, work_dir, seed=1, **quiet)


def test_unknown_fold_prints_the_message_alone(tiny_config, tmp_path):
    sys.path.insert(0, lib.TOOLS)
    import loso
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = loso.main([tiny_config, '--work-dir', str(tmp_path / 'w'),
                        '--folds', 'sub42'])
    assert rc == 2
    assert err.getvalue().startswith("error: unknown subject(s) ['sub42']; "
                                     "the protocol has ['casme2/sub01'")
    assert 'Traceback' not in err.getvalue()


# ---------------------------------------------------------------- threads
def test_fold_threads_respect_the_user(monkeypatch):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    assert fold_threads() == 1  # documented default: bit-reproducible
    assert FoldRunner(jobs=4)._env()['OMP_NUM_THREADS'] == '1'
    monkeypatch.setenv('OMP_NUM_THREADS', '3')
    env = FoldRunner(jobs=2)._env()
    assert env['OMP_NUM_THREADS'] == env['MKL_NUM_THREADS'] == '3'
    assert FoldRunner(threads=2)._env()['OMP_NUM_THREADS'] == '2'
    monkeypatch.setenv('OMP_NUM_THREADS', 'many')
    with pytest.raises(ValueError, match="OMP_NUM_THREADS='many'"):
        fold_threads()


def test_same_fold_twice_under_the_default_is_bit_identical(
        tiny_config, tmp_path, monkeypatch):
    from mmakm.engine import apply_randomness_args
    from mmakm.loso.experiment import write_fold_configs
    from mmakm.loso.plan import load_config, plan_folds
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    cfg = load_config(tiny_config, {'train_cfg.max_epochs': 1})
    apply_randomness_args(cfg, seed=0)
    folds = []
    for run in ('a', 'b'):
        fold, = plan_folds(str(tmp_path / run), ['casme2/sub01'])
        write_fold_configs(cfg, [fold])
        os.makedirs(fold.work_dir)
        folds.append(fold)
    runner = FoldRunner(jobs=2, log=lambda m: None)
    with ThreadPoolExecutor(2) as pool:  # both at once: same default env
        ckpts = list(pool.map(runner.train, folds))
    a, b = (torch.load(c, weights_only=True)['state_dict'] for c in ckpts)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


# --------------------------------------------------- safe prediction files
class _RunsCommand:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


class _StorageAttack:
    """A tensor storage whose bytes hide a pickle calling os.system."""

    def __init__(self, cmd):
        buf = io.BytesIO()
        torch.save(_RunsCommand(cmd), buf,
                   _use_new_zipfile_serialization=False)
        self.data = buf.getvalue()

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (self.data,))


@pytest.mark.parametrize('attack', [_RunsCommand, _StorageAttack])
def test_malicious_prediction_file_is_refused(tmp_path, attack):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'preds.pkl')
    with open(path, 'wb') as f:
        pickle.dump([dict(pred_score=np.ones(4) / 4, gt_label=0,
                          evil=attack(f'touch {marker}'))], f)
    with pytest.raises(ValueError) as e:
        load_predictions(path)
    assert path in str(e.value)
    if attack is _RunsCommand:
        assert isinstance(e.value, UnsafePickleError)
        assert 'refused to load posix.system' in str(e.value)
    assert not marker.exists()
    # the analysis tool refuses it too, with the message, exit code 2
    sys.path.insert(0, osp.join(lib.TOOLS, 'analysis'))
    import keyframe_plot
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert keyframe_plot.main([path, '--out', str(tmp_path)]) == 2
    assert path in err.getvalue() and not marker.exists()


@pytest.mark.parametrize('protocol', [2, 4])
def test_legitimate_dumps_load(tmp_path, protocol):
    sample = dict(pred_score=torch.tensor([0.1, 0.7, 0.2]),
                  pred_label=torch.tensor([1]), gt_label=torch.tensor([1]),
                  key_frames=torch.tensor([0, 2]),
                  frame_weights=torch.rand(4).double(),
                  frame_numbers_fed=np.arange(10, 14), apex=np.int64(12),
                  fps=200.0, subject='casme2/sub01', clip_id='EP02_01f',
                  img_shape=(64, 64), extra={'a', 'b'})
    path = str(tmp_path / 'preds.pkl')
    with open(path, 'wb') as f:
        pickle.dump([sample], f, protocol=protocol)
    got, = load_predictions(path)
    assert got['pred_label'] == got['gt_label'] == 1
    np.testing.assert_allclose(got['pred_score'], [0.1, 0.7, 0.2], rtol=1e-6)
    np.testing.assert_array_equal(got['frame_numbers_fed'], [10, 11, 12, 13])
    assert got['subject'] == 'casme2/sub01'


def test_empty_truncated_and_foreign_prediction_files(tmp_path):
    path = tmp_path / 'p.pkl'
    path.write_bytes(b'')
    with pytest.raises(ValueError, match=r'p\.pkl: empty prediction file'):
        load_predictions(str(path))
    data = pickle.dumps([dict(pred_score=np.ones(3), gt_label=0)] * 5)
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r'p\.pkl: truncated prediction'):
        load_predictions(str(path))
    path.write_bytes(pickle.dumps({'not': 'a list'}))
    with pytest.raises(ValueError, match='not a prediction dump'):
        load_predictions(str(path))
