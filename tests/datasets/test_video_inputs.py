"""Clips given as video files (decord) as users have them: OpenCV-written
mp4v / MJPG / XVID videos, grayscale, odd sizes, one frame, empty,
truncated and fake files, phone rotation, non-ASCII paths; the same clip as
a frame folder and as a video feeds the same frames."""
import csv
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

TESTS = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, TESTS)
sys.path.insert(0, osp.join(TESTS, 'demo'))
from preprocessing import face_corpus as fc  # noqa: E402
from test_demo_inputs import set_display_rotation, write_video  # noqa: E402

import mmakm  # noqa: E402,F401
from mmakm.apis import read_clip  # noqa: E402
from mmakm.datasets import (MEAnnotationDataset, MEFrameDecode,  # noqa: E402
                            MESampleFrames)
from mmakm.datasets.video import VideoReadError  # noqa: E402


@pytest.fixture(scope='module')
def faces():
    """(10, 64, 80, 3) RGB frames of a real face photograph, moving."""
    frames, _ = fc.make_clip(10, 3.0, 1.0, (160.0, 110.0), deform_px=2.0)
    # each frame shifted 6 px further: frames are told apart after coding
    return np.stack([np.roll(cv2.resize(f, (80, 64),
                                        interpolation=cv2.INTER_AREA),
                             6 * k, axis=1) for k, f in enumerate(frames)])


def corpus(root, rows):
    """A generic CSV corpus ``root/ann.csv`` of (path, onset, offset)."""
    with open(osp.join(root, 'ann.csv'), 'w', newline='',
              encoding='utf-8') as f:
        csv.writer(f).writerows(
            [('path', 'subject', 'onset', 'apex', 'offset', 'label')] +
            [(p, 'S1', on, '', off, 'joy') for p, on, off in rows])
    return dict(ann_file='ann.csv', data_root=str(root))


def nearest(imgs, ref):
    """Index into ``ref`` of the frame closest to each of ``imgs``."""
    d = np.abs(imgs[:, None].astype(np.int16) - ref[None]).mean((2, 3, 4))
    return d.argmin(1).tolist()


def fed(ds, i=0):
    r = MESampleFrames(test_mode=True)(ds.get_data_info(i))
    r = MEFrameDecode()(r)
    return np.stack(r['imgs']), r['frame_numbers_fed'].tolist()


def test_folder_and_video_of_one_clip_feed_the_same_frames(tmp_path, faces):
    """JPEG frames 0..9 vs an MJPG video of them: same frames numbered the
    same, the inclusive offset (the last frame) included."""
    folder = tmp_path / 'clips' / 'c1'
    os.makedirs(folder)
    for k, f in enumerate(faces):
        cv2.imwrite(str(folder / f'img{k}.jpg'), f[..., ::-1],
                    [cv2.IMWRITE_JPEG_QUALITY, 98])
    write_video(str(tmp_path / 'c1_video.avi'), faces, 'MJPG')
    ds = MEAnnotationDataset(**corpus(tmp_path, [('clips/c1', 3, 9),
                                                 ('c1_video.avi', 3, 9)]))
    img, img_numbers = fed(ds, 0)
    vid, vid_numbers = fed(ds, 1)
    assert img_numbers == vid_numbers == list(range(3, 10))
    assert img.shape == vid.shape == (7, 64, 80, 3)
    # within codec tolerance of each other, each the right frame (no shift
    # by one)
    assert np.abs(img.astype(int) - vid).mean() < 6
    assert nearest(vid, faces) == nearest(img, faces) == list(range(3, 10))


@pytest.mark.parametrize('name,fourcc,gray', [
    ('c.mp4', 'mp4v', False), ('c.avi', 'XVID', False),
    ('c.avi', 'MJPG', True)])
