"""mmakm.engine: atomic outputs, RNG state, launcher helpers, CLI merging."""
import os
import os.path as osp
import random
import textwrap

import numpy as np
import pytest
import torch

import mmakm  # noqa: F401
import mmakm.engine as engine
from mmengine.config import Config
from mmengine.fileio import dump, get_file_backend, load

from tools_testlib import (REPO, SYNTH_CFG, kill_at_random_moments,
                           load_tool)


_load_tool = load_tool


# ------------------------------------------------------------ atomic writes
def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / 'sub' / 'x.pth'
    engine.atomic_torch_save({'a': torch.arange(3)}, path)
    engine.atomic_torch_save({'a': torch.arange(5)}, path)
    assert torch.load(path)['a'].tolist() == list(range(5))
    assert os.listdir(path.parent) == ['x.pth']


def test_atomic_write_failure_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'x.json'
    engine.atomic_write_text('old', path)

    def boom(*args):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', boom)
    with pytest.raises(OSError):
        engine.atomic_write_text('new', path)
    monkeypatch.undo()
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['x.json']  # temp file cleaned up


def test_atomic_backend_used_by_mmengine_dump(tmp_path):
    backend = get_file_backend(
        str(tmp_path), backend_args=engine.ATOMIC_BACKEND_ARGS)
    assert isinstance(backend, engine.AtomicLocalBackend)
    out = str(tmp_path / 'r.pkl')
    dump([1, 2], out, backend_args=engine.ATOMIC_BACKEND_ARGS)
    assert load(out) == [1, 2]


_WRITER = textwrap.dedent('''
    import importlib.util, sys, torch
    # the module alone (not the whole mmakm package): quick start-up
    spec = importlib.util.spec_from_file_location(
        'fileio', {repo!r} + '/mmakm/engine/fileio.py')
    fileio = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fileio)
    atomic_torch_save = fileio.atomic_torch_save
    path, i = sys.argv[1], 0
    print('ready', flush=True)
    while True:
        i += 1
        atomic_torch_save({{'i': i, 'w': torch.full((3_000_000,), float(i))}},
                          path)
''')


def test_kill9_during_saves_never_exposes_partial_file(tmp_path):
    """A writer killed at random moments leaves a loadable file or none."""
    script = tmp_path / 'writer.py'
    script.write_text(_WRITER.format(repo=REPO))
    for _ in kill_at_random_moments(
            script, lambda t: tmp_path / f'ckpt_{t}.pth', max_delay=0.8):
        for name in os.listdir(tmp_path):
            if name.endswith('.pth'):
                ckpt = torch.load(tmp_path / name)
                assert torch.all(ckpt['w'] == float(ckpt['i']))


# ---------------------------------------------------------------- RNG state
def test_rng_state_roundtrip_through_weights_only_load(tmp_path):
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    state = engine.get_rng_state()
    engine.atomic_torch_save({'rng_states': [state]}, tmp_path / 'c.pth')
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    loaded = torch.load(tmp_path / 'c.pth', weights_only=True)
    engine.set_rng_state(loaded['rng_states'][0])
    assert (random.random(), np.random.rand(),
            torch.rand(1).item()) == expected


# -------------------------------------------------------- launcher helpers
def test_setup_cpu_distributed_switches_config(monkeypatch):
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert engine.setup_cpu_distributed(cfg, 'none') is False
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    if engine.accelerator_available():
        pytest.skip('CPU-only behaviour')
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    from tools_testlib import free_port
    monkeypatch.setenv('MASTER_PORT', str(free_port()))
    try:
        assert engine.setup_cpu_distributed(cfg, 'pytorch') is True
        assert torch.distributed.is_initialized()
        assert torch.distributed.get_backend() == 'gloo'
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'


def test_shutdown_distributed_leaves_the_group(tmp_path):
    engine.shutdown_distributed()  # no group: a no-op
    assert not torch.distributed.is_initialized()
    torch.distributed.init_process_group(
        'gloo', init_method=f'file://{tmp_path / "store"}', rank=0,
        world_size=1)
    try:
        import gc
        ddp = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))
        ddp.cycle = ddp  # as a Runner's hooks and wrappers refer back
        del ddp
        engine.shutdown_distributed()
        assert not torch.distributed.is_initialized()
        # the DDP (and the process group it held) went before the destroy
        assert not [o for o in gc.get_objects()
                    if type(o) is torch.nn.parallel.DistributedDataParallel]
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def test_find_resume_checkpoint(tmp_path):
    assert engine.find_resume_checkpoint(str(tmp_path)) is None
    for n in (1, 2, 10):
        (tmp_path / f'epoch_{n}.pth').write_bytes(b'x')
    assert engine.find_resume_checkpoint(str(tmp_path)).endswith(
        'epoch_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    assert engine.find_resume_checkpoint(str(tmp_path)).endswith(
        'epoch_2.pth')
    # a marker naming a missing file falls back to the newest present
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_11.pth'))
    assert engine.find_resume_checkpoint(str(tmp_path)).endswith(
        'epoch_10.pth')


# ----------------------------------------------------------- CLI merging
def test_train_args_merge(tmp_path):
    train = _load_tool('train')
    cfg = train.merge_args(
        Config.fromfile(SYNTH_CFG),
        train.parse_args([SYNTH_CFG, '--seed', '7', '--deterministic',
                          '--resume', '--cfg-options',
                          f'work_dir={tmp_path}']))
    assert cfg.work_dir == str(tmp_path)
    assert cfg.randomness.seed == 7 and cfg.randomness.deterministic
    assert cfg.resume is True and cfg.load_from is None  # nothing to resume
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'

    ckpt = str(tmp_path / 'epoch_3.pth')
    torch.save({}, ckpt)  # an empty file is refused as such
    cfg = train.merge_args(
        Config.fromfile(SYNTH_CFG),
        train.parse_args([SYNTH_CFG, '--resume', ckpt]))
    assert cfg.work_dir == osp.join('./work_dirs', 'akm_synthetic')
    assert cfg.resume is True and cfg.load_from == ckpt
    assert cfg.launcher == 'none'
    with pytest.raises(engine.UserInputError,
                       match='--resume: checkpoint not found: x/epoch_3.pth'):
        train.merge_args(Config.fromfile(SYNTH_CFG), train.parse_args(
            [SYNTH_CFG, '--resume', 'x/epoch_3.pth']))


def test_amp_uses_autocast_wrapper_on_any_device():
    """--amp: AutocastOptimWrapper (bf16 on CPU instead of a refusal)."""
    train = _load_tool('train')
    cfg = train.merge_args(Config.fromfile(SYNTH_CFG),
                           train.parse_args([SYNTH_CFG, '--amp']))
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'auto'
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'  # kept


def test_test_args_merge(tmp_path):
    test = _load_tool('test')
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save({}, ckpt)  # a file that is no checkpoint is refused
    cfg = test.merge_args(
        Config.fromfile(SYNTH_CFG),
        test.parse_args([SYNTH_CFG, 'last', '--work-dir', str(tmp_path),
                         '--dump', str(tmp_path / 'p.pkl')]))
    assert cfg.load_from == str(ckpt)
    assert cfg.test_evaluator[-1] == dict(
        type='AtomicDumpResults', out_file_path=str(tmp_path / 'p.pkl'))
