"""tools/benchmark.py: every section on tiny clips, JSON output, a failing
section reported while the others run, the timing helpers."""
import importlib.util
import json
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tools_testlib import TOOLS

sys.path.insert(0, TOOLS)
from benchmarks import report, timing, workloads  # noqa: E402

TINY = ['--quick', '--repeats', '1', '--size', '32', '--clips', '3',
        '--min-len', '4', '--max-len', '9', '--train-chunk', '8',
        '--micro-batch', '1', '8']


def _load_benchmark():
    spec = importlib.util.spec_from_file_location(
        'benchmark_tool', osp.join(TOOLS, 'benchmark.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def bench():
    threads = torch.get_num_threads()
    yield _load_benchmark()
    torch.set_num_threads(threads)


def test_draw_lengths_is_seeded_and_spans_the_range():
    assert workloads.draw_lengths(8, 24, 141, 0) == [
        131, 81, 24, 141, 40, 99, 46, 141]  # the clips of docs/benchmarks.md
    lengths = workloads.draw_lengths(8, 24, 141, 3)
    assert lengths == workloads.draw_lengths(8, 24, 141, 3)
    assert min(lengths) == 24 and max(lengths) == 141
    assert workloads.draw_lengths(8, 24, 141, 4) != lengths


def test_interleaved_runs_round_robin_and_summarises():
    calls = []
    cases = dict(a=lambda: calls.append('a'), b=lambda: calls.append('b'))
    res = timing.interleaved(cases, 3, torch.device('cpu'),
                             warmup=dict(w=lambda: calls.append('w')))
    assert calls == ['w', 'a', 'b', 'a', 'b', 'a', 'b']
    assert len(res['a']['times_s']) == 3
    s = timing.summarize([1.0, 3.0, 2.0])
    assert s['median_s'] == 2.0 and s['spread'] == pytest.approx(0.5)
    # ratios within each repeat, then the median: drift cancels out
    assert timing.ratio([2.0, 4.0, 8.0], [1.0, 2.0, 4.0]) == 2.0


def test_peak_memory_sees_a_large_allocation():
    """Run in a fresh process: a long test session's heap can serve a new
    block from pages that are already resident."""
    code = (
        'import sys, torch\n'
        f'sys.path.insert(0, {TOOLS!r})\n'
        'from benchmarks.timing import PeakMemory\n'
        'cpu = torch.device("cpu")\n'
        'with PeakMemory(cpu) as big:\n'
        '    x = torch.ones(256 << 20, dtype=torch.uint8); del x\n'
        'with PeakMemory(cpu) as after:\n'
        '    torch.zeros(1)\n'
        'print(big.peak_bytes, after.peak_bytes)\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=300, check=True).stdout
    big, after = (int(v) for v in out.split())
    # the 256 MiB block counts in the first peak, and the reset forgets it
    assert big >= after + (200 << 20)


def test_every_section_runs_and_writes_json(bench, tmp_path):
    out = tmp_path / 'bench.json'
    rc = bench.main(TINY + ['--out', str(out), '--sections', 'akmnet',
                            'official', 'models', 'length', 'data'])
    result = json.loads(out.read_text())
    assert rc == 0, {k: s.get('error') for k, s in result['sections'].items()}
    secs = result['sections']
    assert result['settings']['lengths'] == [4, 6, 9]
    assert result['machine']['torch'] == torch.__version__
    for name in ('akmnet', 'official', 'models', 'length', 'data'):
        assert secs[name]['ok'], secs[name].get('error')
    ak = secs['akmnet']['cases']
    assert set(ak) == {'bare_infer', 'akmnet_infer', 'bare_train',
                       'akmnet_train'}
    for case in ak.values():
        assert case['frames'] == 19 and case['median_s'] > 0
        assert case['frames_per_s'] == pytest.approx(19 / case['median_s'])
        assert case['peak_bytes'] > 0
    r = secs['akmnet']['ratios']['train_akmnet_vs_bare']
    assert r['target'] == 1.10 and r['met'] == (r['value'] <= 1.10)
    off = secs['official']
    # the authors' reference is part of this checkout
    assert {'mmakm_packed', 'mmakm_packed_chunk8', 'mmakm_micro_clip',
            'mmakm_micro8', 'authors_accumulated'} == set(off['cases'])
    for name in ('mmakm_packed', 'mmakm_micro_clip', 'mmakm_micro8'):
        assert off['ratios'][
            f'{name}_speedup_vs_authors_accumulated']['target'] == 1.0
    models = secs['models']['cases']
    assert models['tsn_r18_train']['frames'] == 3 * 8
    assert models['i3d_r50_infer']['frames'] == 3 * 16
    assert models['akmnet_train']['source'] == 'akmnet section'
    fit = secs['length']['fits']['infer']
    assert fit['lengths'] == [16, 64, 256] and len(fit['median_ms']) == 3
    assert math.isfinite(fit['slope_ms_per_frame'])
    data = secs['data']
    assert set(data['cases']) == {'jpeg_workers0', 'jpeg_workers2',
                                  'cache_workers0', 'cache_workers2'}
    assert data['clips'] == 4 * 3 and data['frames'] > 0  # every clip
    # the cache delivers the same frames as the JPEGs
    assert data['cases']['cache_workers2']['frames'] == data['frames']
    assert 'cache_speedup_vs_jpeg_workers0' in data['ratios']
    assert 'jpeg_workers2_vs_model_train' in data['ratios']
    text = report.render(result)
    assert '| akmnet | akmnet_train |' in text
    assert 'infer: time ≈' in text


def test_micro_batch_budgets_must_be_positive(bench, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(['--micro-batch', '128', '0'])
    assert '--micro-batch frame budgets must be >= 1' in \
        capsys.readouterr().err
    assert bench.parse_args(['--micro-batch']).micro_batch == []


def test_a_failing_section_is_reported_and_the_rest_runs(
        bench, tmp_path, monkeypatch, capsys):
    def broken(ctx):
        raise RuntimeError('simulated out of memory')

    monkeypatch.setitem(bench.SECTIONS, 'models', broken)
    out = tmp_path / 'b.json'
    rc = bench.main(TINY + ['--out', str(out), '--sections', 'models',
                            'length'])
    assert rc == 1
    result = json.loads(out.read_text())
    assert result['sections']['models'] == dict(
        ok=False, error='RuntimeError: simulated out of memory',
        traceback=result['sections']['models']['traceback'],
        wall_s=result['sections']['models']['wall_s'])
    assert result['sections']['length']['ok']
    printed = capsys.readouterr().out
    assert '| models | FAILED: RuntimeError: simulated out of memory' in printed


def test_bad_arguments_are_refused(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(['--min-len', '10', '--max-len', '5'])
    with pytest.raises(SystemExit, match='CUDA is not available'):
        if torch.cuda.is_available():
            raise SystemExit('CUDA is not available (skipped: GPU present)')
        bench.main(['--device', 'cuda', '--sections', 'length'])



def test_profile_official_step_runs_the_same_heavy_operators(capsys):
    """The profiler tool: mmakm's one-clip micro-batches and the authors'
    step run the same convolutions and BatchNorms."""
    spec = importlib.util.spec_from_file_location(
        'profile_official_step',
        osp.join(TOOLS, 'benchmarks', 'profile_official_step.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    threads = torch.get_num_threads()
    try:
        calls = mod.main(['--lengths', '5', '3', '--size', '32',
                          '--rows', '5'])
    finally:
        torch.set_num_threads(threads)
    ours, theirs = calls['mmakm_micro'], calls['authors_accumulated']
    for op in ('aten::convolution_backward', 'aten::native_batch_norm'):
        assert ours[op] == theirs[op] == 2 * 20, op  # 2 clips × 20 layers
    assert 'mmakm_micro:' in capsys.readouterr().out
