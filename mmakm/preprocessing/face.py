"""Face landmarks and one similarity transform per clip.

Landmarks come from MediaPipe's face mesh (``mediapipe==0.10.21``, the
legacy ``solutions.face_mesh``: 478 points with iris centres, tflite models
inside the wheel, nothing is downloaded). OpenCV's Haar cascade is the
fallback for *detection* only: when the mesh finds no face in the full
frame (small faces in a large frame), it runs again on the Haar boxes.

The alignment is a similarity transform (rotation, isotropic scale,
translation) computed once per clip from the eye centres of its reference
frame(s): eye line horizontal, a fixed inter-ocular distance, the face
centred. Every frame of the clip is warped with the same matrix, so the
crop itself adds no motion between frames.

With several faces in the frame (an interviewer behind the subject) the
largest is aligned; the later reference frames take the face nearest the
first one's eyes. The eyes are confirmed by running the mesh again on the
face warped upright: a mesh fitted to half a face (the rest covered) or to
an upside-down face does not find its eyes there again. A face that is
not confirmed upright is tried with the frame turned by 90, 180 and 270
degrees (a camera on its side or upside down).
"""
import functools
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

CASCADE = 'haarcascade_frontalface_default.xml'

Box = Tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)

# MediaPipe face mesh indices: iris centres (refined mesh) and eye corners.
IRIS_CENTRES = (468, 473)  # image-left eye, image-right eye
EYE_CORNERS = ((33, 133), (362, 263))
# Extent of the face mesh of a frontal face in inter-ocular distances
# (IOD), measured from the eye midpoint with the eye line horizontal:
# height 2.45 IOD (mid-forehead to chin), box centre 0.52 IOD below the eyes.
FACE_HEIGHT_IOD = 2.45
FACE_CENTRE_BELOW_EYES_IOD = 0.52
#: faces the mesh looks for in one frame (the largest is aligned)
MAX_FACES = 4
#: the confirmation crops: side and inter-ocular distances (px) of the
#: face warped upright (the second, with more context, only when the
#: first does not confirm: the mesh's fit of one face varies with the
#: crop, most on blurred faces), and how far (in inter-ocular distances)
#: the mesh may find the eyes again from where the alignment put them.
#: Measured on the astronaut (tests/preprocessing/test_face_*.py): right
#: alignments come back within 0.021 IOD (0.011 without a bar over the
#: eyes).
CHECK_SIZE, CHECK_IODS = 192, (48.0, 36.0)
MAX_EYE_SHIFT_IOD = 0.06
#: a face the crops do not confirm, and no turned frame does either, is
#: still aligned as found when the eyes came back within this distance
#: (IOD): low-resolution faces of real people (scikit-image's LFW subset,
#: 25 px faces upscaled to 200 px) come back up to 0.19 IOD away, meshes
#: fitted to half a face or to a face rolled 100 degrees or more 0.34 to
#: 0.8 IOD away or not at all (tests/preprocessing/test_face_scenes.py).
MAX_PLAUSIBLE_SHIFT_IOD = 0.25


class NoFaceError(RuntimeError):
    """No face (or no landmarks) found where the alignment needs one."""


class FaceLostError(NoFaceError):
    """The face of the reference frame is not found again in some frames
    (it left the frame, was covered, or the frame is blank)."""


# ----------------------------------------------------------------------
# detection (OpenCV fallback)
def cascade_path() -> str:
    """Path of OpenCV's bundled frontal-face Haar cascade (must exist)."""
    return osp.join(cv2.data.haarcascades, CASCADE)


@functools.lru_cache(maxsize=1)  # loaded on first use, once
def load_cascade() -> 'cv2.CascadeClassifier':
    path = cascade_path()
    clf = cv2.CascadeClassifier(path)
    if clf.empty():
        raise RuntimeError(
            f'cannot load the OpenCV face cascade {path} (opencv '
            f'{cv2.__version__}); mmakm needs an opencv 4.x wheel that ships '
            "cv2/data: reinstall with `pip install -e .` (pinned range)")
    return clf


def _gray(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return img.reshape(img.shape[:2])


#: smallest face (px) the landmark fallback looks for: a face about 45 px
#: wide (inter-ocular distance ~13 px) is still found and landmarked
MIN_FALLBACK_FACE = 20
#: Haar boxes tried by the landmark fallback, largest first (the cascade
#: also fires on textured background; the face mesh rejects those)
MAX_FALLBACK_BOXES = 5


def haar_boxes(img: np.ndarray, min_side: int) -> List[Box]:
    """Every Haar face box ``(x0, y0, x1, y1)`` of one frame (RGB or gray),
    at least ``min_side`` px, largest first."""
    found = load_cascade().detectMultiScale(
        _gray(img), scaleFactor=1.1, minNeighbors=5,
        minSize=(min_side, min_side))
    boxes = [(int(x), int(y), int(x + bw), int(y + bh))
             for x, y, bw, bh in found]
    return sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))


