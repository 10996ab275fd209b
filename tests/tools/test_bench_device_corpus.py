"""tools/benchmarks/bench_device_corpus.py on CPU (tiny CASME II-sized
corpus): fp32, bf16 autocast and bf16 + channels_last training epochs of
one fold, and the data path's share of an epoch."""
import json
import os.path as osp
import sys

from tools_testlib import REPO, write_tiny_sized_config

sys.path.insert(0, osp.join(REPO, 'tools', 'benchmarks'))
import bench_device_corpus  # noqa: E402


def test_every_variant_trains_one_fold(tmp_path):
    cfg = write_tiny_sized_config(str(tmp_path / 'tiny_sized.py'))
    out = tmp_path / 'bench.json'
    rc = bench_device_corpus.main(['--config', cfg, '--device', 'cpu',
                                   '--epochs', '1', '--out', str(out)])
    assert rc == 0
    result = json.loads(out.read_text())
    assert result['device'] == 'cpu'
    rows = {r['variant']: r for r in result['results']}
    assert set(rows) == {'fp32', 'bf16', 'bf16_cl'}
    for r in rows.values():
        # held out sub01 (3 clips): 5 clips, 4 a batch
        assert r['clips_per_epoch'] == 5 and r['iters_per_epoch'] == 2
        assert r['frames_per_epoch'] > 0 and r['epoch_s'] > 0
        assert 0 < r['data_path_share'] < 1
