"""The built-in synthetic corpus, written in the exact CASME II layout.

``make_synthetic_casme2(root, seed=0)`` writes, deterministically from the
seed (byte-identical files for the same arguments)::

    <root>/CASME2-coding-20140508.xlsx      Sheet1, CASME II's columns
    <root>/CASME2_RAW/sub01/EP03_02/img57.jpg ...
    <root>/CASME2_video/sub01/EP03_02.mp4   (mp4v; video frame 0 = the
                                             first image of the clip folder)

so every CASME II config (``CASME2Dataset(data_root=<root>)``) runs on it
unchanged. Default size: 8 subjects x 8 clips, 96 x 96 px frames at 200 fps
(CASME II's frame rate). Each subject has its own appearance (face shape and
position, skin tone, hair, feature layout). Each clip is a neutral face with
nuisance (head motion, blinks, illumination flicker, sensor noise) and ONE
facial movement whose region and direction define the emotion:

==========  ==============================================================
happiness   both mouth corners up (and a third of that outwards)
surprise    both brows raised, eyes slightly wider
disgust     brows lowered and drawn together, nose wrinkle
repression  lips pressed (thinner, narrower mouth)
others      one (left) mouth corner up and out (unilateral)
==========  ==============================================================

Every subject gets happiness, surprise, disgust twice, repression and
others once (8 clips): with 'paper4' (positive, negative, surprise, others)
each class is 1/4 of the corpus; with 'megc3' the 'others' clips are
excluded.

Default levels (stated, with the real-corpus figure that motivates them;
face width ~ 0.66 x 96 = 63 px):

* movement: the moving feature (mouth corner, brow, lip edge) travels
  ``movement_px`` = 1.5 px at the apex (x 0.6-1.0 per clip, i.e. 0.9-1.5 px,
  about 2 % of the face width). ME displacements in cropped CASME II faces
  are a few pixels at most; optical-flow ME methods magnify them because
  they are near the noise floor. The movement spans the annotated
  onset..offset as in CASME II (onset and offset are where the movement
  starts and ends), rising as a raised cosine to the apex (at 25-60 % of the
  span) and decaying to the offset. Clip lengths 20-140 frames, median ~60
  (100-700 ms at 200 fps; CASME II: 24-141, median 61).
* head motion: smooth translation, independent in x and y, std ``jitter``
  = 1.0 px per axis, correlation time ~100 ms (20 frames): peak
  excursions of 2-3 px within a clip, as large as the movement ("head
  drift of a few pixels" in CASME II, recorded with the head free).
* blinks: with probability ``blink_prob`` = 0.5 a clip holds one full blink
  (eyelids 95 % closed) of 100-300 ms (20-60 frames), fast closing and
  slower opening, placed uniformly over the recorded frames (spontaneous
  blinks last ~100-400 ms; in elicitation videos participants blink often).
  A blink moves the eyelids by the full eye height (2-3 px), more than the
  micro-expression moves anything.
* flicker: a global multiplicative gain with std ``flicker`` = 1 % that
  changes from frame to frame (correlation ~10 ms: the 100 Hz ripple of
  mains-powered lighting seen at 200 fps).
* sensor noise: i.i.d. Gaussian, std ``noise`` = 3 grey levels, then JPEG
  quality 95 (CASME II ships JPEG frames).

No level was chosen for any model to succeed; the CLI (tools/misc/
make_synthetic.py) exposes each of them. The clip folders also hold 0-4
neutral frames before onset and after offset, as real recordings do.
"""
import datetime
import hashlib
import io
import json
import os
import os.path as osp
import re
import zipfile
from typing import Optional

import cv2
import numpy as np

from ..engine.fileio import atomic_directory

EMOTIONS = ('happiness', 'surprise', 'disgust', 'repression', 'others')
ACTION_UNITS = dict(happiness='12', surprise='1+2', disgust='4+9',
                    repression='14+24', others='L12')
XLSX_NAME = 'CASME2-coding-20140508.xlsx'
HEADER = ('Subject', 'Filename', 'OnsetFrame', 'ApexFrame', 'OffsetFrame',
          'Action Units', 'Estimated Emotion')
