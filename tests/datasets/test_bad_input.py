"""Bad input: clear errors naming file, row and expectation -- or skip."""
import logging
import os
import os.path as osp
import sys

import numpy as np
import pytest

import mmakm.compat

mmakm.compat.apply()
sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate as fab  # noqa: E402
from mmakm.datasets import (CASME2Dataset, MEAnnotationDataset,  # noqa: E402
                            MEFrameDecode, MESampleFrames, SAMMDataset)

XLSX = 'CASME2-coding-20140508.xlsx'
HEADER = ('Subject', 'Filename', 'OnsetFrame', 'ApexFrame', 'OffsetFrame',
          'Action Units', 'Estimated Emotion')


def casme2_with(tmp_path, rows):
    return fab.make_casme2(str(tmp_path / 'c2'), rows=rows)


def test_missing_frame_names_file_row_and_path(tmp_path):
    root = casme2_with(tmp_path, fab.CASME2_ROWS[:3])
    os.remove(osp.join(root, 'CASME2_RAW', 'sub01', 'EP03_02', 'img22.jpg'))
    with pytest.raises(FileNotFoundError) as e:
        CASME2Dataset(data_root=root)
    msg = str(e.value)
    assert XLSX in msg and 'row 3' in msg and 'EP03_02' in msg
    assert osp.join('sub01', 'EP03_02', 'img22.jpg') in msg
    ds = CASME2Dataset(data_root=root, on_bad_sample='skip')
    assert len(ds) == 2 and len(ds.skipped) == 1
    assert 'img22.jpg' in ds.skipped[0]['reason']


def test_too_few_frames(tmp_path):
    rows = [(1, 'EP02_01f', 10, 12, 14, '12', 'happiness')]
    root = casme2_with(tmp_path, rows)
    import openpyxl
    path = osp.join(root, XLSX)
    wb = openpyxl.load_workbook(path)
    wb.active['E2'] = 40  # offset beyond the frames on disk
    wb.save(path)
    with pytest.raises(FileNotFoundError, match='too few frames'):
        CASME2Dataset(data_root=root)


def test_onset_after_offset_and_bad_numbers(tmp_path):
    rows = [(1, 'EP02_01f', 10, 12, 14, '12', 'happiness'),
            (1, 'EP03_02', 23, '/', 20, '4', 'disgust'),
            (2, 'EP05_02', 'x', 8, 10, '14', 'repression')]
    root = tmp_path / 'c2'
    fab.write_xlsx(str(root / XLSX), [('Subject', 'Filename', 'OnsetFrame',
                                       'ApexFrame', 'OffsetFrame',
                                       'Action Units', 'Estimated Emotion')]
                   + rows)
    for n in range(10, 15):
        fab.write_image(str(root / 'CASME2_RAW/sub01/EP02_01f' /
                            f'img{n}.jpg'))
    with pytest.raises(ValueError, match=r'row 4: onset must be a '
                                         r"non-negative integer.*got 'x'"):
        CASME2Dataset(data_root=str(root))
    ds = CASME2Dataset(data_root=str(root), on_bad_sample='skip')
    assert len(ds) == 1
    reasons = ' | '.join(s['reason'] for s in ds.skipped)
    assert 'onset 23 > offset 20' in reasons
    assert 'row 4: onset must be a non-negative integer' in reasons
    assert 'row 3: clip EP03_02' in reasons
    fab.write_xlsx(str(root / XLSX), [('Subject', 'Filename', 'OnsetFrame',
                                       'ApexFrame', 'OffsetFrame',
                                       'Action Units', 'Estimated Emotion')]
                   + rows[:2])
    with pytest.raises(ValueError, match=r'row 3.*onset 23 > offset 20'):
        CASME2Dataset(data_root=str(root))


def test_unknown_emotion(tmp_path):
    rows = [(1, 'EP02_01f', 10, 12, 14, '12', 'happiness'),
            (1, 'EP03_02', 20, 21, 23, '4', 'confusion')]
    root = casme2_with(tmp_path, rows)
    with pytest.raises(ValueError, match=r"row 3.*unknown emotion "
                                         r"'confusion'"):
        CASME2Dataset(data_root=root)
    ds = CASME2Dataset(data_root=root, on_bad_sample='skip')
    assert len(ds) == 1 and len(ds.skipped) == 1


