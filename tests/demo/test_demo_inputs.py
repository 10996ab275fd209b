"""tools/demo.py and mmakm.apis on material as users have it: videos of
several containers and codecs, grayscale and phone-rotated videos, frame
folders with other extensions and numbering, bad files, unwritable outputs,
faces that are not there, checkpoints without class names.

The model is the tiny AKMNet of the LOSO tests with seeded random weights
(no training: these tests check the input/output path, not accuracy); the
demo runs in-process.
"""
import contextlib
import io
import json
import os
import os.path as osp
import runpy
import struct
import sys

import cv2
import numpy as np
import pytest

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.join(osp.dirname(HERE), 'loso'))
sys.path.insert(0, osp.join(osp.dirname(HERE), 'preprocessing'))
import face_corpus as fc  # noqa: E402
import loso_testlib as lib  # noqa: E402

from mmakm.apis import BadClipError, read_clip  # noqa: E402

DEMO = osp.join(lib.TOOLS, 'demo.py')
PAPER4 = ['positive', 'negative', 'surprise', 'others']


# ----------------------------------------------------------------------
# material
def write_video(path, frames, fourcc='mp4v', fps=25.0, color=True):
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps,
                             (w, h), color)
    assert writer.isOpened(), f'OpenCV cannot write {fourcc} here'
    for f in frames:
        writer.write(f[..., ::-1] if color else
                     cv2.cvtColor(f, cv2.COLOR_RGB2GRAY))
    writer.release()
    return path


def set_display_rotation(path, degrees=90):
    """Write a phone's display rotation into an mp4's track header
    (``tkhd`` matrix), as phones store portrait videos."""
    data = bytearray(open(path, 'rb').read())
    i = data.find(b'tkhd')
    v1 = data[i + 4] == 1  # box version: 64-bit times and duration
    # after 'tkhd': version+flags 4, creation + modification times, track
    # id 4, reserved 4, duration, reserved 8, layer/group/volume/reserved 8
    at = i + 4 + 4 + (16 if v1 else 8) + 4 + 4 + (8 if v1 else 4) + 8 + 8
    assert degrees == 90
    matrix = (0, 0x10000, 0, 0xFFFF0000, 0, 0, 0, 0, 0x40000000)
    assert struct.unpack('>9I', data[at:at + 36]) == (
        0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)  # identity before
    data[at:at + 36] = struct.pack('>9I', *matrix)
    open(path, 'wb').write(bytes(data))


@pytest.fixture(scope='module')
def face_frames():
    """(12, 240, 320, 3) RGB frames of a real face photograph."""
    frames, _ = fc.make_clip(12, 4.0, 1.0, (160.0, 110.0), deform_px=2.0)
    small = [cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA)
             for f in frames]
    return np.stack(small)


def write_folder(folder, frames, name='frame{}.PNG', first=7):
    os.makedirs(folder, exist_ok=True)
    for i, f in enumerate(frames):
        assert cv2.imwrite(osp.join(folder, name.format(first + i)),
                           f[..., ::-1])
    return folder


# ----------------------------------------------------------------------
# reading
@pytest.mark.parametrize('name,fourcc,tol', [
    ('clip.mp4', 'mp4v', 12), ('clip.avi', 'MJPG', 12),
    ('clip.mov', 'mp4v', 12), ('clip.mkv', 'XVID', 12),
    ('clip_ffv1.avi', 'FFV1', 0.5)])
def test_read_clip_containers_and_codecs(tmp_path, face_frames, name,
                                         fourcc, tol):
    path = write_video(str(tmp_path / name), face_frames, fourcc)
    clip = read_clip(path)
    assert np.array_equal(clip.frame_numbers, np.arange(12))
    assert clip.fps == 25.0 and len(clip.frames) == 12
    frames = np.stack(list(clip.frames))
    assert frames.shape == face_frames.shape and frames.dtype == np.uint8
    assert np.abs(frames.astype(int) - face_frames).mean() < tol
    # onset..offset, and random access after sequential access
    part = read_clip(path, onset=3, offset=8)
    assert np.array_equal(part.frame_numbers, np.arange(3, 9))
    np.testing.assert_array_equal(part.frames[-1], frames[8])
    np.testing.assert_array_equal(part.frames[0], frames[3])