def square_box(box, margin: float, w: int, h: int) -> Box:
    """``box`` enlarged by ``margin`` (fraction of its side) on every side,
    made square and moved/clipped into a ``w`` x ``h`` image."""
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = min(max(x1 - x0, y1 - y0) * (1 + 2 * margin), w, h)
    x0 = int(round(min(max(cx - side / 2, 0), w - side)))
    y0 = int(round(min(max(cy - side / 2, 0), h - side)))
    s = int(round(side))
    return x0, y0, x0 + s, y0 + s


def detect_face_box(frames: Sequence[np.ndarray], max_probe: int = 16,
                    margin: float = 0.15,
                    min_size_ratio: float = 0.15) -> Optional[Box]:
    """Median Haar face box over up to ``max_probe`` evenly spaced frames.

    Frames are RGB (H, W, 3) or gray (H, W) / (H, W, 1) uint8. In each probed
    frame the largest detection counts. The median box is enlarged by
    ``margin`` on every side, made square and clipped to the image. None if
    no frame has a face.
    """
    if not len(frames):
        return None
    h, w = np.asarray(frames[0]).shape[:2]
    min_side = max(12, int(min_size_ratio * min(h, w)))
    boxes = []
    probe = np.unique(np.linspace(0, len(frames) - 1,
                                  min(max_probe, len(frames))).round().astype(int))
    for i in probe:
        found = haar_boxes(frames[i], min_side)
        if found:
            boxes.append(found[0])
    if not boxes:
        return None
    return square_box(np.median(np.asarray(boxes, dtype=np.float64), axis=0),
                      margin, w, h)


# ----------------------------------------------------------------------
# landmarks
class FaceLandmarker:
    """MediaPipe face mesh on single RGB images, Haar box as fallback.

    ``landmarker.faces(img)`` returns the (478, 2) float64 landmark pixel
    coordinates (x, y) of every face found (up to :data:`MAX_FACES`),
    largest first (area of the mesh's bounding box; ties: leftmost);
    ``landmarker(img)`` the largest one, or None. The mesh model is built
    on first use (it cannot be pickled: dataloader workers build their
    own).

    Args:
        min_confidence (float): face detection confidence threshold.
        haar_fallback (bool): when the mesh finds nothing in the full
            frame, run it again on the Haar cascade's face box.
    """

    def __init__(self, min_confidence: float = 0.5,
                 haar_fallback: bool = True) -> None:
        self.min_confidence = float(min_confidence)
        self.haar_fallback = haar_fallback
        self._mesh = None

    def _build(self):
        try:
            from mediapipe.python.solutions import face_mesh
        except ImportError as exc:
            raise ImportError(
                'face landmarks need mediapipe 0.10.21: pip install -e '
                f'".[face]" ({type(exc).__name__}: {exc})') from exc
        return face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=MAX_FACES,
            refine_landmarks=True,
            min_detection_confidence=self.min_confidence)

    def _mesh_points(self, img: np.ndarray) -> List[np.ndarray]:
        if self._mesh is None:
            self._mesh = self._build()
        found = self._mesh.process(np.ascontiguousarray(img))
        h, w = img.shape[:2]
        return [np.array([(p.x, p.y) for p in face.landmark],
                         dtype=np.float64) * (w, h)
                for face in found.multi_face_landmarks or ()]

    def faces(self, img: np.ndarray) -> List[np.ndarray]:
        """Landmarks (478, 2) of every face in ``img``, largest first."""
        img = np.asarray(img)
        if img.ndim == 2 or img.shape[2] == 1:
            img = np.repeat(img.reshape(img.shape[:2])[..., None], 3, axis=2)
        found = self._mesh_points(img)
        if not found and self.haar_fallback:
            # small faces in large frames: the mesh on each Haar box (with
            # context around it, largest first) until one holds a face
            h, w = img.shape[:2]
            for box in haar_boxes(img, MIN_FALLBACK_FACE)[:MAX_FALLBACK_BOXES]:
                x0, y0, x1, y1 = square_box(box, 0.4, w, h)
                found = [pts + (x0, y0) for pts in
                         self._mesh_points(img[y0:y1, x0:x1])]
                if found:
                    break
        # the detector's own order follows its scores: sort, so the
        # largest face wins whatever else is in the frame
        return sorted(found, key=lambda p: (-float(np.prod(np.ptp(p, 0))),
                                            float(p[:, 0].min())))

    def __call__(self, img: np.ndarray) -> Optional[np.ndarray]:
        found = self.faces(img)
        return found[0] if found else None

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_mesh'] = None
        return state

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None


