"""Outputs under interruption: an exception or ``kill -9`` mid-write leaves
the final path complete (the old content) or absent, never half-written,
and an exception leaves no temporary file or folder behind."""
import hashlib
import os
import os.path as osp
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import mmakm  # noqa: F401
import mmakm.engine as engine
import mmakm.engine.fileio as fileio

from tools_testlib import REPO, run_tool, tool_env


def tree(root):
    """{relative path: sha256} of every file under ``root``."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = hashlib.sha256(
                    f.read()).hexdigest()
    return out


# ------------------------------------------------------- atomic_directory
def test_atomic_directory_replaces_or_keeps_the_old_folder(tmp_path):
    root = tmp_path / 'corpus'
    with engine.atomic_directory(root) as tmp:
        assert not root.exists()  # nothing under the final name yet
        with open(osp.join(tmp, 'a.txt'), 'w') as f:
            f.write('old')
    assert (root / 'a.txt').read_text() == 'old'
    umask = os.umask(0)
    os.umask(umask)
    assert root.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's
    with pytest.raises(RuntimeError, match='mid-fill'):
        with engine.atomic_directory(root) as tmp:
            with open(osp.join(tmp, 'a.txt'), 'w') as f:
                f.write('new')
            raise RuntimeError('mid-fill')
    assert (root / 'a.txt').read_text() == 'old'
    assert os.listdir(tmp_path) == ['corpus']  # no temporary folder left
    with engine.atomic_directory(root) as tmp:
        with open(osp.join(tmp, 'b.txt'), 'w') as f:
            f.write('new')
    assert os.listdir(root) == ['b.txt']
    assert os.listdir(tmp_path) == ['corpus']  # the old folder is gone


_DIR_WRITER = textwrap.dedent('''
    import importlib.util, os, sys, time
    spec = importlib.util.spec_from_file_location(
        'fileio', {repo!r} + '/mmakm/engine/fileio.py')
    fileio = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fileio)
    root, generation = sys.argv[1], 0
    print('ready', flush=True)
    while True:
        generation += 1
        with fileio.atomic_directory(root) as tmp:
            for i in range(8):
                with open(os.path.join(tmp, f'{{i}}.txt'), 'w') as f:
                    f.write(str(generation))
                time.sleep(0.01)
''')


def test_kill9_while_filling_a_folder_never_exposes_a_partial_one(tmp_path):
    """A folder writer killed at random moments: the folder is absent or
    holds every file of one generation; only hidden temporary folders are
    left beside it."""
    script = tmp_path / 'writer.py'
    script.write_text(_DIR_WRITER.format(repo=REPO))
    rng = random.Random(0)
    for trial in range(4):
        root = tmp_path / f'out{trial}'
        proc = subprocess.Popen([sys.executable, str(script), str(root)],
                                stdout=subprocess.PIPE, env=tool_env())
        proc.stdout.readline()
        time.sleep(rng.uniform(0.05, 0.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if root.exists():
            contents = {p.name: p.read_text() for p in root.iterdir()}
            assert sorted(contents) == [f'{i}.txt' for i in range(8)]
            assert len(set(contents.values())) == 1
        visible = [n for n in os.listdir(tmp_path) if not n.startswith('.')]
        assert sorted(visible) == sorted(
            ['writer.py'] + [f'out{t}' for t in range(trial + 1)
                             if (tmp_path / f'out{t}').exists()])


# -------------------------------------------------------- synthetic stills
def test_interrupted_stills_rerun_keeps_the_old_corpus(tmp_path,
                                                        monkeypatch):
    """Before: the images were rewritten in place and the label list last,
    so a rerun with another seed stopped half-way left the old list over
    new images (wrong labels, silently). Now the old corpus stays whole."""
    import mmakm.datasets.macro.synthetic_stills as stills
    from mmakm.datasets.synthetic import CorpusExistsError
    root = str(tmp_path / 'stills')
    kw = dict(per_class=2, test_per_class=1, size=32)
    stills.make_synthetic_stills(root, seed=0, **kw)
    before = tree(root)
    assert 'EmoLabel/list_patition_label.txt' in before
    real, calls = stills.cv2.imencode, []

    def dies_at_fifth_image(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    monkeypatch.setattr(stills.cv2, 'imencode', dies_at_fifth_image)
    with pytest.raises(KeyboardInterrupt):
        stills.make_synthetic_stills(root, seed=1, overwrite=True, **kw)
    monkeypatch.setattr(stills.cv2, 'imencode', real)
    assert tree(root) == before
    assert os.listdir(tmp_path) == ['stills']
    # the same arguments: kept as it is; others: refused unless overwrite
    assert stills.make_synthetic_stills(root, seed=0, **kw) == root
    with pytest.raises(CorpusExistsError, match=r'stills was made with '
                       r'seed=0, not seed=1; pass overwrite=True'):
        stills.make_synthetic_stills(root, seed=1, **kw)
    stills.make_synthetic_stills(root, seed=1, overwrite=True, **kw)
    assert tree(root) != before
    assert os.listdir(tmp_path) == ['stills']


def test_corpus_generators_refuse_a_file_root_in_one_line(tmp_path):
    target = tmp_path / 'afile'
    target.write_text('x')
    for tool in ('make_synthetic.py', 'make_synthetic_stills.py'):
        proc = run_tool([osp.join('tools', 'misc', tool), str(target)],
                        check=False)
        assert proc.returncode == 1, proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith(f'error: {target} is not a synthetic '
                               'corpus'), proc.stderr
        assert 'Traceback' not in proc.stderr
    assert target.read_text() == 'x'


# ------------------------------------------------------ published weights
def test_published_checkpoint_is_written_atomically(tmp_path, monkeypatch):
    """``published_keys``: mmengine wrote the published copy with a plain
    ``open``; a write that fails before it completes now leaves no file."""
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=dict(w=torch.ones(2)),
                    optimizer=dict(lr=0.1)), ckpt)
    hook = engine.AtomicCheckpointHook(published_keys=['meta', 'state_dict'])

    def boom(*args):
        raise OSError('No space left on device')
    monkeypatch.setattr(fileio.os, 'replace', boom)
    with pytest.raises(OSError, match='No space left'):
        hook._publish_model(None, str(ckpt))
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ['epoch_1.pth']
    hook._publish_model(None, str(ckpt))
    published = [n for n in os.listdir(tmp_path) if n != 'epoch_1.pth']
    assert len(published) == 1 and published[0].startswith('epoch_1-')
    assert sorted(torch.load(tmp_path / published[0])) == ['meta',
                                                           'state_dict']
