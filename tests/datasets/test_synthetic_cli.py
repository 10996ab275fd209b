"""tools/misc/make_synthetic.py writes the corpus with the options given."""
import json
import os.path as osp
import subprocess
import sys

from mmakm.datasets.synthetic import MARKER, XLSX_NAME

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_cli_writes_corpus_with_given_options(tmp_path):
    root = str(tmp_path / 'syn')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'misc', 'make_synthetic.py'),
           root, '--seed', '3', '--subjects', '2', '--clips-per-subject', '2',
           '--size', '24', '--min-len', '8', '--max-len', '10', '--no-video',
           '--jitter', '0', '--noise', '1.5', '--movement-px', '2',
           '--blink-prob', '1', '--flicker', '0.5']
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'sha256' in out.stdout
    assert osp.isfile(osp.join(root, XLSX_NAME))
    assert sorted(p.name for p in (tmp_path / 'syn' / 'CASME2_RAW').iterdir()) \
        == ['sub01', 'sub02']
    assert not osp.exists(osp.join(root, 'CASME2_video'))
    with open(osp.join(root, MARKER)) as f:
        params = json.load(f)
    assert (params['seed'], params['jitter'], params['noise'],
            params['movement_px'], params['blink_prob'], params['flicker'],
            params['size']) == (3, 0.0, 1.5, 2.0, 1.0, 0.5, 24)
