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

    ``landmarker(img)`` returns the (478, 2) float64 landmark pixel
    coordinates (x, y) of the largest face, or None. The mesh model is
    built on first use (it cannot be pickled: dataloader workers build
    their own).

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
            static_image_mode=True, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=self.min_confidence)

    def _mesh_points(self, img: np.ndarray) -> Optional[np.ndarray]:
        if self._mesh is None:
            self._mesh = self._build()
        found = self._mesh.process(np.ascontiguousarray(img))
        if not found.multi_face_landmarks:
            return None
        h, w = img.shape[:2]
        pts = np.array([(p.x, p.y) for p in
                        found.multi_face_landmarks[0].landmark],
                       dtype=np.float64)
        return pts * (w, h)

    def __call__(self, img: np.ndarray) -> Optional[np.ndarray]:
        img = np.asarray(img)
        if img.ndim == 2 or img.shape[2] == 1:
            img = np.repeat(img.reshape(img.shape[:2])[..., None], 3, axis=2)
        pts = self._mesh_points(img)
        if pts is not None or not self.haar_fallback:
            return pts
        # small faces in large frames: the mesh on each Haar box (with
        # context around it) until one holds a face
        h, w = img.shape[:2]
        for box in haar_boxes(img, MIN_FALLBACK_FACE)[:MAX_FALLBACK_BOXES]:
            x0, y0, x1, y1 = square_box(box, 0.4, w, h)
            pts = self._mesh_points(img[y0:y1, x0:x1])
            if pts is not None:
                return pts + (x0, y0)
        return None

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


def clip_alignment(frames: np.ndarray, landmarker: FaceLandmarker,
                   size: int = 144, margin: float = 0.1,
                   eye_distance: Optional[float] = None,
                   ref_frames: int = 1) -> Tuple[np.ndarray, np.ndarray]:
    """(matrix (2, 3), eyes (2, 2)) of a clip from its first frames.

    The eye centres are averaged over the first ``ref_frames`` frames
    (the onset) in which a face is found; NoFaceError if none has one.
    """
    eyes = []
    for img in frames[:max(1, int(ref_frames))]:
        pts = landmarker(img)
        if pts is not None:
            eyes.append(eye_centres(pts))
    if not eyes:
        raise NoFaceError(f'no face found in the reference frame(s) '
                          f'(first {max(1, int(ref_frames))})')
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