def test_codecs_odd_size_and_grayscale(tmp_path, faces, name, fourcc, gray):
    """97x131 px frames (the codecs keep 96x130) in colour or gray."""
    frames = [cv2.resize(f, (131, 97)) for f in faces]
    write_video(str(tmp_path / name), frames, fourcc, color=not gray)
    ds = MEAnnotationDataset(**corpus(tmp_path, [(name, 0, 9)]))
    imgs, numbers = fed(ds)
    assert numbers == list(range(10))
    h, w = imgs.shape[1:3]
    assert (h, w) in ((97, 131), (96, 130))
    ref = np.stack([f[:h, :w] for f in frames])
    if gray:
        ref = np.repeat(cv2.cvtColor(np.concatenate(ref), cv2.COLOR_RGB2GRAY)
                        .reshape(10, h, w, 1), 3, axis=3)
    assert nearest(imgs, ref) == list(range(10))
    assert np.abs(imgs.astype(int) - ref).mean() < 12


def test_single_frame_video_and_non_ascii_path(tmp_path, faces):
    sub = tmp_path / 'Aufnahmen für Studie'
    os.makedirs(sub)
    write_video(str(sub / 'eins é.mp4'), faces[:1])
    ds = MEAnnotationDataset(**corpus(tmp_path, [(
        'Aufnahmen für Studie/eins é.mp4', 0, 0)]))
    imgs, numbers = fed(ds)
    assert numbers == [0] and imgs.shape == (1, 64, 80, 3)


def test_offset_at_and_past_the_last_frame(tmp_path, faces):
    write_video(str(tmp_path / 'v.mp4'), faces)  # frames 0..9
    ok = MEAnnotationDataset(**corpus(tmp_path, [('v.mp4', 8, 9)]))
    imgs, numbers = fed(ok)
    assert numbers == [8, 9] and nearest(imgs, faces) == [8, 9]
    with pytest.raises(ValueError, match=r'row 2.*too few frames in .*v\.mp4'
                       r': it has 10 frames \(numbers 0\.\.9\).*needs up to '
                       r'video frame 10'):
        MEAnnotationDataset(**corpus(tmp_path, [('v.mp4', 8, 10)]))
    # with video_start=1 (1-based numbers) frame 10 is video frame 9
    one = MEAnnotationDataset(**corpus(tmp_path, [('v.mp4', 9, 10)]),
                              video_start=1)
    imgs, numbers = fed(one)
    assert numbers == [9, 10] and nearest(imgs, faces) == [8, 9]


