"""Reproducibility helpers: --resume with data workers (a resumed run
repeats the uninterrupted one with num_workers=0 or non-persistent workers,
tested end to end in test_train_test.py; with persistent workers it cannot,
and says so) and tools/misc/compare_checkpoints.py."""
import logging
import os.path as osp
import runpy

import torch
from mmengine.hooks import CheckpointHook
from torch.utils.data import DataLoader

from mmakm.engine import AtomicCheckpointHook, get_rng_state
from mmakm.engine.hooks import atomic_checkpoint_hook as hook_module
from mmakm.engine.hooks.atomic_checkpoint_hook import persistent_worker_rng

from tools_testlib import REPO


def _loader(num_workers, persistent):
    return DataLoader(list(range(4)), num_workers=num_workers,
                      persistent_workers=persistent)


def test_only_persistent_workers_lose_their_rng_state():
    assert persistent_worker_rng(_loader(0, False)) is None
    assert persistent_worker_rng(_loader(2, False)) is None
    why = persistent_worker_rng(_loader(2, True))
    assert 'persistent_workers=True' in why
    assert 'persistent_workers=False (or num_workers=0)' in why


class _Runner:
    def __init__(self, loader):
        self.train_dataloader = loader


def test_resume_with_persistent_workers_warns(monkeypatch):
    logged = []
    monkeypatch.setattr(CheckpointHook, 'before_train', lambda s, r: None)
    monkeypatch.setattr(hook_module, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    hook = AtomicCheckpointHook(interval=1)
    for loader, warned in ((_loader(2, False), False),
                           (_loader(2, True), True)):
        logged.clear()
        hook._rng_to_restore = get_rng_state()
        before = torch.get_rng_state()
        torch.rand(3)  # the restore must bring the state back
        hook.before_train(_Runner(loader))
        assert torch.equal(torch.get_rng_state(), before)
        warnings = [m for m, kw in logged
                    if kw.get('level') == logging.WARNING]
        assert bool(warnings) == warned, logged
        if warned:
            assert 'persistent_workers=True' in warnings[0]
    # no resume: nothing restored, nothing said
    logged.clear()
    hook.before_train(_Runner(_loader(2, True)))
    assert logged == []


def _compare_tool():
    return runpy.run_path(osp.join(REPO, 'tools', 'misc',
                                   'compare_checkpoints.py'))


def test_compare_checkpoints(tmp_path, capsys):
    tool = _compare_tool()
    sd = {'w': torch.arange(4.), 'n': torch.tensor(3)}
    paths = {}
    for name, state in (('a', sd), ('same', dict(sd)),
                        ('off', dict(sd, w=torch.arange(4.) + 0.5)),
                        ('extra', dict(sd, x=torch.ones(1)))):
        paths[name] = str(tmp_path / f'{name}.pth')
        torch.save(dict(state_dict=state, meta={}), paths[name])
    assert tool['main']([paths['a'], paths['same']]) == 0
    assert capsys.readouterr().out.strip().endswith('identical')
    assert tool['main']([paths['a'], paths['off']]) == 1
    assert 'max abs difference 0.5 (w)' in capsys.readouterr().out
    assert tool['main']([paths['a'], paths['extra']]) == 1
    assert 'only b: x' in capsys.readouterr().out
    r = tool['compare_state_dicts'](sd, dict(sd, n=torch.tensor(4)))
    assert not r['identical'] and r['key'] == 'n'


def test_resume_from_inside_an_epoch_is_refused(monkeypatch):
    """mmengine's EpochBasedTrainLoop reruns a resumed epoch from its first
    batch: from an iteration checkpoint saved mid-epoch the resumed run
    would train more iterations than the uninterrupted one, silently."""
    import pytest
    from mmengine.runner import EpochBasedTrainLoop

    from mmakm.engine import ConfigMismatchError
    from mmakm.engine.hooks.atomic_checkpoint_hook import mid_epoch_resume

    def loop(epoch, it, per_epoch=6):
        lp = EpochBasedTrainLoop.__new__(EpochBasedTrainLoop)
        lp._epoch, lp._iter, lp.dataloader = epoch, it, list(range(per_epoch))
        return lp

    assert mid_epoch_resume(loop(0, 0)) is None  # a fresh run
    assert mid_epoch_resume(loop(2, 12)) is None  # epoch_2.pth
    why = mid_epoch_resume(loop(1, 9))  # iter_9.pth: 3 batches into epoch 2
    assert 'saved at iteration 9, inside epoch 2' in why
    assert mid_epoch_resume(None) is None  # not an epoch-based loop

    class _LoopRunner(_Runner):
        train_loop = loop(1, 9)
    monkeypatch.setattr(CheckpointHook, 'before_train', lambda s, r: None)
    hook = AtomicCheckpointHook(interval=1)
    with pytest.raises(ConfigMismatchError, match='--resume: the checkpoint '
                       'was saved at iteration 9'):
        hook.before_train(_LoopRunner(_loader(0, False)))