_FIXED_DATE = datetime.datetime(2014, 5, 8, 0, 0, 0)
_ZIP_DATE = (2014, 5, 8, 0, 0, 0)
_SHIFT = 4  # cv2 drawing sub-pixel bits
_ONE = 1 << _SHIFT
MARKER = '.mmakm_synthetic.json'
#: per-clip ground truth of the generator (movement, blink and head motion
#: per frame), for analyses only; no dataset reads it
TRUTH = '.mmakm_synthetic_truth.json'


class CorpusExistsError(FileExistsError):
    """``root`` holds something else than the corpus asked for.

    Attributes:
        found (dict | None): the arguments it was made with (None: not a
            synthetic corpus).
        asked (dict): the arguments asked for.
    """

    def __init__(self, root: str, found: Optional[dict], asked: dict,
                 marker: Optional[str] = None):
        self.root, self.found, self.asked = root, found, asked
        if found is None:
            what = f'is not a synthetic corpus (no {marker or MARKER})'
        else:
            diff = [k for k in asked if found.get(k) != asked[k]]
            what = ('was made with ' + ', '.join(
                f'{k}={found.get(k)!r}' for k in diff) + ', not ' +
                ', '.join(f'{k}={asked[k]!r}' for k in diff))
        super().__init__(f'{root} {what}; pass overwrite=True (CLI: '
                         '--overwrite) to replace it, or use another root')


def _p(x, y):
    return (int(round(x * _ONE)), int(round(y * _ONE)))


def _subject_look(rng, size):
    s = size
    skin = np.array([rng.uniform(90, 200), rng.uniform(110, 210),
                     rng.uniform(140, 235)])  # BGR
    return dict(
        bg=float(rng.uniform(30, 110)),
        cx=s / 2 + rng.uniform(-3, 3), cy=s / 2 + rng.uniform(-2, 4),
        ax=s * rng.uniform(0.30, 0.36), ay=s * rng.uniform(0.40, 0.46),
        skin=skin, hair=skin * rng.uniform(0.15, 0.45),
        hair_h=rng.uniform(0.15, 0.3),
        eye_y=-s * rng.uniform(0.10, 0.14), eye_dx=s * rng.uniform(0.13, 0.17),
        eye_w=s * rng.uniform(0.05, 0.065), eye_h=s * rng.uniform(0.022, 0.032),
        brow_dy=-s * rng.uniform(0.075, 0.095), brow_w=s * rng.uniform(0.09, 0.12),
        brow_t=int(rng.integers(2, 4)),
        nose_y=s * rng.uniform(0.04, 0.07),
        mouth_y=s * rng.uniform(0.18, 0.22), mouth_w=s * rng.uniform(0.09, 0.12),
        lip=s * rng.uniform(0.018, 0.028),
        dark=rng.uniform(0.25, 0.45))


