"""slurm_train.sh / slurm_test.sh build the srun command line (srun faked)."""
import os
import os.path as osp
import subprocess

from tools_testlib import REPO


def _srun_line(tmp_path, script, *args, **env):
    fake = tmp_path / 'srun'
    fake.write_text('#!/bin/sh\necho "srun $*"\n')
    fake.chmod(0o755)
    full_env = dict(os.environ, PATH=f'{tmp_path}:{os.environ["PATH"]}',
                    **env)
    out = subprocess.run(['bash', osp.join(REPO, 'tools', script), *args],
                         capture_output=True, text=True, env=full_env,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_slurm_train_on_gpu_nodes(tmp_path):
    line = _srun_line(tmp_path, 'slurm_train.sh', 'part', 'job', 'cfg.py',
                      '--seed', '1', GPUS='16', GPUS_PER_NODE='8')
    assert line.startswith('srun -p part --job-name=job --gres=gpu:8 '
                           '--ntasks=16 --ntasks-per-node=8')
    assert line.endswith(f'{REPO}/tools/train.py cfg.py --seed 1 '
                         '--launcher=slurm')


def test_slurm_test_on_cpu_nodes(tmp_path):
    line = _srun_line(tmp_path, 'slurm_test.sh', 'part', 'job', 'cfg.py',
                      'ck.pth', '--dump', 'p.pkl', GPUS='2',
                      GPUS_PER_NODE='0', TASKS_PER_NODE='2')
    assert '--gres' not in line and '--ntasks-per-node=2' in line
    assert line.endswith(f'{REPO}/tools/test.py cfg.py ck.pth --dump p.pkl '
                         '--launcher=slurm')
