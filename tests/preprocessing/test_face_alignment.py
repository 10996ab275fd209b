"""Face alignment and stabilisation against known head poses, on a real
face photograph (scikit-image's astronaut) placed in 640x480 frames."""
import os.path as osp
import sys
from importlib import metadata

import cv2
import numpy as np
import pytest

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import face_corpus as fc  # noqa: E402

import mmakm  # noqa: E402,F401
from mmakm.preprocessing import (FaceLandmarker, NoFaceError,  # noqa: E402
                                 cascade_path, estimate_rigid_warps,
                                 load_cascade, preprocess_clip,
                                 similarity_from_eyes, warp_displacement_px)
from mmakm.preprocessing.clip import FACE_DEFAULTS  # noqa: E402
from mmakm.preprocessing.face import canonical_eye_distance  # noqa: E402

SIZE, MARGIN = 144, 0.1
IOD = canonical_eye_distance(SIZE, MARGIN)  # 48.98 px
# where the alignment puts the eyes: symmetric about the centre column,
# the average face centred vertically
EYE_ROW = SIZE / 2 - 0.52 * IOD
EXPECTED_EYES = np.array([[SIZE / 2 - IOD / 2, EYE_ROW],
                          [SIZE / 2 + IOD / 2, EYE_ROW]])


@pytest.fixture(scope='module')
def landmarker():
    lm = FaceLandmarker()
    yield lm
    lm.close()


def test_one_opencv_with_cascades():
    """One OpenCV version across the installed wheels, cascade present."""
    versions = {}
    for dist in ('opencv-python', 'opencv-contrib-python',
                 'opencv-python-headless'):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    assert len(set(versions.values())) == 1, versions
    assert cv2.__version__.startswith('4.'), cv2.__version__
    assert osp.isfile(cascade_path()), cascade_path()
    assert not load_cascade().empty()


def test_landmark_models_ship_in_the_wheel():
    """The face mesh runs offline: its tflite models are in the package."""
    import mediapipe
    assert mediapipe.__version__ == '0.10.21'
    root = osp.join(osp.dirname(mediapipe.__file__), 'modules')
    for model in ('face_detection/face_detection_short_range.tflite',
                  'face_landmark/face_landmark_with_attention.tflite'):
        assert osp.getsize(osp.join(root, model)) > 100_000, model


def test_similarity_from_eyes_geometry():
    eyes = np.array([[100.0, 80.0], [160.0, 110.0]])  # tilted, 67 px apart
    m = similarity_from_eyes(eyes, SIZE, MARGIN)
    out = fc.map_points(m, eyes)
    np.testing.assert_allclose(out, EXPECTED_EYES, atol=1e-9)
    # a similarity: orthogonal linear part
    lin = m[:, :2]
    np.testing.assert_allclose(lin @ lin.T, np.eye(2) * (lin[0] @ lin[0]),
                               atol=1e-12)
    fixed = fc.map_points(similarity_from_eyes(eyes, 96, eye_distance=30),
                          eyes)
    assert abs(np.hypot(*(fixed[1] - fixed[0])) - 30) < 1e-9


@pytest.mark.parametrize('clip', fc.CLIPS, ids=[c[1] for c in fc.CLIPS])
def test_alignment_matches_known_pose(clip, landmarker):
    """Eyes level, inter-ocular distance as configured, face centred, for
    heads rotated -10..12 deg, scaled 1.8..2.2, anywhere in the frame."""
    *_, angle, scale, mid = clip
    frames, mats = fc.make_clip(5, angle, scale, mid)
    out, info = preprocess_clip(frames, dict(size=SIZE, margin=MARGIN),
                                landmarker=landmarker)
    assert out.shape == (5, SIZE, SIZE, 3) and out.dtype == np.uint8
    # ground truth: the hand-annotated pupils through the known placement
    # and the estimated alignment
    eyes = fc.map_points(np.asarray(info['matrix']),
                         fc.map_points(mats[0], fc.PHOTO_EYES))
    assert abs(eyes[1, 1] - eyes[0, 1]) < 0.6  # level (< 0.7 deg)
    assert abs(np.hypot(*(eyes[1] - eyes[0])) - IOD) < 0.6
    np.testing.assert_allclose(eyes, EXPECTED_EYES, atol=0.8)