def test_missing_subject_folder(tmp_path):
    root = casme2_with(tmp_path, fab.CASME2_ROWS)
    import shutil
    shutil.rmtree(osp.join(root, 'CASME2_RAW', 'sub02'))
    with pytest.raises(FileNotFoundError,
                       match=r'row 5.*subject folder not found.*sub02'):
        CASME2Dataset(data_root=root)
    assert len(CASME2Dataset(data_root=root, on_bad_sample='skip')) == 7


def test_malformed_xlsx(tmp_path):
    root = tmp_path / 'c2'
    root.mkdir()
    fab.write_xlsx(str(root / XLSX), [('Subj', 'Name'), (1, 'EP01')])
    with pytest.raises(ValueError, match=r'malformed.*no header row'):
        CASME2Dataset(data_root=str(root))
    (root / XLSX).write_bytes(b'not a zip file')
    with pytest.raises(ValueError, match=r'malformed xlsx'):
        CASME2Dataset(data_root=str(root))
    with pytest.raises(FileNotFoundError, match='annotation file not found'):
        SAMMDataset(data_root=str(tmp_path / 'nowhere'))
    # the owners' old .xls workbook, or a copy in another case, beside it
    os.rename(root / XLSX, root / 'casme2-coding-20140508.XLS')
    with pytest.raises(FileNotFoundError, match=(
            r'annotation file not found: .*20140508\.xlsx '
            r'\(casme2-coding-20140508\.XLS there: give its name as '
            r'ann_file; save an \.xls workbook as \.xlsx or \.csv\)$')):
        CASME2Dataset(data_root=str(root))


def test_wrong_sheet(tmp_path):
    root = fab.make_samm(str(tmp_path / 'samm'))
    with pytest.raises(ValueError, match=r"no sheet 'ALL'.*MICRO_ONLY"):
        SAMMDataset(data_root=root, sheet='ALL')


def test_unreadable_image_names_file_at_decode(tmp_path):
    root = casme2_with(tmp_path, fab.CASME2_ROWS[:1])
    bad = osp.join(root, 'CASME2_RAW', 'sub01', 'EP02_01f', 'img11.jpg')
    with open(bad, 'wb') as f:
        f.write(b'garbage')
    # found at load time by the header check; without it, at decode time
    with pytest.raises(ValueError, match=r'row 2.*img11\.jpg: not a JPEG'):
        CASME2Dataset(data_root=root)
    ds = CASME2Dataset(data_root=root, check_images=False,
                       pipeline=[MESampleFrames(), MEFrameDecode()])
    with pytest.raises(IOError, match=r'unreadable image.*img11\.jpg.*'
                                      r'EP02_01f of casme2/sub01'):
        ds[0]


def test_bad_video(tmp_path):
    root = fab.make_generic(str(tmp_path / 'g'))
    vid = osp.join(root, 'videos', 'v1.mp4')
    with open(vid, 'wb') as f:
        f.write(b'not a video')
    with pytest.raises(ValueError, match=r'ann.csv, row 5.*unreadable video'):
        MEAnnotationDataset(ann_file='ann.csv', data_root=root)
    os.remove(vid)
    with pytest.raises(FileNotFoundError, match='video file not found'):
        MEAnnotationDataset(ann_file='ann.csv', data_root=root)
    ds = MEAnnotationDataset(ann_file='ann.csv', data_root=root,
                             on_bad_sample='skip')
    assert len(ds) == 4 and len(ds.skipped) == 1


def test_video_too_short(tmp_path):
    root = fab.make_generic(str(tmp_path / 'g'))
    fab.write_video(osp.join(root, 'videos', 'v1.mp4'), 5)
    with pytest.raises(ValueError, match=r'too few frames.*5 frames'):
        MEAnnotationDataset(ann_file='ann.csv', data_root=root)


def test_bad_option():
    with pytest.raises(ValueError, match='on_bad_sample'):
        CASME2Dataset(data_root='.', on_bad_sample='ignore', lazy_init=True)