def eye_centres(landmarks: np.ndarray) -> np.ndarray:
    """(2, 2) centres (x, y) of the image-left and image-right eye.

    Iris centres of the refined 478-point mesh; eye-corner midpoints of
    the 468-point mesh.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if len(landmarks) > max(IRIS_CENTRES):
        return landmarks[list(IRIS_CENTRES)]
    return np.stack([landmarks[list(c)].mean(0) for c in EYE_CORNERS])


# ----------------------------------------------------------------------
# alignment
def canonical_eye_distance(size: int, margin: float) -> float:
    """Inter-ocular distance (px) that fits an average face in ``size``
    with ``margin`` (fraction of the face height) on every side."""
    return size / ((1 + 2 * margin) * FACE_HEIGHT_IOD)


def similarity_from_eyes(eyes: np.ndarray, size: int = 144,
                         margin: float = 0.1,
                         eye_distance: Optional[float] = None) -> np.ndarray:
    """(2, 3) matrix mapping frame pixels to the aligned ``size`` crop.

    The eye centres ``eyes`` (2, 2) land on one row, ``eye_distance`` px
    apart (default: :func:`canonical_eye_distance`), symmetric about the
    vertical centre line, with the average face centred vertically.
    """
    eyes = np.asarray(eyes, dtype=np.float64).reshape(2, 2)
    d = (canonical_eye_distance(size, margin) if eye_distance is None
         else float(eye_distance))
    v = eyes[1] - eyes[0]
    norm = float(np.hypot(*v))
    if norm <= 0:
        raise NoFaceError('the two eye centres coincide')
    scale = d / norm
    cos, sin = scale * v[0] / norm, scale * v[1] / norm
    rot = np.array([[cos, sin], [-sin, cos]])  # rotates v onto +x
    dst_mid = np.array([size / 2.0,
                        size / 2.0 - FACE_CENTRE_BELOW_EYES_IOD * d])
    shift = dst_mid - rot @ eyes.mean(0)
    return np.hstack([rot, shift[:, None]])


def warp_clip(frames: np.ndarray, matrices: np.ndarray, size: int,
              inverse: bool = False) -> np.ndarray:
    """Warp every frame of ``frames`` (T, H, W, C) to (T, size, size, C).

    ``matrices`` is one (2, 3) matrix for the clip or (T, 2, 3), forward
    (frame -> output) unless ``inverse`` (output -> frame). Bilinear;
    outside the frame the edge pixels are repeated (a constant fill would
    leave a border that moves with the head in stabilised clips).
    ``frames`` may also be a sequence of (H, W, C) frames decoded on
    access (a long video): only the output is held in memory.
    """
    mats = np.broadcast_to(np.asarray(matrices, dtype=np.float64),
                           (len(frames), 2, 3))
    flags = cv2.INTER_LINEAR | (cv2.WARP_INVERSE_MAP if inverse else 0)
    out = None
    for t, frame in enumerate(frames):  # one cv2 call per frame
        frame = np.asarray(frame)
        if out is None:
            out = np.empty((len(frames), size, size) + frame.shape[2:],
                           dtype=frame.dtype)
        warped = cv2.warpAffine(frame, mats[t], (size, size), flags=flags,
                                borderMode=cv2.BORDER_REPLICATE)
        out[t] = warped.reshape(out.shape[1:])
    if out is None:  # no frames
        frames = np.asarray(frames)
        return np.empty((0, size, size) + frames.shape[3:], frames.dtype)
    return out


def map_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (N, 2) through a (2, 3) affine matrix."""
    matrix = np.asarray(matrix, dtype=np.float64)
    return np.asarray(points, dtype=np.float64) @ matrix[:, :2].T + \
        matrix[:, 2]


def rot90_matrix(k: int, w: int, h: int) -> np.ndarray:
    """(3, 3) map of pixel (x, y) of a ``w`` x ``h`` frame to its place in
    ``np.rot90(frame, k)`` (k quarter turns counter-clockwise)."""
    out = np.eye(3)
    for _ in range(k % 4):
        out = np.array([[0, 1, 0], [-1, 0, w - 1], [0, 0, 1]]) @ out
        w, h = h, w
    return out


def eye_shift(img: np.ndarray, eyes: np.ndarray,
              landmarker: FaceLandmarker) -> float:
    """How far (inter-ocular distances) the mesh finds the eyes again when
    ``img`` is warped upright by the alignment of ``eyes`` (2, 2): the
    nearest over the crops of :data:`CHECK_IODS` (the next crop only when
    this one does not confirm); inf when it finds no face there."""
    best = np.inf
    for iod in CHECK_IODS:
        matrix = similarity_from_eyes(eyes, CHECK_SIZE, eye_distance=iod)
        crop = warp_clip(np.asarray(img)[None], matrix, CHECK_SIZE)[0]
        want = map_points(matrix, eyes)
        shifts = [np.abs(eye_centres(p) - want).max() / iod
                  for p in landmarker.faces(crop)]
        best = min(best, min(shifts, default=np.inf))
        if best <= MAX_EYE_SHIFT_IOD:
            break
    return best