def _broken_files(tmp_path, faces):
    """Empty, fake and cut videos; ``cut.avi``: its last frame's chunk is
    cut 4 bytes in (AVI index gone), so decord lists 10 frames and decodes
    9 -- the file a copy interrupted near its end leaves."""
    avi = open(write_video(str(tmp_path / 'good.avi'), faces, 'MJPG'),
               'rb').read()
    last = avi.rfind(b'00dc', 0, avi.rfind(b'idx1'))
    mp4 = open(write_video(str(tmp_path / 'good.mp4'), faces), 'rb').read()
    files = {'empty.mp4': b'', 'notes.mp4': b'just text, renamed\n',
             'half.mp4': mp4[:len(mp4) // 2], 'cut.avi': avi[:last + 12]}
    for name, blob in files.items():
        open(tmp_path / name, 'wb').write(blob)


def test_broken_videos_are_refused_at_load_naming_file_and_frame(tmp_path,
                                                                 faces):
    _broken_files(tmp_path, faces)
    expect = {
        'empty.mp4': r'empty\.mp4: empty file \(0 bytes\)',
        'notes.mp4': r'notes\.mp4: not a readable video',
        'half.mp4': r'half\.mp4: not a readable video',
        'cut.avi': r'cut\.avi: frame 9 \(0-based\) cannot be decoded, '
                   r'the video lists 10 frames \(0\.\.9\) and the first 9 '
                   r'\(0\.\.8\) decode: it is truncated',
    }
    for name, pattern in expect.items():
        with pytest.raises(ValueError, match=r'ann\.csv, row 2: clip '
                           + name.split('.')[0] + r' \(custom/S1\).*'
                           + pattern):
            MEAnnotationDataset(**corpus(tmp_path, [(name, 0, 9)]))
    # the frames before the damage load, every time (decord alone fails on
    # them now and then: it reads ahead into the damage)
    ds = MEAnnotationDataset(**corpus(tmp_path, [('cut.avi', 0, 8)]))
    for _ in range(5):
        imgs, numbers = fed(ds)
        assert numbers == list(range(9)) and nearest(imgs, faces) == numbers
    # skipped, never dropped silently
    skip = MEAnnotationDataset(**corpus(tmp_path, [
        (n, 0, 9) for n in list(expect) + ['good.avi']]),
        on_bad_sample='skip')
    assert len(skip) == 1 and len(skip.skipped) == 4


def test_decode_time_errors_name_file_frame_and_sample(tmp_path, faces):
    """Without the load-time check (check_images=False) the damage shows
    when the clip is decoded, with the same facts."""
    _broken_files(tmp_path, faces)
    ds = MEAnnotationDataset(**corpus(tmp_path, [('cut.avi', 2, 9)]),
                             check_images=False)
    with pytest.raises(VideoReadError, match=r'cut\.avi: frame 9 \(0-based'
                       r'\) cannot be decoded, the video lists 10 frames '
                       r'\(0\.\.9\) and the first 9.*\(clip cut of '
                       r'custom/S1\)'):
        fed(ds)
    assert isinstance(VideoReadError('x'), IOError)


def test_width_decord_cannot_copy_is_read_with_opencv(tmp_path, faces):
    """decord 0.6 cannot copy out frames 48 px wide: they are decoded with
    OpenCV (and a warning says so), not refused or garbled."""
    narrow = np.stack([cv2.resize(f, (48, 40)) for f in faces])
    write_video(str(tmp_path / 'narrow.avi'), narrow, 'MJPG')
    with pytest.warns(UserWarning, match=r'narrow\.avi: decord failed'):
        ds = MEAnnotationDataset(**corpus(tmp_path, [('narrow.avi', 2, 9)]))
        imgs, numbers = fed(ds)
    assert numbers == list(range(2, 10)) and imgs.shape == (8, 40, 48, 3)
    assert nearest(imgs, narrow) == numbers


def test_phone_rotation_applied_as_the_demo_does(tmp_path, faces):
    sensor = [np.ascontiguousarray(np.rot90(f, 1)) for f in faces]
    path = write_video(str(tmp_path / 'phone.mp4'), sensor)
    set_display_rotation(path, 90)
    ds = MEAnnotationDataset(**corpus(tmp_path, [('phone.mp4', 0, 9)]))
    imgs, _ = fed(ds)
    demo = np.stack(list(read_clip(path).frames))
    assert imgs.shape == demo.shape == faces.shape
    assert np.abs(imgs.astype(int) - demo).max() <= 2
    assert np.abs(imgs.astype(int) - faces).mean() < 12


def test_many_reads_keep_no_file_open(tmp_path, faces):
    if not osp.isdir('/proc/self/fd'):
        pytest.skip('counts open files through /proc')
    write_video(str(tmp_path / 'v.mp4'), faces)
    ds = MEAnnotationDataset(**corpus(tmp_path, [('v.mp4', 0, 9)]))
    fed(ds)
    before = len(os.listdir('/proc/self/fd'))
    for _ in range(30):
        fed(ds)
    assert len(os.listdir('/proc/self/fd')) <= before


# ------------------------------------------- CASME II's video variant
@pytest.fixture(scope='module')
def casme2(tmp_path_factory):
    from mmakm.datasets.synthetic import make_synthetic_casme2
    return make_synthetic_casme2(
        str(tmp_path_factory.mktemp('syn') / 'c'), seed=3, n_subjects=1,
        clips_per_subject=2, size=64, min_len=8, max_len=12)


def test_casme2_video_variant_feeds_the_folder_frames(casme2):
    from mmakm.datasets import CASME2Dataset
    img = CASME2Dataset(data_root=casme2)
    vid = CASME2Dataset(data_root=casme2,
                        data_prefix=dict(video='CASME2_video'))
    for i in range(len(img)):
        a, numbers = fed(img, i)
        b, vid_numbers = fed(vid, i)
        info = vid.get_data_info(i)
        assert vid_numbers == numbers  # the annotated frame numbers
        assert numbers[-1] == info['offset']  # inclusive offset
        assert np.abs(a.astype(int) - b).mean() < 6  # mp4v is lossy


def test_casme2_video_that_does_not_match_its_folder_is_refused(
        tmp_path, casme2):
    """A video cut to onset..offset (or an empty image folder) cannot be
    numbered by the folder: refused, not fed shifted frames."""
    import shutil
    from mmakm.datasets import CASME2Dataset
    root = str(tmp_path / 'c')
    shutil.copytree(casme2, root)
    ds = CASME2Dataset(data_root=root, data_prefix=dict(video='CASME2_video'))
    info = ds.get_data_info(0)
    sub, clip = info['subject'].split('/')[1], info['clip_id']
    folder = osp.join(root, 'CASME2_RAW', sub, clip)
    first = min(int(n[3:-4]) for n in os.listdir(folder))
    frames = [cv2.imread(osp.join(folder, f'img{n}.jpg'))[..., ::-1]
              for n in range(info['onset'], info['offset'] + 1)]
    video = osp.join(root, 'CASME2_video', sub, clip + '.mp4')
    write_video(video, frames)
    n = len(frames)
    with pytest.raises(ValueError, match=rf'clip {clip}.*{clip}\.mp4 has '
                       rf'{n} frames, its image folder .*{clip} numbers '
                       rf'{first}\.\.'):
        CASME2Dataset(data_root=root, data_prefix=dict(video='CASME2_video'))
    # the frame number of its first frame given: the same frames again
    cut = CASME2Dataset(data_root=root, subjects=[sub],
                        data_prefix=dict(video='CASME2_video'),
                        video_first_frame=info['onset'], on_bad_sample='skip')
    k = [cut.get_data_info(i)['clip_id'] for i in range(len(cut))].index(clip)
    imgs, numbers = fed(cut, k)
    assert numbers == list(range(info['onset'], info['offset'] + 1))
    assert np.abs(imgs.astype(int) - np.stack(frames)).mean() < 6
    for name in os.listdir(folder):
        os.remove(osp.join(folder, name))
    with pytest.raises(FileNotFoundError, match=rf"row \d+: clip {clip}: "
                       r"video_first_frame='folder' numbers the video by the "
                       rf'images of .*{clip}, which holds none'):
        CASME2Dataset(data_root=root, data_prefix=dict(video='CASME2_video'))


def test_a_file_of_any_video_extension_is_read_as_a_video(tmp_path, faces):
    write_video(str(tmp_path / 'phone.m4v'), faces)
    write_video(str(tmp_path / 'cam.MP4'), faces)
    ds = MEAnnotationDataset(**corpus(tmp_path, [('phone.m4v', 0, 9),
                                                 ('cam.MP4', 2, 4)]))
    assert nearest(fed(ds, 0)[0], faces) == list(range(10))
    assert fed(ds, 1)[1] == [2, 3, 4]
    # a folder of frames named like a video is a folder of frames
    os.makedirs(tmp_path / 'frames.mp4')
    cv2.imwrite(str(tmp_path / 'frames.mp4' / 'img0.png'), faces[0])
    assert 'frame_paths' in MEAnnotationDataset(**corpus(
        tmp_path, [('frames.mp4', 0, 0)])).get_data_info(0)
    # a missing one is named as a missing video, not a missing folder
    with pytest.raises(FileNotFoundError, match=r'video file not found: '
                       r'.*gone\.wmv'):
        MEAnnotationDataset(**corpus(tmp_path, [('gone.wmv', 0, 9)]))


def test_loso_runs_on_the_video_variant(tmp_path):
    """tools/loso.py (train + test of one fold) on CASME II videos."""
    import json
    sys.path.insert(0, osp.join(TESTS, 'loso'))
    import loso_testlib as lib
    from mmakm.datasets.synthetic import make_synthetic_casme2
    root = make_synthetic_casme2(str(tmp_path / 'corpus'), seed=0,
                                 n_subjects=3, clips_per_subject=4, size=64,
                                 min_len=8, max_len=16)
    cfg = lib.write_tiny_config(str(tmp_path / 'tiny.py'), root, 1)
    video = [f'{s}_dataloader.dataset.data_prefix.video=CASME2_video'
             for s in ('train', 'test')]
    work = str(tmp_path / 'work')
    lib.run([sys.executable, osp.join(lib.TOOLS, 'loso.py'), cfg,
             '--work-dir', work, '--folds', 'sub01', '--jobs', '1',
             '--seed', '0', '--cfg-options', *video])
    fold = osp.join(work, 'fold_casme2_sub01', 'fold_casme2_sub01.py')
    assert open(fold).read().count("data_prefix=dict(video='CASME2_video')"
                                   ) >= 2
    summary = json.load(open(osp.join(work, 'loso_summary.json')))
    assert summary['headline']['num_samples'] == 4


def test_check_corpus_checks_video_samples(tmp_path, faces):
    """tools/misc/check_corpus.py builds datasets without the load-time
    check: it checks a video sample itself (``--decode``: every frame)."""
    import contextlib
    import io
    sys.path.insert(0, osp.join(osp.dirname(TESTS), 'tools', 'misc'))
    import check_corpus
    _broken_files(tmp_path, faces)
    corpus(tmp_path, [('good.avi', 0, 9), ('cut.avi', 0, 9),
                      ('good.mp4', 0, 4)])
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "custom_imports = dict(imports=['mmakm'])\n"
        "default_scope = 'mmaction'\n"
        "test_dataloader = dict(dataset=dict(type='MEAnnotationDataset', "
        f"ann_file='ann.csv', data_root={str(tmp_path)!r}, pipeline=[]))\n")
    for extra in ([], ['--decode']):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert check_corpus.main([str(cfg)] + extra) == 1
        text = out.getvalue()
        assert 'clip cut (custom/S1): ' in text
        assert 'cut.avi: frame 9 (0-based) cannot be decoded' in text
        assert '2 usable sample(s), 1 bad' in text


def test_preprocessing_a_cut_video_reports_it_and_caches_nothing_of_it(
        tmp_path, faces):
    from mmakm.preprocessing import is_cached, read_index
    from mmakm.preprocessing.runner import preprocess_dataset
    _broken_files(tmp_path, faces)
    rows = corpus(tmp_path, [('good.avi', 0, 9), ('cut.avi', 0, 9)])
    for check in (True, False):  # refused when built / when decoded
        ds = MEAnnotationDataset(**rows, on_bad_sample='skip',
                                 check_images=check)
        cache = str(tmp_path / f'cache{check}')
        rep = preprocess_dataset(ds, cache, dict(face=None),
                                 log=lambda *_: None)['custom']
        listed = rep['bad_samples'] if check else [
            f['reason'] for f in rep['failed']]
        assert len(listed) == 1 and 'cut.avi: frame 9 (0-based) cannot ' \
            'be decoded' in listed[0]
        assert [d['clip_id'] for d in rep['done']] == ['good']
        assert is_cached(cache, 'custom/S1/good')
        assert read_index(cache, 'custom/S1/good')['source'] == osp.realpath(
            tmp_path / 'good.avi')
        # nothing of the cut clip, no temp file
        assert sorted(os.listdir(osp.join(cache, 'custom', 'S1'))) == [
            'good.json', 'good.npy']
