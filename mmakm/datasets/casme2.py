"""CASME II (raw, selected and cropped releases), read as shipped.

Layout::

    <data_root>/CASME2-coding-20140508.xlsx          (Sheet1)
    <data_root>/CASME2_RAW/sub01/EP02_01f/img46.jpg  (release='raw')
    <data_root>/CASME2_RAW_selected/sub01/EP02_01f/img46.jpg
                            (release='raw_selected': onset..offset only)
    <data_root>/Cropped/sub01/EP02_01f/reg_img46.jpg (release='cropped')

The frame number in the file name is the frame index of the annotation;
frames onset..offset inclusive are used.

Video path: with ``data_prefix=dict(video='CASME2_video')`` samples read
``<video>/sub01/EP02_01f.mp4`` through decord instead of the images. Video
frame 0 is the first (lowest-numbered) frame of the clip's image folder
(``video_first_frame='folder'``, which lists ``<img>/sub01/EP02_01f``; a
video whose length is not that folder's number range is refused, as its
frames would not map to the numbers), or the absolute frame number given as
an int (``video_first_frame=1``: video frame i = frame number i + 1).
"""
import os.path as osp
from typing import Optional, Union

from mmaction.registry import DATASETS

from .annotation_io import read_table, scan_frames
from .base import MEBaseDataset
from .errors import MissingFileError

CASME2_FIELDS = dict(
    subject=['Subject'], filename=['Filename'],
    onset=['OnsetFrame', 'Onset Frame', 'Onset'],
    apex=['ApexFrame', 'Apex Frame', 'Apex'],
    offset=['OffsetFrame', 'Offset Frame', 'Offset'],
    aus=['Action Units', 'AU'],
    emotion=['Estimated Emotion', 'Emotion'])
CASME2_REQUIRED = ('subject', 'filename', 'onset', 'apex', 'offset',
                   'emotion')

# (folder, frame name for messages, pattern of the name without extension:
# copies also hold .JPG / .bmp frames and zero-padded numbers)
_RELEASES = dict(raw=('CASME2_RAW', 'img{}.jpg', r'img(\d+)'),
                 raw_selected=('CASME2_RAW_selected', 'img{}.jpg',
                               r'img(\d+)'),
                 cropped=('Cropped', 'reg_img{}.jpg', r'reg_img(\d+)'))


@DATASETS.register_module()
class CASME2Dataset(MEBaseDataset):
    """CASME II (26 subjects, 255 clips, 200 fps).

    Args:
        ann_file (str): the coding xlsx. Default
            ``'CASME2-coding-20140508.xlsx'``.
        release (str): ``'raw'`` (``CASME2_RAW/.../imgN.jpg``),
            ``'raw_selected'`` (``CASME2_RAW_selected/.../imgN.jpg``, the
            frames onset..offset of each clip) or
            ``'cropped'`` (``Cropped/.../reg_imgN.jpg``); sets the default
            ``data_prefix['img']`` and the frame file names.
        sheet (str): sheet name, default ``'Sheet1'``.
        video_first_frame ('folder' | int): see the module doc.
        **kwargs: see :class:`MEBaseDataset` (class_setup, subjects,
            exclude_subjects, on_bad_sample, ...).
    """
    CORPUS = 'casme2'
    FPS = 200.0
    SUBJECT_ID = ('sub', 'sub{:02d}')

    def __init__(self,
                 ann_file: str = 'CASME2-coding-20140508.xlsx',
                 release: str = 'raw',
                 data_prefix: Optional[dict] = None,
                 sheet: Optional[str] = 'Sheet1',
                 video_first_frame: Union[str, int] = 'folder',
                 **kwargs):
        if release not in _RELEASES:
            raise ValueError(f'release must be one of {sorted(_RELEASES)}, '
                             f'got {release!r}')
        self.release = release
        self.sheet = sheet
        self.video_first_frame = video_first_frame
        prefix = dict(img=_RELEASES[release][0])
        prefix.update(data_prefix or {})
        super().__init__(ann_file=ann_file, data_prefix=prefix, **kwargs)

    def parse_records(self):
        _, name, pattern = _RELEASES[self.release]
        rows = read_table(self.ann_file, CASME2_FIELDS, CASME2_REQUIRED,
                          sheet=self.sheet)
        video = self.data_prefix.get('video')
        records = []
        for row, sub, rec in self.row_records(rows):
            clip = rec['clip_id']
            frame_dir = osp.join(
                self.subject_dir(self.data_prefix['img'], sub), clip)
            if video:
                rec['filename'] = osp.join(self.subject_dir(video, sub),
                                           clip + '.mp4')
                first = self.video_first_frame
                if first == 'folder':
                    if not osp.isdir(frame_dir):
                        self.bad(f'{row.where}: clip {clip}: '
                                 "video_first_frame='folder' needs the image "
                                 f'folder {frame_dir}', MissingFileError)
                        continue
                    numbers = scan_frames(frame_dir, pattern)
                    if not numbers:
                        self.bad(f'{row.where}: clip {clip}: '
                                 "video_first_frame='folder' numbers the "
                                 'video by the images of '
                                 f'{frame_dir}, which holds none; give '
                                 'video_first_frame=<frame number of '
                                 'video frame 0>', MissingFileError)
                        continue
                    first = min(numbers)
                    # checked against the video's length at load time
                    rec['video_folder'] = (frame_dir, first, max(numbers))
                rec['video_start'] = int(first)
            else:
                rec.update(frame_dir=frame_dir, frame_name=name,
                           frame_pattern=pattern)
            records.append(rec)
        return records
