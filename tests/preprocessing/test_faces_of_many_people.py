"""The face checks of preprocessing on the faces of other people than the
astronaut: scikit-image's LFW subset (25 px faces of 100 people, upscaled
to 200 px in 400 px frames, ``face_corpus.lfw_clip``), with known head
motion and known events.

A subsample of the faces keeps this fast; ``tools/analysis/many_faces.py``
measures the same over all 100 (the margins below come from it).
"""
import os.path as osp
import sys

import numpy as np
import pytest

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import face_corpus as fc  # noqa: E402

import mmakm  # noqa: E402,F401
from mmakm.preprocessing import (FaceLostError, NoFaceError,  # noqa: E402
                                 clip_alignment, compose_with_alignment,
                                 fit_rigid_warps, preprocess_clip, warp_clip)
from mmakm.preprocessing.clip import face_region  # noqa: E402
from mmakm.preprocessing.face import (canonical_eye_distance,  # noqa: E402
                                      map_points)

SIZE = fc.CROP
IOD = canonical_eye_distance(SIZE, 0.1)
#: every 12th face (different people, glasses, beards, tilted heads)
FACES = list(range(0, 100, 12))
DRIFT = (0.5, 1.5)  # deg, px per frame
NEAR_EDGE = 130.0  # px: the central face region 14 px inside the frame


def clip(i, events=(), at=0.0, n=4, seed=0):
    """(n, 400, 400, 3) uint8: a clip of face ``i``, events in frames 2..,
    light 0.7-1.3 and sensor noise (sigma 3) in every frame, the head
    drifting."""
    rng = np.random.default_rng(seed + i)
    light = [('brightness', t, t + 1, g)
             for t, g in enumerate(rng.uniform(0.7, 1.3, n)) if t]
    events = [(k, 2, n, a) for k, a in events]
    return fc.lfw_clip(i, n, drift=DRIFT, at=(at, 0.0), seed=seed + i,
                       events=events + light + [('noise', 0, n, 3.0)])[0]


def run(frames, landmarker, **kwargs):
    return preprocess_clip(frames, dict(size=SIZE), landmarker=landmarker,
                           frame_numbers=np.arange(10, 10 + len(frames)),
                           **kwargs)


def test_lfw_clip_events_are_where_asked():
    """The corpus: an event changes its frames only, the onset is the
    face as placed, a face that leaves moves by the amount asked."""
    still = fc.lfw_clip(3, 4)[0]
    smile = fc.lfw_clip(3, 4, events=[('smile', 2, 3, 0.12)])[0]
    assert np.array_equal(still[[0, 1, 3]], smile[[0, 1, 3]])
    assert np.abs(still[2].astype(int) - smile[2]).max() > 40
    _, mats = fc.lfw_clip(3, 3, events=[('leave', 1, 3, 50.0)])
    np.testing.assert_allclose(mats[1:, :, 2] - mats[0, :, 2], [[50, 0]] * 2)
    with pytest.raises(ValueError, match='unknown event'):
        fc.lfw_frame(0, events=[('wink', 1.0)])


@pytest.mark.parametrize('events', [
    [('blink', 0.12), ('expression', 0.03)],  # a micro-expression clip
    [('smile', 0.12)],  # macro-expressions go through the same code
    [('open_mouth', 0.2)],
], ids=['blink-micro', 'smile', 'open-mouth'])
def test_good_clips_of_many_people_are_kept(events, landmarker):
    """Over the 96 faces the onset aligns: the lowest correlation is 0.97
    for micro-expression clips, 0.92 with a smile, 0.83 with the mouth
    open (0.6 refuses); no frame has its face outside the frame."""
    lowest = 1.0
    for i in FACES:
        _, info = run(clip(i, events), landmarker)
        lowest = min(lowest, info['min_correlation'])
    assert lowest > (0.9 if events[0][0] == 'blink' else 0.75)


def test_face_near_the_edge_with_drift_is_kept(landmarker):
    """A face whose central region is 14 px inside the frame's edge,
    drifting 1.5 px: not refused (0 of the 93 aligned faces)."""
    for i in FACES:
        run(clip(i, at=NEAR_EDGE), landmarker)