def test_read_clip_grayscale_video_and_one_frame(tmp_path, face_frames):
    gray = write_video(str(tmp_path / 'gray.avi'), face_frames, 'MJPG',
                       color=False)
    frame = read_clip(gray).frames[0]
    assert frame.shape == (240, 320, 3)
    assert np.array_equal(frame[..., 0], frame[..., 2])  # grey as RGB
    one = read_clip(write_video(str(tmp_path / 'one.mp4'), face_frames[:1]))
    assert len(one.frames) == 1 and one.frame_numbers.tolist() == [0]


def test_read_clip_applies_phone_rotation(tmp_path, face_frames):
    # the sensor stores the portrait face turned by 90 degrees; the file
    # says to display it turned back
    sensor = [np.ascontiguousarray(np.rot90(f, 1)) for f in face_frames]
    path = write_video(str(tmp_path / 'phone.mp4'), sensor)
    set_display_rotation(path, 90)
    frames = np.stack(list(read_clip(path).frames))
    assert frames.shape == face_frames.shape
    assert np.abs(frames.astype(int) - face_frames).mean() < 12


def test_read_clip_folder_as_users_have_it(tmp_path, face_frames):
    folder = write_folder(str(tmp_path / 'clip'), face_frames)  # 7..18
    open(osp.join(folder, '._frame9.PNG'), 'wb').write(b'\0\5\26\7')
    open(osp.join(folder, 'notes.txt'), 'w').write('x')
    os.makedirs(osp.join(folder, 'thumbs'))
    clip = read_clip(folder, onset=8, offset=16)
    assert clip.frame_numbers.tolist() == list(range(8, 17))
    np.testing.assert_array_equal(np.stack(list(clip.frames)),
                                  face_frames[1:10])  # PNG: lossless
    # a frame missing from the numbering is named, not hidden
    os.remove(osp.join(folder, 'frame12.PNG'))
    with pytest.warns(UserWarning, match=r'1 frame number\(s\) missing '
                      r'between 7 and 18: 12'):
        assert len(read_clip(folder).frames) == 11
    # names without any number: sorted names, numbered 0, 1, ...
    plain = str(tmp_path / 'plain')
    os.makedirs(plain)
    for name, f in zip(('a.jpg', 'b.JPG', 'c.jpeg'), face_frames):
        cv2.imwrite(osp.join(plain, name), f[..., ::-1])
    assert read_clip(plain).frame_numbers.tolist() == [0, 1, 2]


