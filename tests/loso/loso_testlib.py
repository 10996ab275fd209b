"""Tiny LOSO experiments for the tests: a 3-subject synthetic corpus of
short 48-px clips and configs/akm_synthetic.py shrunk to a ResNet-18 with 8
base channels, 2 epochs of 2 iterations. Everything runs through the real
tools (tools/loso.py -> tools/train.py, tools/test.py) in subprocesses.
"""
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
SYNTH_CFG = osp.join(REPO, 'configs', 'akm_synthetic.py')


def make_tiny_corpus(root: str) -> str:
    from mmakm.datasets.synthetic import make_synthetic_casme2
    return make_synthetic_casme2(root, seed=0, n_subjects=3,
                                 clips_per_subject=4, size=48, min_len=8,
                                 max_len=16, video=True)


def write_tiny_config(path: str, corpus_root: str, max_epochs: int = 2) -> str:
    text = f'''_base_ = [{SYNTH_CFG!r}]
synthetic_corpus = None
me_meta_keys = {{{{_base_.me_meta_keys}}}}
train_pipeline = [
    dict(type='MESampleFrames', stride=2),
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 36)),
    dict(type='RandomCrop', size=32),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)]
test_pipeline = [
    dict(type='MESampleFrames', stride=2, test_mode=True),
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)]
train_dataloader = dict(batch_size=4, dataset=dict(
    data_root={corpus_root!r}, pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(
    data_root={corpus_root!r}, pipeline=test_pipeline))
model = dict(
    backbone=dict(base_channels=8),
    neck=dict(in_channels=64),
    cls_head=dict(in_channels=64, hidden_channels=8, num_layers=1,
                  spatial_size=1))
train_cfg = dict(max_epochs={max_epochs})
param_scheduler = [dict(type='CosineAnnealingLR', T_max={max_epochs},
                        eta_min=1e-8, by_epoch=True, begin=0,
                        end={max_epochs}, convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=1))
'''
    with open(path, 'w') as f:
        f.write(text)
    return path


def tool_env() -> dict:
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + (os.pathsep + env['PYTHONPATH']
                                if env.get('PYTHONPATH') else '')
    return env


def loso_cmd(config: str, work_dir: str, *extra) -> list:
    return [sys.executable, osp.join(TOOLS, 'loso.py'), config,
            '--work-dir', work_dir, '--folds', 'sub01', 'sub02',
            '--jobs', '1', '--seed', '0', *extra]


def run(cmd, timeout=300, check=True):
    proc = subprocess.run(cmd, cwd=REPO, env=tool_env(), capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}')
    return proc


#: stand-in ``tools/train.py``: logs the call to ``calls.txt`` and writes a
#: checkpoint (for :func:`install_fake_tools`)
FAKE_TRAIN = '''
import argparse, os, os.path as osp, sys
p = argparse.ArgumentParser()
p.add_argument('config'); p.add_argument('--work-dir')
p.add_argument('--seed'); p.add_argument('--resume', action='store_true')
a = p.parse_args()
with open(osp.join(a.work_dir, 'calls.txt'), 'a') as f:
    f.write('train resume=%s threads=%s\\n' % (a.resume,
            os.environ['OMP_NUM_THREADS']))
ck = osp.join(a.work_dir, 'epoch_1.pth')
open(ck, 'wb').write(b'weights')
open(osp.join(a.work_dir, 'last_checkpoint'), 'w').write(ck)
'''


#: stand-in ``tools/test.py``: appends ``test <pid>`` to ``pids.txt`` and
#: dumps one prediction (for :func:`install_fake_tools`)
FAKE_TEST = '''
import argparse, os, os.path as osp, pickle
p = argparse.ArgumentParser()
p.add_argument('config'); p.add_argument('checkpoint')
p.add_argument('--work-dir'); p.add_argument('--dump')
a = p.parse_args()
with open(osp.join(a.work_dir, 'pids.txt'), 'a') as f:
    f.write('test %d\\n' % os.getpid())
open(a.dump, 'wb').write(pickle.dumps([dict(pred_score=[1.0], gt_label=0)]))
'''


def install_fake_tools(tmp_path, monkeypatch, train: str, test: str):
    """Stand-in ``tools/train.py`` / ``tools/test.py`` (``MMAKM_TOOLS``)."""
    import textwrap
    tools = tmp_path / 'tools'
    tools.mkdir()
    (tools / 'train.py').write_text(textwrap.dedent(train))
    (tools / 'test.py').write_text(textwrap.dedent(test))
    monkeypatch.setenv('MMAKM_TOOLS', str(tools))
    return tools


def empty_folds(tmp_path, n):
    """``n`` planned folds (subjects s0, s1, ...) with empty configs."""
    from mmakm.loso.plan import plan_folds
    folds = plan_folds(str(tmp_path / 'work'), [f's{i}' for i in range(n)])
    for f in folds:
        os.makedirs(f.work_dir)
        os.makedirs(osp.dirname(f.config_path), exist_ok=True)
        open(f.config_path, 'w').write('')
    return folds
