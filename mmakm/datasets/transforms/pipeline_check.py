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
"""
from typing import Iterable

from ..errors import PipelineError

__all__ = ['FOREIGN_DECODERS', 'check_me_pipeline']

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
