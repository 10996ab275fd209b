"""Outputs under interruption: an exception or ``kill -9`` mid-write leaves
the final path complete (the old content) or absent, never half-written,
and an exception leaves no temporary file or folder behind."""
import hashlib
import os
import os.path as osp
import textwrap

import pytest
import torch

import mmakm  # noqa: F401
import mmakm.engine as engine
import mmakm.engine.fileio as fileio

from tools_testlib import REPO, kill_at_random_moments, run_tool


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
    for trial in kill_at_random_moments(
            script, lambda t: tmp_path / f'out{t}', max_delay=0.5):
        root = tmp_path / f'out{trial}'
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


# ------------------------------------------------------------- scratch files
def test_atomic_path_for_writers_that_take_a_path(tmp_path):
    """``cv2.VideoWriter`` picks the format by the extension: the temporary
    name keeps it; a failed write leaves the old file and no temporary."""
    import cv2
    import numpy as np
    video = tmp_path / 'face.mp4'
    video.write_bytes(b'old')
    with pytest.raises(RuntimeError):
        with engine.atomic_path(video, suffix='.tmp.mp4') as tmp:
            assert tmp.endswith('.tmp.mp4') and osp.dirname(tmp) == str(
                tmp_path)
            raise RuntimeError('killed')
    assert video.read_bytes() == b'old' and os.listdir(tmp_path) == [
        'face.mp4']
    with engine.atomic_path(video, suffix='.tmp.mp4') as tmp:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'), 10.0,
                                 (32, 32))
        assert writer.isOpened()
        for _ in range(3):
            writer.write(np.zeros((32, 32, 3), np.uint8))
        writer.release()
    assert cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT) == 3
    assert os.listdir(tmp_path) == ['face.mp4']
    # a kill leaves the hidden temporary, which remove_interrupted_writes
    # finds like those of atomic_write_bytes
    (tmp_path / '.face.mp4.abc.tmp.mp4').write_bytes(b'x')
    (tmp_path / '.x.json.abc.tmp').write_bytes(b'x')
    assert len(fileio.remove_interrupted_writes(tmp_path)) == 2
    assert os.listdir(tmp_path) == ['face.mp4']


def test_demo_frames_that_cannot_be_written_are_an_error(monkeypatch):
    """The demo hands the clip to the test pipeline as PNG files in a
    temporary folder; cv2.imwrite says False (no exception) when it cannot
    write one, and the pipeline then failed on a missing file."""
    import numpy as np
    from types import SimpleNamespace
    from mmengine.config import Config

    import mmakm.apis.inference as inference
    from mmakm.apis.frames import Clip
    from tools_testlib import SYNTH_CFG
    model = SimpleNamespace(cfg=Config.fromfile(SYNTH_CFG))
    clip = Clip(frames=[np.zeros((8, 8, 3), np.uint8)] * 3,
                frame_numbers=np.arange(5, 8), name='clip7')
    monkeypatch.setattr(inference.cv2, 'imwrite', lambda *a: False)
    with pytest.raises(OSError, match=r'cannot write frame 5 of clip7 to '
                       r'.*img5\.png \(temporary folder full'):
        inference.infer_clip(model, clip)