def test_read_clip_bad_input_names_the_file(tmp_path, face_frames):
    def error(path, **kw):
        with pytest.raises((BadClipError, FileNotFoundError)) as e:
            clip = read_clip(str(path), **kw)
            list(clip.frames)  # damage deep in a video shows when decoded
        return str(e.value)

    zero = tmp_path / 'zero.mp4'
    zero.write_bytes(b'')
    assert error(zero) == f'{zero}: empty file (0 bytes); expected a ' \
        'video or a folder of frames'
    good = write_video(str(tmp_path / 'clip.mp4'), face_frames)
    cut = tmp_path / 'cut.mp4'  # an mp4 cut short has no index at all
    cut.write_bytes(open(good, 'rb').read()[:5000])
    assert error(cut).startswith(f'{cut}: not a readable video')
    avi = write_video(str(tmp_path / 'clip.avi'), face_frames, 'MJPG')
    cut_avi = tmp_path / 'cut.avi'
    cut_avi.write_bytes(open(avi, 'rb').read()[:osp.getsize(avi) // 2])
    msg = error(cut_avi)
    assert msg.startswith(f'{cut_avi}: frame ') and 'truncated or corrupt' \
        in msg and '(the header lists 12 frames)' in msg
    first_bad = int(msg.split('frame ')[1].split()[0])
    assert 0 < first_bad < 12
    clip = read_clip(str(cut_avi), offset=first_bad - 1)  # the advice works
    assert len(list(clip.frames)) == first_bad
    assert error(good, onset=20) == \
        f'onset 20 is outside the frames of {good} (frame numbers 0..11)'
    assert error(good, onset=-1, offset=5).startswith('onset -1 is outside')
    assert 'no such file' in error(tmp_path / 'missing.mp4')

    empty = tmp_path / 'empty'
    (empty / 'sub').mkdir(parents=True)
    assert error(empty).startswith(f'{empty}: no image files')
    folder = write_folder(str(tmp_path / 'frames'), face_frames,
                          name='img{}.jpg', first=1)
    data = open(osp.join(folder, 'img5.jpg'), 'rb').read()
    open(osp.join(folder, 'img5.jpg'), 'wb').write(data[:len(data) // 2])
    assert error(folder) == (
        f'1 unusable frame(s) in {folder}: {folder}/img5.jpg: truncated '
        'JPEG: no end-of-image marker (FFD9)')
    assert len(read_clip(folder, onset=6).frames) == 7  # cut off: fine
    cv2.imwrite(osp.join(folder, 'img5.jpg'), face_frames[0, :200, :, ::-1])
    assert 'img5.jpg: frame size 320x200 (WxH) differs from the clip' in \
        error(folder)
    cv2.imwrite(osp.join(folder, 'img05.jpg'), face_frames[0, :, :, ::-1])
    assert 'two images for frame 5: img05.jpg and img5.jpg' in error(folder)
    os.remove(osp.join(folder, 'img05.jpg'))
    os.remove(osp.join(folder, 'img5.jpg'))
    cv2.imwrite(osp.join(folder, 'cover.jpg'), face_frames[0, :, :, ::-1])
    assert 'without a frame number in the name: cover.jpg' in error(folder)


def test_lazy_frames_align_like_an_array(tmp_path, face_frames):
    """The face alignment on frames decoded on access gives the pixels of
    the same clip held in memory (what tools/preprocess.py computes)."""
    from mmakm.preprocessing import preprocess_clip
    folder = write_folder(str(tmp_path / 'clip'), face_frames)
    clip = read_clip(folder)
    for face in (dict(size=64), dict(size=64, detector='box')):
        lazy, info = preprocess_clip(clip.frames, face, measure_motion=False)
        eager, ref = preprocess_clip(face_frames, face, measure_motion=False)
        np.testing.assert_array_equal(lazy, eager)
        assert info['matrix'] == ref['matrix']


# ----------------------------------------------------------------------
# the demo end to end
@pytest.fixture(scope='module')
def model(tmp_path_factory):
    """(config, checkpoint with class names, checkpoint without)."""
    from mmengine.runner import set_random_seed

    from mmakm.apis import init_model
    from mmakm.engine import atomic_torch_save
    tmp = tmp_path_factory.mktemp('model')
    config = lib.write_tiny_config(str(tmp / 'akm_tiny.py'),
                                   str(tmp / 'no_corpus'))
    set_random_seed(0)
    net, classes = init_model(config, None)
    assert list(classes) == PAPER4  # the config's class setup
    state = net.state_dict()
    named, bare = str(tmp / 'named.pth'), str(tmp / 'bare.pth')
    atomic_torch_save(dict(state_dict=state, meta=dict(
        dataset_meta=dict(classes=PAPER4))), named)
    atomic_torch_save(dict(state_dict=state), bare)
    other = str(tmp / 'other.pth')
    atomic_torch_save(dict(state_dict=state, meta=dict(
        dataset_meta=dict(classes=['a', 'b', 'c', 'd']))), other)
    return config, named, bare, other


def demo(*argv):
    """(exit status, stdout, stderr) of tools/demo.py run in-process."""
    main = runpy.run_path(DEMO)['main']
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def test_demo_key_frames_are_input_frame_numbers(model, tmp_path):
    """Frames 104 and 112 of a still clip numbered 100..119 differ from all
    others: they are the only fed frames with a low beta, so the key frames
    are every other fed frame, named by their numbers in the folder (the
    config feeds every 2nd frame)."""
    config, named, bare, _ = model
    still = np.full((12, 12, 3), 120, np.uint8)
    still[4:8] = 200
    frames = np.stack([still] * 20)
    frames[[4, 12]] = 255 - still  # frames 104 and 112
    folder = write_folder(str(tmp_path / 'clip'), frames, 'img{}.bmp', 100)
    results = []
    for ckpt in (named, bare, named):
        js = tmp_path / f'{len(results)}.json'
        status, out, err = demo(folder, config, ckpt, '--no-face-crop',
                                '--out', tmp_path / 'fig.png', '--json', js)
        assert status == 0, err
        results.append(json.loads(js.read_text()))
    res = results[0]
    fed = list(range(100, 120, 2))
    assert res['frame_numbers_fed'] == fed
    assert res['key_frames'] == [n for n in fed if n not in (104, 112)]
    beta = dict(zip(fed, res['frame_weights']))
    assert max(beta[104], beta[112]) < min(beta[n] for n in res['key_frames'])
    assert f'key frames (8 of 10 fed): {res["key_frames"]}' in out
    assert res['classes'] == PAPER4 and res['pred'] in PAPER4
    assert f'prediction: {res["pred"]}' in out
    # no class names in the checkpoint: the config's class setup names them
    assert results[1]['classes'] == PAPER4
    assert results[2] == res  # same input, same output
    with open(tmp_path / 'fig.png', 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_demo_on_a_real_face_video(model, tmp_path, face_frames):
    config, named, _, _ = model
    video = write_video(str(tmp_path / 'face.avi'), face_frames, 'MJPG')
    js = tmp_path / 'res.json'
    for face in ('align', 'box'):
        status, out, err = demo(video, config, named, '--face', face,
                                '--face-size', 64, '--onset', 2, '--offset',
                                9, '--apex', 5, '--out', tmp_path / 'f.pdf',
                                '--json', js)
        assert status == 0, err
        res = json.loads(js.read_text())
        assert res['frame_numbers_fed'] == [2, 4, 6, 8]
        assert set(res['key_frames']) <= {2, 4, 6, 8}
        assert np.isclose(sum(res['probs']), 1, atol=1e-5)
        assert ('aligned (64 px' if face == 'align' else 'Haar box (64 px') \
            in res['face']
        assert (res['face_box'] is None) == (face == 'align')
    x0, y0, x1, y1 = res['face_box']  # eye midpoint at (80, 55) in 320x240
    assert x0 < 80 < x1 and y0 < 55 < y1 and 30 < x1 - x0 < 160
    assert open(tmp_path / 'f.pdf', 'rb').read(4) == b'%PDF'


def test_demo_errors_are_one_line_and_write_nothing(model, tmp_path,
                                                    face_frames):
    config, named, _, other = model
    grey = write_folder(str(tmp_path / 'grey'), np.full_like(face_frames, 128))
    video = write_video(str(tmp_path / 'face.mp4'), face_frames)
    motion = np.zeros((12, 3))
    motion[8:, 1] = 700  # the face leaves the frame at frame 8
    leaving, _ = fc.make_face_on_wall(12, 0.0, 1.2, (320.0, 200.0),
                                      motion=motion)
    leaves = write_video(str(tmp_path / 'leaves.avi'), leaving, 'MJPG')
    avi = write_video(str(tmp_path / 'face.avi'), face_frames, 'MJPG')
    cut = tmp_path / 'cut.avi'  # damage found while the model is fed
    cut.write_bytes(open(avi, 'rb').read()[:osp.getsize(avi) // 2])
    out, js = tmp_path / 'o' / 'fig.png', tmp_path / 'o' / 'res.json'
    cases = [
        ([cut, config, named, '--no-face-crop'], f'{cut}: frame '),
        ([leaves, config, named, '--stabilise'], f'{leaves}: the face of '
         'the reference frame 0 is lost in 4 of 12 frames: 8 ('),
        ([grey, config, named], f'{grey}: no face found by the OpenCV Haar '
         'cascade; expected a visible frontal face (--no-face-crop feeds '
         'the full frames)'),
        ([video, config, other], f'{other} was trained for the classes '
         "['a', 'b', 'c', 'd'], the config's test dataset has " +
         str(PAPER4)),
        ([video, config, named, '--out', tmp_path], f'--out {tmp_path} is '
         'a folder; expected a file path'),
        ([video, config, named, '--out', tmp_path / 'fig.xyz'],
         "unknown figure format 'xyz'; expected one of"),
        ([video, config, named, '--json', tmp_path], f'--json {tmp_path} '
         'is a folder'),
        ([video, config, named, '--offset', 40], f'offset 40 is outside '
         f'the frames of {video} (frame numbers 0..11)'),
    ]
    for argv, expected in cases:
        status, stdout, err = demo(*argv, '--out', out, '--json', js) \
            if '--out' not in argv and '--json' not in argv else demo(*argv)
        assert status == 2, (argv, err)
        lines = [ln for ln in err.splitlines()
                 if not ln.startswith('warning:')]
        assert lines and lines[-1].startswith('error: ') and \
            expected in lines[-1], (expected, err)
        assert 'Traceback' not in err and 'prediction' not in stdout
        assert not out.exists() and not js.exists()


def test_demo_recipe_follows_the_config():
    """A model trained on a frame cache gets the cache's preprocessing
    (magnification included); the options override; a pipeline that aligns
    by itself gets no face step."""
    import argparse

    from mmengine.config import Config
    demo_tool = runpy.run_path(DEMO)
    recipe_of = demo_tool['demo_recipe']
    pipeline = [dict(type='MEFrameDecode')]
    preprocess = dict(face=dict(size=96, margin=0.2),
                      magnify=dict(type='linear', alpha=5.0))

    def cfg(cache_dir, steps=pipeline):
        return Config(dict(preprocess=preprocess, test_dataloader=dict(
            dataset=dict(type='CASME2Dataset', cache_dir=cache_dir,
                         pipeline=steps))))

    def args(**kw):
        return argparse.Namespace(**dict(dict(
            no_face_crop=False, face=None, face_size=None, stabilise=False),
            **kw))

    cached = recipe_of(cfg('data/cache'), args())
    assert cached['face']['size'] == 96 and cached['face']['margin'] == 0.2
    assert cached['magnify'] == dict(type='linear', alpha=5.0)
    assert 'magnified (linear, alpha 5.0)' in demo_tool['describe'](cached)
    shipped = recipe_of(cfg(None), args())
    assert shipped['face']['size'] == 144 and shipped['magnify'] is None
    box = recipe_of(cfg('data/cache'), args(face='box', face_size=64,
                                            stabilise=True))
    assert box['face']['detector'] == 'box' and box['face']['size'] == 64
    assert box['stabilise']['type'] == 'ecc'
    assert recipe_of(cfg('data/cache'), args(no_face_crop=True))['face'] \
        is None
    aligning = cfg(None, pipeline + [dict(type='MEFaceAlign')])
    assert recipe_of(aligning, args())['face'] is None


def test_video_frames_pickle_without_the_open_video(tmp_path, face_frames):
    import pickle
    clip = read_clip(write_video(str(tmp_path / 'c.mp4'), face_frames))
    first = clip.frames[0]
    again = pickle.loads(pickle.dumps(clip.frames))
    np.testing.assert_array_equal(again[0], first)
    np.testing.assert_array_equal(again[11], clip.frames[11])
