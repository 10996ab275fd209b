"""Refuse MMAction2 decoders that cannot read ME samples.

MMAction2's frame and video decoders read its own sample conventions: a
rawframe folder (``frame_dir`` + ``filename_tmpl``, index shifted by
``offset``) or a whole video (``filename``, ``total_frames`` set to the
video's length). ME samples are onset..offset clips: ``frame_paths``
(images) or ``filename`` + ``video_frame_inds`` (the clip's frames within
the video), and ``offset`` is the annotated offset frame number. Such a
decoder would fail on a missing key (``KeyError: 'frame_dir'``) or, worse,
silently decode frames outside the clip (``DecordInit`` makes the whole
video the clip). They are refused when the dataset is built, naming the
step and the replacement.

Two MMAction2 steps that do run on ME samples are adapted to them:
``PackActionInputs`` packs the ME metainfo (:data:`ME_META_KEYS`, which
the metrics and reports read) whatever ``meta_keys`` it was given, and
a ``SampleFrames`` that would sample past a clip's last frame (a span
longer than the clip, or in training more segments than it has frames;
MMAction2 then silently loops the clip, its offset followed by its onset)
is refused once the clips' lengths are known.
"""
from typing import Iterable, Sequence, Tuple

import numpy as np

from ..errors import PipelineError

__all__ = ['FOREIGN_DECODERS', 'ME_META_KEYS', 'check_me_pipeline',
           'add_me_meta_keys', 'check_sampleframes_span']

#: ActionDataSample metainfo read by MEMetric / KeyFrameApexMetric / reports
ME_META_KEYS = ('subject', 'corpus', 'clip_id', 'onset', 'apex', 'offset',
                'emotion', 'fps', 'frame_numbers_fed', 'img_shape')

#: MMAction2 transforms that read frames by MMAction2's sample conventions
FOREIGN_DECODERS = frozenset({
    'RawFrameDecode', 'DecordInit', 'DecordDecode', 'OpenCVInit',
    'OpenCVDecode', 'PyAVInit', 'PyAVDecode', 'PyAVDecodeMotionVector',
    'PIMSInit', 'PIMSDecode', 'ImageDecode', 'ArrayDecode'
})


def _names(transform) -> Iterable[str]:
    """Class names of a built transform (subclasses included) or the type
    of a transform config."""
    if isinstance(transform, dict):
        t = transform.get('type')
        return [t if isinstance(t, str) else getattr(t, '__name__', '')]
    return [c.__name__ for c in type(transform).__mro__]


def check_me_pipeline(transforms, dataset: str) -> None:
    """Raise :class:`PipelineError` if a step of ``transforms`` (built
    transforms or configs) is an MMAction2 decoder of another sample
    convention.

    Args:
        transforms: the pipeline's steps.
        dataset: the dataset's name, for the message.
    """
    for i, step in enumerate(transforms):
        name = next((n.split('.')[-1] for n in _names(step)
                     if n.split('.')[-1] in FOREIGN_DECODERS), None)
        if name is None:
            continue
        raise PipelineError(
            f'{dataset}: pipeline step {i} is {name}, which reads '
            "MMAction2's rawframe/video samples (frame_dir + filename_tmpl, "
            'or a whole video); ME samples are onset..offset clips '
            '(frame_paths, or a video with video_frame_inds) and their '
            "'offset' is the offset frame number. Decode them with "
            "dict(type='MEFrameDecode') after dict(type='MESampleFrames', "
            '...) or dict(type=\'SampleFrames\', ...) (images, videos and '
            'the frame cache alike), with no DecordInit/*Init step.')


def _steps_named(transforms, name: str):
    """(index, step) of the built steps that are (subclasses of) ``name``."""
    return [(i, t) for i, t in enumerate(transforms)
            if not isinstance(t, dict) and name in _names(t)]


