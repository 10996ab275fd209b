"""Face alignment on scenes it was not tuned on: two faces in the frame, a
camera turned on its side or upside down, a mirrored clip, SAMM-sized and
4K frames, near-infrared-like, compressed, blurred, flickering, noisy and
partly covered frames, the image formats corpora ship, and a rerun giving
the same bytes.

The face is scikit-image's astronaut placed with known transforms
(``face_corpus``); tolerances are in px of the aligned 144 px crop.
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
from mmakm.preprocessing import (FaceLandmarker, FaceLostError,  # noqa: E402
                                 NoFaceError, preprocess_clip)

SIZE = fc.CROP


def align(frames, landmarker, **face):
    return preprocess_clip(frames, dict(size=SIZE, **face),
                           landmarker=landmarker)


# ----------------------------------------------------------------------
# two faces: the subject and, behind, a mirrored interviewer
SUBJECT = fc.placement(0.0, 1.0, (200, 240))


def two_faces(n, second_scale, present=None):
    """(frames (n, 480, 640, 3), second face's placement): the subject
    (``SUBJECT``) and a mirrored face ``second_scale`` times as large on
    the right, in the frames ``present`` (default: all)."""
    second = fc.mirrored(fc.placement(5.0, second_scale, (480, 200)))
    wall = fc.background(480, 640).astype(np.float32)
    frames = []
    for t in range(n):
        img = fc.paste_face(wall, SUBJECT)
        if present is None or t in present:
            img = fc.paste_face(img, second)
        frames.append(fc.to_uint8(img))
    return np.stack(frames), second


@pytest.mark.parametrize('second_scale', [0.6, 1.6],
                         ids=['smaller-behind', 'larger-behind'])
@pytest.mark.parametrize('ref_frames', [1, 3])
def test_two_faces_the_largest_is_aligned(second_scale, ref_frames,
                                          landmarker):
    """The rule the docs state. Before: the face mesh's detector scores
    decided, whatever the sizes (here the smaller face both times)."""
    frames, second = two_faces(3, second_scale)
    _, info = align(frames, landmarker, ref_frames=ref_frames)
    largest = SUBJECT if second_scale < 1 else second
    assert fc.eye_error(info, largest) < 1.0


def test_second_face_in_some_frames_changes_nothing(landmarker):
    """A larger face entering after the onset: the subject stays aligned,
    no frame is lost (it does not cover the subject), the eyes move by
    under 0.1 frame px (the mesh fits the subject's pixels slightly differently
    with another face in the frame: 0.07 px measured) when the frame with
    it is a reference frame, not at all otherwise; present in the onset
    only, the onset's face is aligned and the frames without it are
    named."""
    alone, _ = two_faces(4, 1.6, present=())
    frames, _ = two_faces(4, 1.6, present=(2, 3))
    for ref_frames, tol in ((1, 0.0), (3, 0.1)):
        _, ref = align(alone, landmarker, ref_frames=ref_frames)
        _, info = align(frames, landmarker, ref_frames=ref_frames)
        assert np.abs(np.subtract(info['eyes'], ref['eyes'])).max() <= tol
        assert fc.eye_error(info, SUBJECT) < 1.0
    frames, _ = two_faces(4, 1.6, present=(0,))
    with pytest.raises(FaceLostError, match=r'lost in 3 of 4 frames: 1 '):
        align(frames, landmarker)


# ----------------------------------------------------------------------
# the camera
def test_turned_and_mirrored_camera(landmarker):
    """Frames turned by 90/180/270 degrees (a phone on its side, a camera
    upside down) and mirrored: the face comes out upright, eyes within
    1.5 px. Before: 180 degrees 69 px off, 270 degrees 29 px off, cached
    as fine."""
    frames, mats = fc.make_face_on_wall(2, 3.0, 1.5, (320, 240))
    w, h = 640, 480
    turned = {  # np.rot90(frame, k): frame (x, y) -> turned frame
        1: [[0, 1, 0], [-1, 0, w - 1]],
        2: [[-1, 0, w - 1], [0, -1, h - 1]],
        3: [[0, -1, h - 1], [1, 0, 0]],
        'mirror': [[-1, 0, w - 1], [0, 1, 0]]}
    for k, to in turned.items():
        clip = (frames[:, :, ::-1] if k == 'mirror' else
                np.stack([np.rot90(f, k) for f in frames]))
        truth = (np.vstack([to, [0, 0, 1]]) @ np.vstack([mats[0],
                                                          [0, 0, 1]]))[:2]
        _, info = align(np.ascontiguousarray(clip), landmarker)
        assert fc.eye_error(info, truth) < 1.5, k


def test_head_rolled_any_angle(landmarker):
    """A face rolled by 20 to 160 degrees either way in an upright frame
    comes out upright, eyes within 0.5 px. Before: from 100 degrees on
    16-37 px off (cached as fine) or no face found."""
    for angle in (45, 70, 100, 135, 160, -60, -120, -150):
        frames, mats = fc.make_face_on_wall(1, angle, 1.5, (320, 240))
        _, info = align(frames, landmarker)
        assert fc.eye_error(info, mats[0]) < 0.5, angle


@pytest.mark.parametrize('frame_size, scale, frames', [
    ((2040, 1088), 3.0, 2),  # SAMM's frame size, face 300 px wide
    ((3840, 2160), 1.2, 1),  # 4K, face 120 px wide (the Haar fallback)
], ids=['samm-2040x1088', '4k-small-face'])
def test_large_frames(frame_size, scale, frames, landmarker):
    clip, mats = fc.make_face_on_wall(frames, 4.0, scale,
                                      (0.45 * frame_size[0],
                                       0.4 * frame_size[1]), frame_size)
    out, info = align(clip, landmarker)
    assert out.shape == (frames, SIZE, SIZE, 3)
    assert fc.eye_error(info, mats[0]) < 0.6


# ----------------------------------------------------------------------
# the picture
def _degraded(name, frames, eyes, mouth):
    out = frames.astype(np.float32)
    if name == 'nir':  # one channel, 30 % of the contrast
        gray = out @ np.float32([0.299, 0.587, 0.114])
        return np.rint((gray - 128) * 0.3 + 90).astype(np.uint8)[..., None]
    if name == 'jpeg-q10':
        return np.stack([cv2.imdecode(cv2.imencode(
            '.jpg', f, [cv2.IMWRITE_JPEG_QUALITY, 10])[1], 1)
            for f in frames])
    if name == 'motion-blur-15px':
        kernel = np.zeros((15, 15), np.float32)
        kernel[7] = 1 / 15
        return np.stack([cv2.filter2D(f, -1, kernel) for f in frames])
    if name == 'flicker':  # brightness x1, x1.4, x0.6, x1.2
        out *= np.float32([1, 1.4, 0.6, 1.2])[:, None, None, None]
    if name == 'noise-25':
        out += np.random.default_rng(0).normal(0, 25, out.shape)
    y = int(eyes[:, 1].mean())
    if name == 'bar-over-eyes':
        out[:, y - 12:y + 12, int(eyes[0, 0]) - 30:int(eyes[1, 0]) + 30] = 20
    if name == 'bar-over-eyes-2-frames':
        out[2:, y - 12:y + 12, int(eyes[0, 0]) - 30:int(eyes[1, 0]) + 30] = 20
    if name == 'hand-over-mouth':
        x, y = mouth.astype(int)
        out[:, y - 30:y + 40, x - 50:x + 50] = (200, 160, 140)
    return fc.to_uint8(out)


@pytest.mark.parametrize('name, tol, min_corr', [
    ('nir', 0.5, 0.99),
    ('jpeg-q10', 0.5, 0.99),
    ('motion-blur-15px', 2.5, 0.99),
    ('flicker', 0.5, 0.95),
    ('noise-25', 0.5, 0.98),
    ('bar-over-eyes', 2.5, 0.99),
    ('bar-over-eyes-2-frames', 0.5, 0.6),
    ('hand-over-mouth', 0.5, 0.99),
])
def test_degraded_frames_are_aligned(name, tol, min_corr, landmarker):
    """Eyes within ``tol`` px, every frame kept (ECC correlation with the
    onset at least ``min_corr``)."""
    frames, mats = fc.make_face_on_wall(4, 3.0, 1.5, (320, 240))
    clip = _degraded(name, frames, fc.map_points(mats[0], fc.PHOTO_EYES),
                     fc.map_points(mats[0], fc.PHOTO_MOUTH[None])[0])
    out, info = align(clip, landmarker)
    assert out.shape[-1] == clip.shape[-1]
    assert fc.eye_error(info, mats[0]) < tol
    assert info['min_correlation'] >= min_corr


def test_half_covered_face_is_an_error_not_a_crop(landmarker):
    """The image-right half of the face painted over in every frame: the
    mesh still fits a face to the half, its eyes 56 px off in the crop
    (before: cached as fine); they are not found again on the face warped
    upright."""
    frames, mats = fc.make_face_on_wall(2, 3.0, 1.5, (320, 240))
    eyes = fc.map_points(mats[0], fc.PHOTO_EYES)
    frames[:, :, int(eyes[:, 0].mean()):] = 128
    with pytest.raises(NoFaceError, match=r'no face confirmed in the '
                       r'reference frame\(s\) \[0\] .* inter-ocular'):
        align(frames, landmarker)


def test_face_cut_by_the_frame_edge(landmarker):
    """A third of the face out of the frame: aligned (the mesh extends
    past the edge); 45 % of it: no face, not a crop of half a face."""
    frames, mats = fc.make_face_on_wall(2, 3.0, 1.5, (600, 240))
    _, info = align(frames, landmarker)
    assert fc.eye_error(info, mats[0]) < 1.0
    frames, _ = fc.make_face_on_wall(2, 3.0, 1.5, (630, 240))
    with pytest.raises(NoFaceError, match=r'reference frame\(s\) \[0\]'):
        align(frames, landmarker)


# ----------------------------------------------------------------------
# image files as corpora ship them
def test_image_formats(tmp_path):
    """16-bit PNG (top 8 bits), RGBA PNG (alpha dropped), palette PNG and
    BMP, colour and grey BMP (SMIC) read as their 8-bit pixels; a float
    TIFF is refused naming the file (before: read with wrong levels)."""
    from PIL import Image
    from mmakm.datasets.transforms.loading import read_image
    rgb = fc.photo()[:64, :64]
    pal = Image.fromarray(rgb).convert('P')
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    files = {
        'u16.png': (rgb.astype(np.uint16) * 257, rgb),
        'rgba.png': (np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)]),
                     rgb),
        'pal.png': (pal, np.asarray(pal.convert('RGB'))),
        'pal.bmp': (pal, np.asarray(pal.convert('RGB'))),
        'rgb.bmp': (rgb, rgb),
        'gray.bmp': (gray, np.repeat(gray[..., None], 3, 2)),
    }
    for name, (img, want) in files.items():
        path = str(tmp_path / name)
        if isinstance(img, Image.Image):
            img.save(path)
        elif img.dtype == np.uint16:  # PIL writes no 16-bit colour
            cv2.imwrite(path, img[..., ::-1])
        else:
            Image.fromarray(img).save(path)
        np.testing.assert_array_equal(read_image(path), want, err_msg=name)
    path = str(tmp_path / 'float.tiff')
    cv2.imwrite(path, rgb[..., ::-1].astype(np.float32) / 255)
    with pytest.raises(IOError, match=r'float32 image: .*float\.tiff.*'
                       r'8- or 16-bit'):
        read_image(path)


# ----------------------------------------------------------------------
def test_rerun_gives_identical_cache_files(tmp_path):
    """The same clips preprocessed twice (stabilised, each run with its own
    face mesh) give byte-identical .npy and .json files."""
    from mmakm.datasets import CASME2Dataset
    from mmakm.preprocessing.runner import preprocess_dataset
    corpus = str(tmp_path / 'casme2')
    fc.make_face_casme2(corpus, clips=fc.CLIPS[:2], drift_px=1.0)
    recipe = dict(face=dict(size=96), stabilise=dict())
    for run in ('a', 'b'):
        lm = FaceLandmarker()
        preprocess_dataset(CASME2Dataset(data_root=corpus),
                           str(tmp_path / run), recipe, landmarker=lm,
                           log=lambda line: None)
        lm.close()
    for clip in ('EP01_01', 'EP02_02'):
        for ext in ('npy', 'json'):
            a, b = (open(tmp_path / run / 'casme2' / 'sub01' /
                         f'{clip}.{ext}', 'rb').read() for run in 'ab')
            assert a == b, f'{clip}.{ext}'


def test_clip_result_does_not_depend_on_the_clips_before(landmarker):
    """Dataloader workers see the clips in any order: one face mesh
    aligning clip A after clip B gives the same pixels as a fresh one on
    clip A alone."""
    a, _ = fc.make_face_on_wall(2, -6.0, 1.2, (300, 220))
    b, _ = two_faces(2, 1.6)
    fresh = FaceLandmarker()
    want, _ = align(a, fresh)
    fresh.close()
    align(b, landmarker)
    got, _ = align(a, landmarker)
    np.testing.assert_array_equal(got, want)


def test_large_frames_are_held_once(tmp_path, landmarker):
    """tools/preprocess.py holds a clip's decoded frames once (before:
    twice, the decoded list and its stacked copy: traced peak 2.0x the
    clip's bytes here, now 1.1x), and caches the pixels preprocess_clip
    gives on the stacked clip."""
    import tracemalloc
    from mmakm.datasets import CASME2Dataset
    from mmakm.preprocessing.runner import preprocess_dataset
    frames, _ = fc.make_face_on_wall(1, 3.0, 2.0, (600, 330), (1280, 720))
    corpus, n = str(tmp_path / 'casme2'), 10
    fc.write_xlsx(osp.join(corpus, 'CASME2-coding-20140508.xlsx'), [
        ('Subject', 'Filename', 'OnsetFrame', 'ApexFrame', 'OffsetFrame',
         'Action Units', 'Estimated Emotion'),
        (1, 'EP01_01', 1, 5, n, '12', 'happiness')])
    folder = osp.join(corpus, 'CASME2_RAW', 'sub01', 'EP01_01')
    os.makedirs(folder)
    for i in range(1, n + 1):
        cv2.imwrite(osp.join(folder, f'img{i}.jpg'), frames[0][..., ::-1])
    dataset = CASME2Dataset(data_root=corpus)
    for run in ('warm-up', 'cache'):  # imports and first-use set-up first
        tracemalloc.start()
        preprocess_dataset(dataset, str(tmp_path / run), dict(face=dict()),
                           landmarker=landmarker, log=lambda line: None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    clip_bytes = n * frames[0].nbytes
    assert clip_bytes < peak < 1.5 * clip_bytes
    decoded = cv2.imread(osp.join(folder, 'img1.jpg'))[None, ..., ::-1]
    want, _ = align(np.repeat(decoded, n, axis=0), landmarker)
    got = np.load(tmp_path / 'cache' / 'casme2' / 'sub01' / 'EP01_01.npy')
    np.testing.assert_array_equal(got, want)


def test_real_faces_at_low_resolution_are_aligned(landmarker):
    """Faces of other people than the astronaut: the 100 faces of
    scikit-image's LFW subset (25 px, upscaled to 200 px, on a 400 px
    frame). The mesh's refit on the face warped upright is noisy at this
    resolution (up to 0.19 inter-ocular distances for faces whose eyes it
    found right), so a face is aligned when the refit does not contradict
    it (:data:`MAX_PLAUSIBLE_SHIFT_IOD`), not only when it confirms it.
    Before: 10 of the 97 faces the mesh finds refused with NoFaceError,
    among them clearly visible ones (glasses, a smile, a tilted head).
    Every accepted face is upright (eye line within 30 degrees, as LFW's
    faces are) with a plausible inter-ocular distance."""
    from skimage.data import lfw_subset

    from mmakm.preprocessing.face import frame_eyes
    found = aligned = 0
    for face in lfw_subset()[:100]:  # the first 100 are faces
        img = cv2.resize(fc.to_uint8(face * 255), (200, 200),
                         interpolation=cv2.INTER_CUBIC)
        img = cv2.copyMakeBorder(img, 100, 100, 100, 100,
                                 cv2.BORDER_REPLICATE)
        img = np.repeat(img[..., None], 3, axis=2)
        if landmarker(img) is None:
            continue
        found += 1
        eyes, _ = frame_eyes(img, landmarker)
        if eyes is None:
            continue
        aligned += 1
        dx, dy = eyes[1] - eyes[0]
        assert abs(np.degrees(np.arctan2(dy, dx))) < 30
        assert 40 < np.hypot(dx, dy) < 110  # the 200 px faces' eyes
    assert found >= 95
    assert aligned >= found - 2