# ------------------------------------------------ corpus errors are typed
def test_every_corpus_error_is_a_corpus_error(tmp_path):
    """The tools print CorpusError as a message alone: every input error
    of the loaders must be one (missing files stay FileNotFoundError)."""
    from mmakm.datasets import BadSampleError, CorpusError, MissingFileError
    root = casme2_with(tmp_path, fab.CASME2_ROWS[:2])
    os.remove(osp.join(root, 'CASME2_RAW', 'sub01', 'EP03_02', 'img21.jpg'))
    with pytest.raises(MissingFileError) as e:
        CASME2Dataset(data_root=root)
    assert isinstance(e.value, FileNotFoundError)
    assert isinstance(e.value, BadSampleError)
    with pytest.raises(MissingFileError, match='annotation file not found'):
        CASME2Dataset(data_root=str(tmp_path / 'nowhere'))
    with open(osp.join(root, 'x.xls'), 'wb') as f:
        f.write(b'\xd0\xcf\x11\xe0')  # an old binary workbook
    with pytest.raises(CorpusError, match=r'x\.xls: unsupported annotation '
                                          r'file type.*save an old \.xls'):
        CASME2Dataset(data_root=root, ann_file='x.xls')
    with pytest.raises(CorpusError, match="names subject 'sub09'"):
        CASME2Dataset(data_root=root, subjects=['sub09'])


def test_boolean_frame_number_is_named(tmp_path):
    rows = [(1, 'EP02_01f', True, 12, 14, '12', 'happiness')]
    root = tmp_path / 'c2'
    fab.write_xlsx(str(root / XLSX), [HEADER] + rows)
    with pytest.raises(ValueError, match=r'row 2: onset must be a '
                                         r'non-negative integer.*got True'):
        CASME2Dataset(data_root=str(root))


def test_folder_differing_in_case_is_named(tmp_path):
    root = casme2_with(tmp_path, fab.CASME2_ROWS[:1])
    os.rename(osp.join(root, 'CASME2_RAW', 'sub01', 'EP02_01f'),
              osp.join(root, 'CASME2_RAW', 'sub01', 'EP02_01F'))
    with pytest.raises(FileNotFoundError,
                       match=r'row 2.*clip folder not found: .*EP02_01f '
                             r'\(EP02_01F exists there: the name must '
                             r'match the annotation, case included\)'):
        CASME2Dataset(data_root=root)


def test_folder_without_frame_images_says_what_it_holds(tmp_path):
    root = casme2_with(tmp_path, fab.CASME2_ROWS[:1])
    clip = osp.join(root, 'CASME2_RAW', 'sub01', 'EP02_01f')
    for name in os.listdir(clip):
        os.rename(osp.join(clip, name), osp.join(clip, name + '.part'))
    with pytest.raises(FileNotFoundError,
                       match=r'the folder has no frame images \(it holds '
                             r'img10\.jpg\.part, img11\.jpg\.part, '
                             r'img12\.jpg\.part, \.\.\. \(7 files\)\)'):
        CASME2Dataset(data_root=root)


def test_no_sample_left_is_an_error_not_a_crash(tmp_path):
    """Every sample skipped or excluded: the message says why (mmengine
    otherwise fails on an empty list with a numpy error)."""
    from mmakm.datasets import CorpusError
    rows = [(2, 'EP06_03', 1, 2, 3, '15', 'sadness')]
    root = casme2_with(tmp_path, rows)
    with pytest.raises(CorpusError, match=r'CASME2Dataset: no samples in '
                                          r'.*1 excluded by the class setup'):
        CASME2Dataset(data_root=root, class_setup='std5')
    os.remove(osp.join(root, 'CASME2_RAW', 'sub02', 'EP06_03', 'img2.jpg'))
    with pytest.raises(CorpusError, match=r'1 bad samples skipped'):
        CASME2Dataset(data_root=root, on_bad_sample='skip')


def test_smic_tree_without_clips(tmp_path):
    from mmakm.datasets import CorpusError, SMICDataset
    (tmp_path / 'HS' / 'sub01').mkdir(parents=True)
    with pytest.raises(CorpusError, match=r'HS: no SMIC clip found; '
                                          r'expected <subject>/micro/.*'
                                          r'found: sub01'):
        SMICDataset(data_root=str(tmp_path))