def _render(look, size, dx, dy, blink, emotion, d):
    """One BGR frame (before flicker and noise).

    ``dx``, ``dy``: head translation (px); ``blink`` in [0, 1] (1 = closed);
    ``d``: displacement of the moving feature in px (0 = neutral).
    """
    s = size
    img = np.full((s, s, 3), look['bg'], np.uint8)
    cx, cy = look['cx'] + dx, look['cy'] + dy
    skin = tuple(float(v) for v in np.clip(look['skin'], 0, 255))
    dark = tuple(float(v) * look['dark'] for v in skin)
    aa = cv2.LINE_AA
    # hair behind, face
    cv2.ellipse(img, _p(cx, cy - look['ay'] * look['hair_h']),
                _p(look['ax'] * 1.08, look['ay'] * 0.95), 0, 0, 360,
                tuple(float(v) for v in look['hair']), -1, aa, _SHIFT)
    cv2.ellipse(img, _p(cx, cy), _p(look['ax'], look['ay']), 0, 0, 360, skin,
                -1, aa, _SHIFT)
    # movement parameters (px; image y grows downwards)
    brow_dy = eye_open = corner_l = corner_r = out_l = out_r = 0.0
    inner = wrinkle = 0.0
    lip, mw = look['lip'], look['mouth_w']
    if emotion == 'happiness':
        corner_l = corner_r = -d
        out_l = out_r = d / 3
    elif emotion == 'surprise':
        brow_dy = -d
        eye_open = 0.5 * d / look['eye_h']
    elif emotion == 'disgust':
        brow_dy = 0.7 * d
        inner = 0.5 * d
        wrinkle = min(1.0, d / 2)
    elif emotion == 'repression':
        lip = max(0.15 * lip, lip - 0.6 * d)
        mw = mw - 0.5 * d
        corner_l = corner_r = 0.3 * d
    elif emotion == 'others':
        corner_l = -d
        out_l = d / 3
    # eyes and brows
    for side in (-1, 1):
        ex, ey = cx + side * look['eye_dx'], cy + look['eye_y']
        eh = look['eye_h'] * (1 + eye_open) * (1 - 0.95 * blink)
        cv2.ellipse(img, _p(ex, ey), _p(look['eye_w'], max(eh, 0.3)), 0, 0,
                    360, dark, -1, aa, _SHIFT)
        by = ey + look['brow_dy'] + brow_dy
        x_in = ex - side * look['brow_w'] * 0.5 - side * inner
        x_out = ex + side * look['brow_w'] * 0.5
        cv2.line(img, _p(x_in, by + inner), _p(x_out, by - 0.01 * s), dark,
                 look['brow_t'], aa, _SHIFT)
    # nose and wrinkle
    ny = cy + look['nose_y']
    cv2.line(img, _p(cx, cy + look['eye_y'] + 0.05 * s), _p(cx - 0.01 * s, ny),
             tuple(v * 0.8 for v in skin), 1, aa, _SHIFT)
    for side in (-1, 1):
        cv2.circle(img, _p(cx + side * 0.03 * s, ny), int(0.012 * s * _ONE),
                   dark, -1, aa, _SHIFT)
    if wrinkle > 0:
        col = tuple(a + (b - a) * wrinkle for a, b in zip(skin, dark))
        for k in range(2):
            yy = cy + look['eye_y'] + (0.06 + 0.035 * k) * s
            cv2.line(img, _p(cx - 0.035 * s, yy), _p(cx + 0.035 * s, yy), col,
                     1, aa, _SHIFT)
    # mouth: polygon left corner, upper mid, right corner, lower mid
    my = cy + look['mouth_y']
    pts = np.array([_p(cx - mw - out_l, my + corner_l),
                    _p(cx, my - lip * 0.6),
                    _p(cx + mw + out_r, my + corner_r),
                    _p(cx, my + lip)], np.int32)
    cv2.fillPoly(img, [pts], (dark[0], dark[1], min(255.0, dark[2] * 1.4)),
                 aa, _SHIFT)
    return img


def _envelope(length, start, apex, end):
    t = np.arange(length, dtype=np.float64)
    m = np.zeros(length)
    up = (t >= start) & (t <= apex)
    m[up] = 0.5 - 0.5 * np.cos(np.pi * (t[up] - start) / max(apex - start, 1))
    down = (t > apex) & (t <= end)
    m[down] = 0.5 + 0.5 * np.cos(np.pi * (t[down] - apex) / max(end - apex, 1))
    return m


def _smooth_walk(rng, n, std, smooth=8):
    """Smooth, bounded jitter: low-passed white noise with the given std."""
    white = rng.normal(0, 1, n + smooth - 1)
    walk = np.convolve(white, np.ones(smooth) / np.sqrt(smooth), mode='valid')
    return walk[:n] * std


def _clip_length(rng, min_len, max_len):
    length = int(round(rng.lognormal(np.log(60), 0.35)))
    return int(np.clip(length, min_len, max_len))


def _write_bytes(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def _write_xlsx(path, rows):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = 'Sheet1'
    ws.append(list(HEADER))
    for r in rows:
        ws.append(list(r))
    wb.properties.created = _FIXED_DATE
    wb.properties.modified = _FIXED_DATE
    wb.properties.creator = 'mmakm synthetic'
    buf = io.BytesIO()
    wb.save(buf)
    _normalize_zip(buf.getvalue(), path)


def _normalize_zip(data: bytes, path: str) -> None:
    """Rewrite an xlsx with fixed entry timestamps and core.xml dates."""
    fixed = _FIXED_DATE.strftime('%Y-%m-%dT%H:%M:%SZ')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, \
            zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename == 'docProps/core.xml':
                text = content.decode('utf-8')
                text = re.sub(r'(<dcterms:(created|modified)[^>]*>)[^<]*(<)',
                              lambda mt: mt.group(1) + fixed + mt.group(3),
                              text)
                content = text.encode('utf-8')
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            zi.create_system = 0
            zout.writestr(zi, content)
    _write_bytes(path, out.getvalue())


def _write_video(path, frames, fps):
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (w, h))
    if not writer.isOpened():
        raise IOError(f'cannot open a mp4v video writer for {path}')
    for f in frames:
        writer.write(f)
    writer.release()


