"""tools/benchmarks/bench_loso_jobs.py: a LOSO slice with 2 folds in flight
on the device-resident CASME II-sized corpus (tiny), its fold throughput,
log parsing and the extrapolation of the full protocol."""
import json
import os.path as osp
import sys

import pytest

from tools_testlib import REPO, write_tiny_sized_config

sys.path.insert(0, osp.join(REPO, 'tools', 'benchmarks'))
import bench_loso_jobs  # noqa: E402
from mmakm.loso.runner import fold_throughput  # noqa: E402

LOG = """\
11/27 16:46:20 - mmengine - INFO - Epoch(train)  [1][5/10]  lr: 1e-03  eta: 0:00:08  time: 4.0000  data_time: 0.02  loss: 3.5
11/27 16:46:21 - mmengine - INFO - Epoch(train)  [1][10/10]  lr: 1e-03  eta: 0:00:07  time: 3.0000  data_time: 0.02  loss: 3.5
11/27 16:46:27 - mmengine - INFO - Epoch(train)  [2][ 5/10]  lr: 1e-03  eta: 0:00:01  time: 0.2000  data_time: 0.01  loss: 3.4
11/27 16:46:28 - mmengine - INFO - Epoch(train)  [2][10/10]  lr: 1e-03  eta: 0:00:00  time: 0.4000  data_time: 0.01  loss: 3.4
11/27 16:46:29 - mmengine - INFO - Epoch(train)  [3][10/10]  lr: 1e-03  eta: 0:00:00  time: 0.3000  data_time: 0.01  loss: 3.4
"""


def test_steady_iteration_time_skips_the_first_epoch(tmp_path):
    log = tmp_path / 'train.log'
    log.write_text(LOG)
    assert bench_loso_jobs.steady_iter_time(str(log)) == (
        pytest.approx(0.3), 10)


def test_fold_throughput():
    t = fold_throughput([30.0, 50.0], 60.0, 2)
    assert t == dict(folds=2, jobs=2, wall_s=60.0, folds_per_hour=120.0,
                     mean_fold_s=40.0)
    assert fold_throughput([], 0.0, 1)['folds_per_hour'] == 0.0


def test_slice_with_two_jobs_and_extrapolation(tmp_path):
    cfg = write_tiny_sized_config(str(tmp_path / 'tiny_sized.py'))
    out = tmp_path / 'loso_jobs.json'
    rc = bench_loso_jobs.main([
        '--config', cfg, '--folds', 'sub01', 'sub03', '--jobs', '2',
        '--epochs', '2', '--full-folds', '3', '--full-epochs', '40',
        '--work-root', str(tmp_path / 'work'), '--out', str(out)])
    assert rc == 0
    run = json.loads(out.read_text())['runs'][0]
    assert run['timing']['folds'] == 2 and run['timing']['jobs'] == 2
    assert run['timing']['folds_per_hour'] > 0
    assert [f['fold'] for f in run['folds']] == ['fold_casme2_sub01',
                                                 'fold_casme2_sub03']
    # 8 clips minus the held-out subject's 3, 4 a batch: 2 iterations
    assert all(f['iters'] == 2 and f['epoch_s'] > 0 for f in run['folds'])
    assert run['full_loso_s'] == pytest.approx(
        3 * (run['setup_s'] + 40 * run['epoch_s']) / 2)
    work = tmp_path / 'work' / 'jobs2'
    for fold in ('fold_casme2_sub01', 'fold_casme2_sub03'):
        assert (work / fold / 'predictions.pkl').is_file()
    assert json.loads((work / 'loso_timing.json').read_text()) == \
        run['timing']
    assert (work / 'loso_summary.json').is_file()