def _upright(eyes: np.ndarray) -> bool:
    """Whether the eye line (image-left eye first) is within 45 degrees of
    horizontal."""
    dx, dy = eyes[1] - eyes[0]
    return dx > abs(dy)


def frame_eyes(img: np.ndarray, landmarker: FaceLandmarker,
               near: Optional[np.ndarray] = None
               ) -> Tuple[Optional[np.ndarray], Optional[float]]:
    """``(eyes (2, 2), None)`` of the face of one frame, confirmed upright
    (:func:`eye_shift`) or, failing that, plausible as the frame is
    (:data:`MAX_PLAUSIBLE_SHIFT_IOD`); else ``(None, shift)`` with the
    smallest shift of a face found (None: no face at all).

    The largest face, or the one nearest ``near`` (eyes of another frame).
    The frame as it is first, then turned by 90, 180 and 270 degrees
    (there only a face upright in the turned frame counts).
    """
    img = np.asarray(img)
    h, w = img.shape[:2]
    shift, as_is = None, None
    for k in range(4):
        found = landmarker.faces(np.rot90(img, k) if k else img)
        if k:  # only a face upright in the turned frame: a mesh fitted to
            # half a face can confirm itself in a turned frame
            found = [p for p in found if _upright(eye_centres(p))]
        if not found:
            continue
        back = np.linalg.inv(rot90_matrix(k, w, h))[:2]
        eyes = [map_points(back, eye_centres(p)) for p in found]
        if near is not None:
            eyes.sort(key=lambda e: float(np.abs(e - near).max()))
        s = eye_shift(img, eyes[0], landmarker)
        if s <= MAX_EYE_SHIFT_IOD:
            return eyes[0], None
        if k == 0:
            as_is = eyes[0], s
        shift = s if shift is None else min(shift, s)
    # no crop confirms the face and no turned frame holds a confirmed one:
    # the face as found, unless the mesh on it upright contradicts it
    if as_is is not None and as_is[1] <= MAX_PLAUSIBLE_SHIFT_IOD:
        return as_is[0], None
    return None, shift


def clip_alignment(frames: np.ndarray, landmarker: FaceLandmarker,
                   size: int = 144, margin: float = 0.1,
                   eye_distance: Optional[float] = None,
                   ref_frames: int = 1,
                   frame_numbers: Optional[Sequence[int]] = None
                   ) -> Tuple[np.ndarray, np.ndarray]:
    """(matrix (2, 3), eyes (2, 2)) of a clip from its first frames.

    The eye centres are averaged over the first ``ref_frames`` frames
    (the onset) in which a face is found and confirmed
    (:func:`frame_eyes`): the largest face of the first, the same face
    (nearest eyes) in the others. NoFaceError, naming the reference frames
    (``frame_numbers``: corpus numbers of ``frames``), if none has one.
    """
    n = max(1, int(ref_frames))
    eyes, shifts = [], []
    for img in frames[:n]:
        found, shift = frame_eyes(img, landmarker, eyes[0] if eyes else None)
        if found is not None:
            eyes.append(found)
        elif shift is not None:
            shifts.append(shift)
    if not eyes:
        refs = (list(range(min(n, len(frames)))) if frame_numbers is None
                else [int(f) for f in frame_numbers[:n]])
        where = f'reference frame(s) {refs}' + (
            ' (positions)' if frame_numbers is None else '')
        if shifts:
            raise NoFaceError(
                f'no face confirmed in the {where}: the face mesh found one, '
                'but not its eyes again on the face warped upright (they '
                f'came back {min(shifts):.2f} inter-ocular distances away, '
                f'at most {MAX_PLAUSIBLE_SHIFT_IOD} expected; inf: no face '
                'there): half the face covered or out of the frame, or no '
                'face')
        raise NoFaceError(f'no face found in the {where}')
    eyes = np.mean(eyes, axis=0)
    return similarity_from_eyes(eyes, size, margin, eye_distance), eyes


def box_alignment(frames: np.ndarray, size: int = 144) -> np.ndarray:
    """(2, 3) matrix of the Haar box crop scaled to ``size`` (no rotation);
    NoFaceError if no frame has a face."""
    box = detect_face_box(frames)
    if box is None:
        raise NoFaceError('no face found by the OpenCV Haar cascade')
    x0, y0, x1, y1 = box
    s = size / float(x1 - x0)
    return np.array([[s, 0, -s * x0], [0, s, -s * y0]])
