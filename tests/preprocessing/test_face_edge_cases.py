"""Face alignment and stabilisation on real-face clips they were not tuned
on: small faces, large frames, grayscale, one frame, head motion with
rotation, a face that leaves the frame, blank frames.

The face is scikit-image's astronaut cut out and placed on a plain wall
with known transforms (``face_corpus.make_face_on_wall``); tolerances are
in px of the aligned 144 px crop.
"""
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import face_corpus as fc  # noqa: E402

import mmakm  # noqa: E402,F401
from mmakm.preprocessing import (FaceLostError, NoFaceError,  # noqa: E402
                                 preprocess_clip, warp_displacement_px)

SIZE = fc.CROP


@pytest.mark.parametrize('frame_size, scale, eye_mid, tol', [
    # a face 60 px wide (inter-ocular distance 17 px) in 640x480: found by
    # the face mesh on a Haar box, aligned within 1.2 px of the 144 px crop
    # (0.4 px in the frame)
    ((640, 480), 0.4, (320, 240), 1.2),
    ((640, 480), 0.45, (520, 90), 1.2),
    # 1280x720, the face (90 / 150 px wide) off-centre near a corner
    ((1280, 720), 0.6, (1050, 180), 0.8),
    ((1280, 720), 1.0, (200, 560), 0.8),
], ids=['60px', '68px-corner', '1280x720-90px', '1280x720-150px'])
def test_small_and_off_centre_faces_are_aligned(frame_size, scale, eye_mid,
                                                tol, landmarker):
    frames, mats = fc.make_face_on_wall(2, -7.0, scale, eye_mid, frame_size)
    out, info = preprocess_clip(frames, dict(size=SIZE),
                                landmarker=landmarker)
    assert out.shape == (2, SIZE, SIZE, 3)
    assert fc.eye_error(info, mats[0]) < tol


def test_grayscale_clip_aligns_like_its_colour_version(landmarker):
    frames, mats = fc.make_face_on_wall(3, 8.0, 1.5, (330, 220))
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    out1, info1 = preprocess_clip(gray[..., None], dict(size=SIZE),
                                  stabilise={}, landmarker=landmarker)
    assert out1.shape == (3, SIZE, SIZE, 1)  # channels kept
    out3, info3 = preprocess_clip(np.repeat(gray[..., None], 3, axis=3),
                                  dict(size=SIZE), landmarker=landmarker)
    assert fc.eye_error(info1, mats[0]) < 0.8
    assert fc.eye_error(info3, mats[0]) < 0.8
    np.testing.assert_allclose(info1['matrix'], info3['matrix'], atol=1e-6)
    with pytest.raises(ValueError, match=r'\(T, H, W, C\) uint8, got '
                       r'\(3, 480, 640\)'):
        preprocess_clip(gray, dict(size=SIZE), landmarker=landmarker)


def test_single_frame_clip(landmarker):
    frames, mats = fc.make_face_on_wall(1, 4.0, 1.8, (320, 230))
    plain, info = preprocess_clip(frames, dict(size=SIZE),
                                  landmarker=landmarker)
    full, full_info = preprocess_clip(
        frames, dict(size=SIZE), stabilise={},
        magnify=dict(type='phase', alpha=15), landmarker=landmarker)
    assert full.shape == (1, SIZE, SIZE, 3)
    assert fc.eye_error(info, mats[0]) < 0.8
    assert full_info['motion_px']['max'] == 0.0
    # nothing to stabilise or magnify against: the aligned frame itself
    assert np.abs(full.astype(int) - plain).max() <= 1


def test_stabilisation_recovers_known_rotation_and_shift(landmarker):
    """Per-frame head motion (rotation +-2 deg, shift +-4 px) is measured as
    the known displacement and removed to < 0.15 px."""
    rng = np.random.default_rng(3)
    motion = np.column_stack([rng.uniform(-2, 2, 8),
                              rng.uniform(-4, 4, (8, 2))])
    motion[0] = 0
    frames, mats = fc.make_face_on_wall(8, -5.0, 1.6, (300, 240),
                                        motion=motion)
    out, info = preprocess_clip(frames, dict(size=SIZE), stabilise={},
                                landmarker=landmarker)
    # the known motion of every frame relative to the onset, in the crop:
    # crop -> onset frame -> photo -> frame t -> crop
    a = np.vstack([np.asarray(info['matrix']), [0, 0, 1]])
    homog = [np.vstack([m, [0, 0, 1]]) for m in mats]
    known = np.stack([(a @ h @ np.linalg.inv(homog[0]) @ np.linalg.inv(a))
                      [:2] for h in homog])
    known_px = warp_displacement_px(known, SIZE)
    assert known_px.mean() > 1.0
    assert abs(info['motion_px']['mean'] - known_px.mean()) < 0.15
    assert abs(info['motion_px']['max'] - known_px.max()) < 0.3
    assert info['residual_motion_px']['max'] < 0.15
    assert info['min_correlation'] > 0.95