def make_synthetic_casme2(root: str,
                          seed: int = 0,
                          n_subjects: int = 8,
                          clips_per_subject: int = 8,
                          size: int = 96,
                          min_len: int = 20,
                          max_len: int = 140,
                          video: bool = True,
                          fps: float = 200.0,
                          jpeg_quality: int = 95,
                          movement_px: float = 1.5,
                          jitter: float = 1.0,
                          blink_prob: float = 0.5,
                          flicker: float = 1.0,
                          noise: float = 3.0,
                          overwrite: bool = False) -> str:
    """Write the synthetic corpus under ``root`` and return ``root``.

    The corpus is generated in a temporary sibling folder and renamed into
    place, so ``root`` is either absent or complete. If ``root`` already
    holds a corpus generated with the same arguments it is kept as is;
    anything else there raises :class:`CorpusExistsError` (a
    FileExistsError) unless ``overwrite=True``.
    The defaults are the levels stated (and motivated) in the module
    docstring.

    Args:
        root: output folder (the CASME II ``data_root``).
        seed: random seed; the same arguments give byte-identical files.
        n_subjects, clips_per_subject: corpus size (default 8 x 8 = 64).
        size: frame width = height in pixels (default 96).
        min_len, max_len: onset..offset length range in frames.
        video: also write ``CASME2_video/subXX/<clip>.mp4``.
        fps: frame rate (CASME II: 200); blink durations are in ms.
        jpeg_quality: cv2 JPEG quality.
        movement_px: apex displacement of the moving feature in pixels
            (scaled by 0.6-1.0 per clip).
        jitter: std of the smooth head translation per axis in pixels.
        blink_prob: probability that a clip holds one blink.
        flicker: std of the global illumination gain in percent.
        noise: std of the per-pixel sensor noise in grey levels.
    """
    params = dict(seed=seed, n_subjects=n_subjects,
                  clips_per_subject=clips_per_subject, size=size,
                  min_len=min_len, max_len=max_len, video=video, fps=fps,
                  jpeg_quality=jpeg_quality, movement_px=movement_px,
                  jitter=jitter, blink_prob=blink_prob, flicker=flicker,
                  noise=noise, version=3)
    root = osp.abspath(root)
    if osp.exists(root):
        marker, found = osp.join(root, MARKER), None
        if not overwrite and osp.isfile(marker):
            with open(marker) as f:
                found = json.load(f)
            if found == params:
                return root
        if not overwrite:
            raise CorpusExistsError(root, found, params)
    if not 1 <= n_subjects <= 99:
        raise ValueError('n_subjects must be in 1..99')
    if not 4 <= min_len <= max_len:
        raise ValueError('need 4 <= min_len <= max_len')
    if not 0 <= blink_prob <= 1:
        raise ValueError('blink_prob must be in [0, 1]')
    with atomic_directory(root) as tmp:
        _generate(tmp, params)
        with open(osp.join(tmp, MARKER), 'w') as f:
            json.dump(params, f, sort_keys=True)
    return root


#: one subject's 8 clips: 2 of each 'paper4' class (positive = happiness,
#: negative = disgust, surprise, others = repression + others)
CLIP_PLAN = ('happiness', 'surprise', 'disgust', 'repression', 'happiness',
             'surprise', 'disgust', 'others')
#: head-motion and flicker correlation times (ms)
HEAD_CORR_MS = 100.0
FLICKER_CORR_MS = 10.0
BLINK_MS = (100.0, 300.0)


def _frames(ms, fps):
    return max(1, int(round(ms * fps / 1000.0)))


def _blink_profile(n):
    """Eyelid closure over ``n`` frames: closing in 1/3, opening in 2/3."""
    t = np.arange(n) + 0.5
    close = max(1.0, n / 3)
    up = np.sin(0.5 * np.pi * np.minimum(t / close, 1.0))
    down = np.cos(0.5 * np.pi * np.clip((t - close) / (n - close), 0, 1))
    return np.where(t < close, up, down)