def add_me_meta_keys(transforms) -> None:
    """Let every built ``PackActionInputs`` step also pack
    :data:`ME_META_KEYS`.

    MMAction2's default ``meta_keys`` (``img_shape``, ``img_key``,
    ``video_id``, ``timestamp``) would drop the subject, onset, apex, ...
    that MEMetric, the key-frame statistics and the LOSO report read: the
    report would then say the clips have no apex. Keys a sample lacks are
    not packed, so adding them changes nothing else.
    """
    for _, step in _steps_named(transforms, 'PackActionInputs'):
        keys = tuple(step.meta_keys)
        step.meta_keys = keys + tuple(k for k in ME_META_KEYS
                                      if k not in keys)


def _looping_lengths(step, lengths: np.ndarray) -> Tuple[np.ndarray, str]:
    """Which clip lengths ``SampleFrames`` (``out_of_bound_opt='loop'``)
    samples past the last frame, and why (for the message).

    * a clip shorter than one ``clip_len`` x ``frame_interval`` span: in
      every mode;
    * in training, without ``keep_tail_frames``, a clip with fewer frames
      than segments: the offsets are ``round(k * (T - L*I + 1) / num_clips)``
      (MMAction2's ``_get_train_clips``), the last of which can reach T.
    """
    span = (step.clip_len - 1) * step.frame_interval + 1
    bad = lengths < span
    if bad.any():
        return bad, f'reads {span} consecutive frames'
    if step.test_mode or step.keep_tail_frames:
        return bad, ''
    ori = step.clip_len * step.frame_interval
    n = step.num_clips
    for t in np.unique(lengths):
        room = t - ori + 1
        if room // n > 0 or t > max(n, ori) or room < 0:
            continue  # spaced or random offsets within the clip
        last = np.around((n - 1) * room / n)
        if last + span - 1 >= t:
            bad |= lengths == t
    return bad, (f'in training, with more segments (num_clips={n}) than '
                 'a clip has frames, places its last ones past the offset')


def check_sampleframes_span(transforms, data_list: Sequence[dict],
                            dataset: str) -> None:
    """Refuse an MMAction2 ``SampleFrames`` step that would loop clips.

    ``SampleFrames(clip_len=L, frame_interval=I)`` reads ``(L - 1) * I + 1``
    consecutive positions; on a clip of fewer frames (or, in training, of
    fewer frames than ``num_clips`` segments) its default
    ``out_of_bound_opt='loop'`` wraps around (``np.mod``), putting the
    onset after the offset without a word. ``out_of_bound_opt=
    'repeat_last'`` (an explicit choice) and ``target_fps`` are left alone.

    Args:
        transforms: the built pipeline steps.
        data_list: the dataset's samples (``total_frames``, ``subject``,
            ``clip_id``).
        dataset: the dataset's name, for the message.

    Raises:
        PipelineError: naming the step, how many clips are too short, the
            shortest one, and what to use instead.
    """
    if not data_list:
        return
    lengths = np.array([d['total_frames'] for d in data_list])
    for i, step in _steps_named(transforms, 'SampleFrames'):
        if (getattr(step, 'out_of_bound_opt', 'loop') != 'loop'
                or getattr(step, 'target_fps', None) is not None):
            continue
        bad, why = _looping_lengths(step, lengths)
        short = np.flatnonzero(bad)
        if not len(short):
            continue
        k = int(short[np.argmin(lengths[short])])
        shortest = data_list[k]
        if step.clip_len == 1:
            instead = (f"dict(type='MESampleFrames', num_clips="
                       f'{step.num_clips}) ({step.num_clips} segments over '
                       'onset..offset, frames of short clips repeated in '
                       'order)')
        else:
            instead = (f"dict(type='MESampleFrames', num_frames="
                       f'{step.clip_len}) ({step.clip_len} frames evenly '
                       'spaced over onset..offset, frames of short clips '
                       'repeated in order)')
        raise PipelineError(
            f'{dataset}: pipeline step {i} is SampleFrames(clip_len='
            f'{step.clip_len}, frame_interval={step.frame_interval}, '
            f'num_clips={step.num_clips}), which {why}: {len(short)} of '
            f'{len(lengths)} clips are too short (shortest: '
            f"{shortest['subject']} {shortest['clip_id']}, "
            f"{shortest['total_frames']} frames): SampleFrames would loop "
            f'them, the offset followed by the onset. Use {instead}, '
            "out_of_bound_opt='repeat_last' (pad with the last frame), or "
            'fewer frames.')