@pytest.mark.parametrize('stabilise', [None, {}], ids=['align', 'stabilise'])
@pytest.mark.parametrize('dx', [150, 600], ids=['half-out', 'gone'])
def test_face_leaving_the_frame_is_an_error_naming_frames(stabilise, dx,
                                                          landmarker):
    motion = np.zeros((10, 3))
    motion[4:7, 1] = dx  # frames 104-106: the head moves right, out
    frames, _ = fc.make_face_on_wall(10, 3.0, 2.0, (320, 220), motion=motion)
    with pytest.raises(FaceLostError, match=r'reference frame 100 is lost in '
                       r'3 of 10 frames: 104 \(.*\), 105 \(.*\), 106 '):
        preprocess_clip(frames, dict(size=SIZE), stabilise=stabilise,
                        landmarker=landmarker,
                        frame_numbers=np.arange(100, 110))
    # a smaller move of the head (40 px) is head motion, not a lost face
    motion[4:7, 1] = 40
    frames, _ = fc.make_face_on_wall(10, 3.0, 2.0, (320, 220), motion=motion)
    _, info = preprocess_clip(frames, dict(size=SIZE), stabilise=stabilise,
                              landmarker=landmarker)
    assert info['motion_px']['max'] > 10


def test_blank_frame_is_named_and_no_face_at_all_is_an_error(landmarker):
    frames, _ = fc.make_face_on_wall(5, 0.0, 1.8, (320, 240))
    blank = frames.copy()
    blank[2] = 0
    with pytest.raises(FaceLostError, match=r'frame position 0 is lost in 1 '
                       r'of 5 frames: 2 \(no ECC fit\)'):
        preprocess_clip(blank, dict(size=SIZE), landmarker=landmarker)
    # the check can be switched off (min_correlation=None)
    out, _ = preprocess_clip(blank, dict(size=SIZE), landmarker=landmarker,
                             min_correlation=None)
    assert out[2].max() == 0
    wall = np.repeat(fc.background(480, 640)[None], 3, axis=0)
    with pytest.raises(NoFaceError, match='no face found in the reference'):
        preprocess_clip(wall, dict(size=SIZE), landmarker=landmarker)


def test_preprocess_names_the_clip_and_frames_and_writes_nothing(tmp_path):
    """tools/preprocess.py's runner on a corpus clip with two blank JPEG
    frames: the clip is listed as failed with its frame numbers, nothing of
    it is left in the cache; the other clip is cached."""
    from mmakm.datasets import CASME2Dataset
    from mmakm.preprocessing.runner import preprocess_dataset
    corpus, cache = str(tmp_path / 'casme2'), str(tmp_path / 'cache')
    fc.make_face_casme2(corpus, clips=fc.CLIPS[:2])
    folder = osp.join(corpus, 'CASME2_RAW', 'sub01', 'EP01_01')
    for n in (11, 13):  # onset 10 .. offset 14
        cv2.imwrite(osp.join(folder, f'img{n}.jpg'),
                    np.zeros((480, 640, 3), np.uint8))
    lines = []
    reports = preprocess_dataset(CASME2Dataset(data_root=corpus), cache,
                                 dict(face=dict(size=96)), log=lines.append)
    rep = reports['casme2']
    assert [c['clip_id'] for c in rep['done']] == ['EP02_02']
    [failed] = rep['failed']
    assert failed['key'] == 'casme2/sub01/EP01_01'
    assert failed['reason'].startswith('FaceLostError: the face of the '
                                       'reference frame 10 is lost in 2 of '
                                       '5 frames: 11 (no ECC fit), 13')
    assert any('casme2/sub01/EP01_01: FAILED' in line for line in lines)
    assert not osp.exists(osp.join(cache, 'casme2', 'sub01', 'EP01_01.npy'))
    assert sorted(os.listdir(osp.join(cache, 'casme2', 'sub01'))) == [
        'EP02_02.json', 'EP02_02.npy']