def test_face_leaving_the_frame_is_named(landmarker):
    """The head moves 60 px out of the frame near whose edge it was: the
    rigid fit follows the part still inside with a good correlation
    (passed by it in 56 of 93 faces), the crop would be padded with
    repeated edge pixels; the region check refuses it (4 of 93 pass both,
    8 of 93 at 30 px) and names the frames."""
    passed_corr = refused = 0
    for i in FACES:
        frames = clip(i, [('leave', 60.0)], at=NEAR_EDGE)
        try:
            run(frames, landmarker, max_face_outside=None)
            passed_corr += 1
        except FaceLostError:
            pass
        try:
            run(frames, landmarker)
        except FaceLostError as e:
            refused += 1
            assert 'frame 10' in str(e)  # the reference, by number
            assert '12 (' in str(e) or '13 (' in str(e)
            assert '11 (' not in str(e)  # the face is still there
    assert passed_corr >= len(FACES) // 3
    assert refused >= len(FACES) - 1
    # a face the fit follows out (correlation 1.0): only the region check
    # sees it
    frames = clip(72, [('leave', 60.0)], at=NEAR_EDGE)
    run(frames, landmarker, max_face_outside=None)
    with pytest.raises(FaceLostError, match=r'left the frame in 2 of 4 '
                       r'frames: 12 \(\d+% of it outside\), 13 \(\d+% of it '
                       r'outside\)'
                       r'.*at most 5% expected \(max_face_outside\)'):
        run(frames, landmarker)
    out, _ = run(frames, landmarker, min_correlation=None,
                 max_face_outside=None)  # both checks off: cached as is
    assert out.shape == (4, SIZE, SIZE, 3)


def test_most_swapped_people_are_refused(landmarker):
    """Another person at the same place from frame 2: refused by the
    correlation in 84 of 96 faces; the others (up to 0.77) are a known
    limitation (telling people apart needs identity recognition)."""
    refused = 0
    for i in FACES:
        try:
            run(clip(i, [('swap', (i + 1) % 100)]), landmarker)
        except FaceLostError:
            refused += 1
    assert refused >= len(FACES) * 2 // 3


def test_stabilisation_follows_real_faces(landmarker):
    """The stabilised crop against the known head motion (+-1 deg, +-3 px
    per frame): 0.03 px median, 0.19 px max over 288 frames of 96
    faces."""
    errors = []
    for i in FACES:
        frames, mats = fc.lfw_clip(i, 4, drift=(1.0, 3.0), seed=i)
        matrix, _ = clip_alignment(frames, landmarker, SIZE)
        maps = compose_with_alignment(
            matrix, fit_rigid_warps(warp_clip(frames, matrix, SIZE)).warps)
        pts = face_region(SIZE, IOD)
        face = map_points(np.linalg.inv(np.vstack([mats[0], [0, 0, 1]]))[:2],
                          map_points(maps[0], pts))
        scale = np.hypot(*matrix[0, :2])  # crop px per frame px
        errors += [np.linalg.norm(map_points(maps[t], pts)
                                  - map_points(mats[t], face), axis=1).mean()
                   * scale for t in range(1, 4)]
    assert np.median(errors) < 0.1
    assert max(errors) < 0.35


def test_small_faces_through_the_haar_fallback(landmarker):
    """56 px faces in 640x480 (too small for the mesh in the full frame):
    23 of 24 aligned, eyes within 0.06 IOD of where the mesh puts them at
    200 px; a face not found is a NoFaceError, never a crop."""
    found = 0
    for i in FACES:
        onset, place = fc.lfw_frame(i)
        _, eyes = clip_alignment(onset[None], landmarker, SIZE)
        eyes = map_points(np.linalg.inv(np.vstack([place, [0, 0, 1]]))[:2],
                          eyes)
        frame, face_to_frame = fc.lfw_on_wall(i, 56)
        want = map_points(face_to_frame, eyes)
        try:
            _, info = run(frame[None], landmarker)
        except NoFaceError:
            continue
        found += 1
        err = np.abs(np.asarray(info['eyes']) - want).max()
        assert err < 0.15 * np.hypot(*(want[1] - want[0]))
    assert found >= len(FACES) - 1