def test_smic_subject_without_micro_folder_is_logged(tmp_path, caplog):
    from mmakm.datasets import SMICDataset
    from mmengine.logging import MMLogger
    root = fab.make_smic(str(tmp_path / 'smic'))
    os.makedirs(osp.join(root, 'HS', 's7', 'non_micro'))
    logged = []
    logger = MMLogger.get_current_instance()
    handler = logging.Handler()
    handler.emit = lambda r: logged.append(r.getMessage())
    logger.addHandler(handler)
    try:
        ds = SMICDataset(data_root=root)
    finally:
        logger.removeHandler(handler)
    assert len(ds) == fab.EXPECTED['smic']['HS']
    assert any('without a micro folder' in m and 's7' in m for m in logged)


def test_megc_clip_listed_twice(tmp_path):
    import csv
    from mmakm.datasets import CorpusError, MEGC2019Dataset
    root = fab.make_megc2019(str(tmp_path / 'megc'))
    path = osp.join(root, 'megc2019.csv')
    with open(path) as f:
        lines = list(csv.reader(f))
    with open(path, 'a', newline='') as f:
        csv.writer(f).writerow(lines[1])  # the same row again
    ds = MEGC2019Dataset(**fab.megc_cfg(root))
    assert len(ds) == fab.EXPECTED['megc2019']['total']
    assert [d['where'].endswith(f'row {len(lines) + 1}')
            for d in ds.duplicates] == [True]
    with open(path, 'a', newline='') as f:
        csv.writer(f).writerow(lines[1][:3] + ['surprise'])
    with pytest.raises(CorpusError,
                       match=r'EP02_01f \(casme2/sub01\) is listed twice '
                             r"with different classes: .*row 2: 'positive'; "
                             rf".*row {len(lines) + 2}: 'surprise'"):
        MEGC2019Dataset(**fab.megc_cfg(root))


def test_stray_copies_in_a_clip_folder_are_named(tmp_path):
    """A copy left beside the frames (``006_05562 (1).jpg``, macOS
    ``image123450 2.bmp``) would give a false frame number (for SMIC a
    false onset): the folder and both naming schemes are named; with
    ``on_bad_sample='skip'`` only that clip is skipped."""
    import shutil

    from mmakm.datasets import SMICDataset
    samm = fab.make_samm(str(tmp_path / 'samm'))
    clip = osp.join(samm, '006', '006_1_2')
    shutil.copy(osp.join(clip, '006_05562.jpg'),
                osp.join(clip, '006_05562 (1).jpg'))
    with pytest.raises(ValueError, match=(
            r'row 14: clip 006_1_2 \(samm/006\): .*006_1_2: frame images '
            r'named 2 ways: 4 like 006_05562\.jpg; 1 like '
            r'006_05562 \(1\)\.jpg; expected one naming scheme')):
        SAMMDataset(data_root=samm)
    ds = SAMMDataset(data_root=samm, on_bad_sample='skip')
    assert len(ds) == fab.EXPECTED['samm']['raw'] - 1
    smic = fab.make_smic(str(tmp_path / 'smic'))
    clip = osp.join(smic, 'HS', 's1', 'micro', 'positive', 's1_po_01')
    shutil.copy(osp.join(clip, 'image123450.bmp'),
                osp.join(clip, 'image123450 2.bmp'))
    with pytest.raises(ValueError, match=r's1_po_01: frame images named 2 '
                       r'ways: 4 like image123450\.bmp; 1 like '
                       r'image123450 2\.bmp'):
        SMICDataset(data_root=smic)
    ds = SMICDataset(data_root=smic, on_bad_sample='skip')
    assert len(ds) == fab.EXPECTED['smic']['HS'] - 1
    assert 's1_po_01' in ds.skipped[0]['reason']


def test_megc_list_naming_another_corpus(tmp_path):
    """``CAS(ME)^2`` reads like ``casme2`` once its punctuation is gone; it
    is another corpus, named as such."""
    import csv
    from mmakm.datasets import MEGC2019Dataset
    root = fab.make_megc2019(str(tmp_path / 'megc'))
    with open(osp.join(root, 'megc2019.csv'), 'a', newline='') as f:
        csv.writer(f).writerow(['CAS(ME)^2', '15', '15_0101', 'negative'])
    with pytest.raises(ValueError, match=r"megc2019\.csv, row 19: dataset "
                       r"'CAS\(ME\)\^2' is not CASME II, SAMM or SMIC"):
        MEGC2019Dataset(**fab.megc_cfg(root))