def test_crop_adds_no_motion(landmarker):
    """A still head stays still after the crop. Without expression the
    rigid motion measured between aligned frames is < 0.02 px; with the
    1.5 px mouth movement the rigid fit itself picks up < 0.25 px of it."""
    for deform, limit in ((0.0, 0.02), (1.5, 0.25)):
        frames, _ = fc.make_clip(7, 8.0, 2.0, (310, 220), deform_px=deform)
        out, info = preprocess_clip(frames, dict(size=SIZE),
                                    landmarker=landmarker)
        assert info['motion_px']['max'] < limit, (deform, info['motion_px'])
        # one matrix for every frame: where the face does not deform
        # (forehead strip) the pixels are the same in every frame
        band = out[:, 10:30, 40:104].astype(np.int16)
        assert np.abs(band - band[:1]).max() <= 1


def test_stabilisation_removes_known_head_drift(landmarker):
    rng = np.random.default_rng(0)
    drift = rng.uniform(-3, 3, (7, 2))
    drift[0] = 0
    frames, _ = fc.make_clip(7, -6.0, 2.0, (330, 210), drift=drift)
    out, info = preprocess_clip(frames, dict(size=SIZE), stabilise=dict(),
                                landmarker=landmarker)
    lin = np.asarray(info['matrix'])[:, :2]
    # known drift in output px, vs the estimated motion before stabilising
    known = np.linalg.norm(drift @ lin.T, axis=1)
    assert abs(info['motion_px']['mean'] - known.mean()) < 0.1
    assert info['motion_px']['mean'] > 0.5
    assert info['residual_motion_px']['max'] < 0.1
    # and it is what the ECC fit of the output against its onset says
    warps, failed = estimate_rigid_warps(out)
    assert failed == 0
    assert warp_displacement_px(warps, SIZE).max() < 0.1


def test_no_face_raises(landmarker):
    noise = np.random.default_rng(0).integers(0, 255, (3, 480, 640, 3),
                                              dtype=np.uint8)
    with pytest.raises(NoFaceError, match='no face'):
        preprocess_clip(noise, dict(size=SIZE), landmarker=landmarker)
    with pytest.raises(NoFaceError, match='Haar'):
        preprocess_clip(noise, dict(size=SIZE, detector='box'))


def test_face_align_transform_equals_offline(landmarker):
    from mmaction.registry import TRANSFORMS
    frames, _ = fc.make_clip(4, 5.0, 2.0, (320, 200))
    offline, info = preprocess_clip(frames, dict(size=96),
                                    landmarker=landmarker)
    t = TRANSFORMS.build(dict(type='MEFaceAlign', size=96))
    res = t(dict(imgs=list(frames), clip_id='c', subject='s'))
    np.testing.assert_array_equal(np.stack(res['imgs']), offline)
    assert res['img_shape'] == (96, 96)
    np.testing.assert_allclose(res['face_matrix'], info['matrix'])
    noise = np.zeros((2, 480, 640, 3), np.uint8)
    with pytest.raises(NoFaceError, match='clip c of s'):
        t(dict(imgs=list(noise), clip_id='c', subject='s'))
    with pytest.raises(NoFaceError, match=r'clip c of s: .*reference '
                       r'frame\(s\) \[17\]$'):  # the corpus frame number
        t(dict(imgs=list(noise), clip_id='c', subject='s',
               frame_numbers_fed=np.array([17, 19])))


def test_demo_aligns_the_face_and_refuses_no_face():
    import importlib.util

    from mmakm.apis import Clip
    spec = importlib.util.spec_from_file_location(
        'demo_tool', osp.join(osp.dirname(osp.dirname(osp.dirname(
            osp.abspath(__file__)))), 'tools', 'demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    recipe = dict(face=dict(FACE_DEFAULTS, size=96), stabilise=None,
                  magnify=None)
    frames, mats = fc.make_clip(3, -8.0, 2.0, (300, 240))
    clip = Clip(list(frames), np.arange(3))
    out, face, used = demo.preprocess(clip, recipe, 'clip.mp4')
    assert out.shape == (3, 96, 96, 3) and used == recipe
    eyes = fc.map_points(np.asarray(face['matrix']),
                         fc.map_points(mats[0], fc.PHOTO_EYES))
    assert abs(eyes[1, 1] - eyes[0, 1]) < 0.6
    # no landmarks: the Haar box is tried (a warning), then no face at all
    # is an error naming the input
    blank = Clip([np.full((120, 160, 3), 128, np.uint8)] * 2, np.arange(2))
    with pytest.warns(UserWarning, match='landmarks not found'):
        with pytest.raises(NoFaceError, match=r'^blank\.mp4: no face .*'
                           'Haar.*--no-face-crop'):
            demo.preprocess(blank, recipe, 'blank.mp4')
    none = dict(recipe, face=None)
    out, face, _ = demo.preprocess(clip, none, 'clip.mp4')
    assert out is clip.frames and face['method'] == 'none'