def _generate(out, p):
    rng = np.random.default_rng(p['seed'])
    size, fps = p['size'], p['fps']
    enc = [cv2.IMWRITE_JPEG_QUALITY, int(p['jpeg_quality'])]
    rows, truth = [], {}
    for si in range(p['n_subjects']):
        sub = f'sub{si + 1:02d}'
        look = _subject_look(rng, size)
        n = p['clips_per_subject']
        emotions = [CLIP_PLAN[(si * n + k) % len(CLIP_PLAN)]
                    for k in range(n)]
        emotions = [emotions[i] for i in rng.permutation(n)]
        eps = np.sort(rng.choice(np.arange(2, 20), size=n,
                                 replace=n > 18))
        for k, emotion in enumerate(emotions):
            clip = f'EP{int(eps[k]):02d}_{k + 1:02d}' + \
                ('f' if rng.random() < 0.3 else '')
            length = _clip_length(rng, p['min_len'], p['max_len'])
            pre, post = int(rng.integers(0, 5)), int(rng.integers(0, 5))
            first = int(rng.integers(1, 300))
            onset = first + pre
            offset = onset + length - 1
            # the movement spans onset..offset (annotated as in CASME II)
            apex_pos = int(round((length - 1) * rng.uniform(0.25, 0.6)))
            apex_pos = min(max(apex_pos, 1), length - 2)
            total = pre + length + post
            disp = np.zeros(total)
            disp[pre:pre + length] = _envelope(length, 0, apex_pos,
                                               length - 1)
            disp *= rng.uniform(0.6, 1.0) * p['movement_px']
            head_corr = _frames(HEAD_CORR_MS, fps)
            dx = _smooth_walk(rng, total, p['jitter'], head_corr)
            dy = _smooth_walk(rng, total, p['jitter'], head_corr)
            gain = 1 + _smooth_walk(rng, total, p['flicker'] / 100,
                                    _frames(FLICKER_CORR_MS, fps))
            blink = np.zeros(total)
            if rng.random() < p['blink_prob']:
                bl = _frames(rng.uniform(*BLINK_MS), fps)
                b0 = int(rng.integers(-bl // 2, total - bl // 2))
                prof = _blink_profile(bl)
                lo, hi = max(b0, 0), min(b0 + bl, total)
                blink[lo:hi] = prof[lo - b0:hi - b0]
            folder = osp.join(out, 'CASME2_RAW', sub, clip)
            os.makedirs(folder)
            frames = []
            for t in range(total):
                img = _render(look, size, dx[t], dy[t], blink[t], emotion,
                              disp[t]).astype(np.float64)
                img = img * gain[t] + rng.normal(0.0, p['noise'], img.shape)
                img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
                ok, buf = cv2.imencode('.jpg', img, enc)
                assert ok
                _write_bytes(osp.join(folder, f'img{first + t}.jpg'),
                             buf.tobytes())
                frames.append(img)
            if p['video']:
                vdir = osp.join(out, 'CASME2_video', sub)
                os.makedirs(vdir, exist_ok=True)
                _write_video(osp.join(vdir, clip + '.mp4'), frames, fps)
            rows.append((si + 1, clip, onset, onset + apex_pos, offset,
                         ACTION_UNITS[emotion], emotion))
            truth[f'{sub}/{clip}'] = dict(
                first=first, movement_px=_rounded(disp), blink=_rounded(blink),
                head_dx=_rounded(dx), head_dy=_rounded(dy))
    rows.sort(key=lambda r: (r[0], r[1]))
    _write_xlsx(osp.join(out, XLSX_NAME), rows)
    with open(osp.join(out, TRUTH), 'w') as f:
        json.dump(truth, f, sort_keys=True)


def _rounded(values):
    return [round(float(v), 3) for v in values]


def load_truth(root: str) -> dict:
    """The generator's per-clip ground truth: ``{'sub01/EP03_02': dict(
    first, movement_px, blink, head_dx, head_dy)}``, lists indexed by
    ``frame number - first`` (every frame of the clip folder)."""
    with open(osp.join(root, TRUTH)) as f:
        return json.load(f)


def corpus_digest(root: str) -> str:
    """SHA-256 over the relative paths and bytes of every file under root."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = osp.join(dirpath, name)
            h.update(osp.relpath(path, root).encode())
            with open(path, 'rb') as f:
                h.update(f.read())
    return h.hexdigest()
