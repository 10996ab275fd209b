"""tools/demo.py on synthetic clips (frame folder and mp4) with a model
trained for one epoch by tools/train.py."""
import glob
import json
import os.path as osp
import sys

import numpy as np
import pytest

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                            'loso'))
import loso_testlib as lib  # noqa: E402

DEMO = osp.join(lib.TOOLS, 'demo.py')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('demo')
    corpus = lib.make_tiny_corpus(str(tmp / 'synthetic'))
    config = lib.write_tiny_config(str(tmp / 'akm_tiny.py'), corpus,
                                   max_epochs=1)
    work_dir = str(tmp / 'work')
    lib.run([sys.executable, osp.join(lib.TOOLS, 'train.py'), config,
             '--work-dir', work_dir, '--seed', '0'])
    ckpt = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(ckpt)
    return corpus, config, ckpt


def _clip(corpus):
    from openpyxl import load_workbook
    ws = load_workbook(osp.join(corpus, 'CASME2-coding-20140508.xlsx')).active
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    r = dict(zip(head, rows[1]))
    folder = osp.join(corpus, 'CASME2_RAW', f"sub{int(r['Subject']):02d}",
                      r['Filename'])
    return folder, r


def test_demo_on_frame_folder(trained, tmp_path):
    corpus, config, ckpt = trained
    folder, r = _clip(corpus)
    out, js = str(tmp_path / 'fig.png'), str(tmp_path / 'res.json')
    proc = lib.run([sys.executable, DEMO, folder, config, ckpt,
                    '--onset', str(r['OnsetFrame']),
                    '--offset', str(r['OffsetFrame']),
                    '--apex', str(r['ApexFrame']), '--out', out,
                    '--json', js])
    assert 'prediction:' in proc.stdout
    with open(js) as f:
        res = json.load(f)
    assert abs(sum(res['probs']) - 1) < 1e-4 and len(res['probs']) == 4
    assert res['classes'] == ['positive', 'negative', 'surprise', 'others']
    fed = res['frame_numbers_fed']
    assert fed[0] >= r['OnsetFrame'] and fed[-1] <= r['OffsetFrame']
    assert set(res['key_frames']) <= set(fed)
    assert len(res['frame_weights']) == len(fed)
    with open(out, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_demo_on_video_without_face_crop(trained, tmp_path):
    corpus, config, ckpt = trained
    video = sorted(glob.glob(osp.join(corpus, 'CASME2_video', '*', '*.mp4')))[0]
    out, js = str(tmp_path / 'v.png'), str(tmp_path / 'v.json')
    lib.run([sys.executable, DEMO, video, config, ckpt, '--no-face-crop',
             '--out', out, '--json', js])
    with open(js) as f:
        res = json.load(f)
    assert res['face_box'] is None
    assert np.isclose(sum(res['probs']), 1, atol=1e-4)
    assert osp.getsize(out) > 0


def test_demo_rejects_unreadable_input(trained, tmp_path, capsys):
    import runpy
    _, config, ckpt = trained
    main = runpy.run_path(DEMO)['main']
    bad = tmp_path / 'clip.mp4'
    bad.write_bytes(b'not a video')
    for path, why in ((str(bad), 'not a readable video'),
                      (str(tmp_path / 'missing'), 'no such file'),
                      (str(tmp_path), 'no image files')):
        assert main([path, config, ckpt]) == 2
        assert why in capsys.readouterr().err


def test_face_box_on_synthetic_frames_or_fallback():
    """One box for the clip, or None (-> full frame with a warning)."""
    from mmakm.apis.face import crop_frames, detect_face_box, face_crop
    frames = [np.full((64, 80, 3), 128, np.uint8) for _ in range(3)]
    assert detect_face_box(frames) is None
    with pytest.warns(UserWarning, match='no face'):
        cropped, box = face_crop(frames)
    assert box is None and cropped[0].shape == (64, 80, 3)
    assert crop_frames(frames, (10, 5, 40, 35))[0].shape == (30, 30, 3)
