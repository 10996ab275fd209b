"""Helpers for the entry-point tests (tools/*.py, configs, engine).

Every training run here is tiny: the synthetic corpus restricted to a few
subjects, a ResNet-18 with 8 base channels, a few iterations. Each tool runs
in a subprocess, exactly as a user would run it.
"""
import json
import os
import os.path as osp
import random
import signal
import socket
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
SYNTH_CFG = osp.join(REPO, 'configs', 'akm_synthetic.py')


def load_tool(name: str):
    """``tools/<name>.py`` imported as a module (to call its ``main``)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        f'mmakm_tool_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def tool_env(**extra) -> dict:
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')
    env.setdefault('MKL_NUM_THREADS', '1')
    env['PYTHONPATH'] = REPO + (os.pathsep + env['PYTHONPATH']
                                if env.get('PYTHONPATH') else '')
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_tool(args, timeout=240, check=True, **env):
    """Run ``python tools/<args...>``; return the CompletedProcess."""
    cmd = [sys.executable] + list(args)
    proc = subprocess.run(
        cmd, cwd=REPO, env=tool_env(**env), capture_output=True, text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(cmd)} failed ({proc.returncode}):\n'
            f'{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}')
    return proc


def kill_at_random_moments(script, target, max_delay, trials=4, seed=0):
    """Run ``python script target`` ``trials`` times, killing it (SIGKILL)
    at a random moment after it prints its first line; yield each trial's
    index after the kill, for the caller to check what was left."""
    rng = random.Random(seed)
    for trial in range(trials):
        proc = subprocess.Popen([sys.executable, str(script),
                                 str(target(trial))],
                                stdout=subprocess.PIPE, env=tool_env())
        proc.stdout.readline()
        time.sleep(rng.uniform(0.05, max_delay))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        yield trial


def tiny_options(corpus_root, subjects=None, max_epochs=1, batch_size=4):
    """--cfg-options that shrink configs/akm_synthetic.py for tests."""
    opts = [
        f'synthetic_corpus.root={corpus_root}',
        f'train_dataloader.dataset.data_root={corpus_root}',
        f'test_dataloader.dataset.data_root={corpus_root}',
        f'train_cfg.max_epochs={max_epochs}',
        f'train_dataloader.batch_size={batch_size}',
        'train_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        'model.backbone.base_channels=8',
        'model.neck.in_channels=64',
        'model.cls_head.in_channels=64',
        'model.cls_head.hidden_channels=8',
        'model.cls_head.num_layers=1',
        'default_hooks.logger.interval=1',
    ]
    if subjects is not None:
        subj = '[' + ','.join(f"'{s}'" for s in subjects) + ']'
        opts += [
            f'train_dataloader.dataset.subjects={subj}',
            f'test_dataloader.dataset.subjects={subj}',
        ]
    return opts


def read_metrics(path):
    with open(path) as f:
        return json.load(f)['metrics']


SIZED_CFG = osp.join(REPO, 'configs', 'casme2_sized', 'akm_casme2_sized.py')


def write_tiny_sized_config(path: str) -> str:
    """configs/casme2_sized/akm_casme2_sized.py shrunk: 3 subjects, clips of
    4-10 frames at 20 px (16 px crops), ResNet-18 with 8 base channels."""
    text = f'''_base_ = [{SIZED_CFG!r}]
plan = dict(seed=0, subject_clips=[3, 2, 3], min_len=4, max_len=10,
            median_len=6)
corpus = dict(type='casme2_sized', size=20, **plan)
model = dict(
    data_preprocessor=dict(corpus=corpus, crop_size=16),
    backbone=dict(base_channels=8), neck=dict(in_channels=64),
    cls_head=dict(in_channels=64, hidden_channels=8, num_layers=1,
                  spatial_size=1))
train_dataloader = dict(batch_size=4, dataset=dict(
    corpus=corpus, crop_size=16, dataset=dict(plan=plan)))
test_dataloader = dict(dataset=dict(
    corpus=corpus, crop_size=16, dataset=dict(plan=plan)))
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=1))
'''
    with open(path, 'w') as f:
        f.write(text)
    return path
