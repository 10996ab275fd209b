"""Fabricate tiny copies of every corpus in its shipped layout (for tests).

Every ``make_*`` function writes under ``root`` and returns ``root``. Images
are tiny (8x8) so tests stay fast; the annotation files have the shipped
format (xlsx sheets and column names, SAMM's text rows above the header,
SMIC's folder tree, the MEGC2019 CSV). The default tables and the counts
they give are documented next to each function (``EXPECTED``).
"""
import csv
import os
import os.path as osp

import cv2
import numpy as np

SIZE = 8

# (Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, AU, Emotion)
CASME2_ROWS = [
    (1, 'EP02_01f', 10, 12, 14, '12', 'happiness'),
    (1, 'EP03_02', 20, 21, 23, '4+9', 'disgust'),
    (1, 'EP04_03', 5, '/', 8, '4', 'others'),
    (2, 'EP01_01', 100, 102, 104, '1+2', 'surprise'),
    (2, 'EP05_02', 7, 8, 10, '14', 'repression'),
    (2, 'EP06_03', 1, 2, 3, '15', 'sadness'),
    (3, 'EP07_01', 30, 31, 33, '20', 'fear'),
    (3, 'EP08_02', 40, 41, 44, '4+L10', 'others'),
    (3, 'EP09_03f', 2, 3, 5, '6+12', 'happiness'),
    (3, 'EP12_01f', 11, 12, 13, '4', 'disgust'),
]
# SAMM rows: (Subject, Filename, Onset, Apex, Offset, Emotion)
SAMM_ROWS = [
    ('006', '006_1_2', 5562, 5563, 5565, 'Happiness'),
    ('006', '006_1_3', 100, 102, 103, 'Other'),
    (7, '007_3_1', 2000, 2001, 2003, 'Anger'),
    (7, '007_5_2', 50, -1, 52, 'Fear'),
    ('011', '011_2_1', 300, 301, 302, 'Contempt'),
    ('011', '011_3_3', 400, 402, 404, 'Surprise'),
    ('011', '011_4_1', 10, 11, 12, 'Disgust'),
    ('006', '006_5_9', 700, 700, 701, 'Sadness'),
]
# SMIC: subset -> [(subject folder, class folder, clip, first frame, n)]
SMIC_CLIPS = {
    'HS': [('s1', 'positive', 's1_po_01', 123450, 4),
           ('s1', 'negative', 's1_ne_01', 200, 3),
           ('s2', 'surprise', 's2_sur_01', 5000, 5),
           ('s2', 'negative', 's2_ne_02', 7000, 3),
           ('s3', 'negative', 's3_ne_03', 123456, 4)],
    'VIS': [('s1', 'negative', 's1_ne_01', 10, 3),
            ('s2', 'positive', 's2_po_01', 20, 3)],
    'NIR': [('s1', 'negative', 's1_ne_01', 10, 3),
            ('s2', 'positive', 's2_po_01', 20, 3)],
}
# CASME I sections: ann file -> (img folder, rows (Subject, Filename, OnsetF,
# ApexF1, ApexF2, OffsetF, Emotion))
CASME1_SECTIONS = {
    'CASME_A_Section.xlsx': ('Section A', [
        ('sub01', 'EP01_5', 3, 4, 4, 6, 'tense'),
        ('sub01', 'EP02_1', 10, 11, 12, 12, 'happiness'),
        ('sub02', 'EP03_4', 1, 2, 2, 3, 'disgust'),
        ('sub02', 'EP05_1', 5, 6, 7, 8, 'repression')]),
    'CASME_B_Section.xlsx': ('Section B', [
        ('sub03', 'EP06_2', 20, 21, 21, 22, 'surprise'),
        ('sub03', 'EP07_3', 30, 31, 31, 33, 'contempt')]),
}
# CAS(ME)^3 part A: (Subject, Filename, Onset, Apex, Offset, AU, Objective
# class, emotion)
CASME3_ROWS = [
    ('spNO.1', 'a', 120, 121, 123, 'AU12', 'I', 'happy'),
    ('spNO.1', 'b', 30, 31, 32, 'AU4', 'III', 'disgust'),
    ('spNO.2', 'a', 7, 8, 9, 'AU1+AU2', 'II', 'surprise'),
    ('spNO.2', 'c', 50, 51, 53, 'AU4', 'III', 'anger'),
    ('spNO.3', 'd', 1, 2, 3, 'AU15', 'VII', 'others'),
]

EXPECTED = dict(
    casme2=dict(raw=10, std5=8, paper4=10, megc3=6,
                subjects=['casme2/sub01', 'casme2/sub02', 'casme2/sub03']),
    samm=dict(raw=8, std5=5, paper4=8, megc3=7,
              subjects=['samm/006', 'samm/007', 'samm/011']),
    smic=dict(HS=5, VIS=2, NIR=2,
              subjects=['smic/s1', 'smic/s2', 'smic/s3']),
    casme1=dict(raw=6, paper4=6,
                subjects=['casme1/sub01', 'casme1/sub02', 'casme1/sub03']),
    casme3=dict(raw=5, paper4=5,
                subjects=['casme3/spNO.1', 'casme3/spNO.2', 'casme3/spNO.3']),
    # megc: casme2 6 megc3 clips minus EP12_01f (not listed) = 5; samm 7;
    # smic HS 5
    megc2019=dict(total=17, casme2=5, samm=7, smic=5),
)


def write_image(path, value=0, gray=False, size=SIZE):
    """Write a tiny image whose pixels encode ``value`` (mod 256)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    v = int(value) % 256
    if gray:
        img = np.full((size, size), v, np.uint8)
    else:
        img = np.zeros((size, size, 3), np.uint8)
        img[..., 0] = v
        img[..., 1] = (v * 7) % 256
        img[..., 2] = 128
    ok = cv2.imwrite(path, img)
    assert ok, path


def write_xlsx(path, rows, sheet='Sheet1', preamble=(), merge=(),
               notes_sheet=None):
    """Write rows (first: header) to an xlsx sheet, after text rows.

    ``merge``: cell ranges (``'A2:A4'``) to merge as Excel does (only the
    top-left cell keeps its value); ``notes_sheet``: the title of a text
    sheet placed before the table's sheet (a workbook's read-me)."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for line in preamble:
        ws.append(list(line))
    for r in rows:
        ws.append(list(r))
    for ref in merge:
        ws.merge_cells(ref)
    if notes_sheet:
        notes = wb.create_sheet(notes_sheet, 0)
        notes.append(['Coding notes: frame numbers are image numbers.'])
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    wb.save(path)


def make_casme2(root, rows=CASME2_ROWS, release='raw', margin=1):
    """CASME II: ``CASME2-coding-20140508.xlsx`` + ``CASME2_RAW`` (and/or
    ``Cropped`` with ``release='cropped'``/``'both'``, or
    ``CASME2_RAW_selected`` with ``release='raw_selected'``). Frames
    onset-margin .. offset+margin are written (folders hold more than the
    clip; the selected release holds onset..offset: ``margin=0``)."""
    header = ('Subject', 'Filename', 'OnsetFrame', 'ApexFrame', 'OffsetFrame',
              'Action Units', 'Estimated Emotion')
    write_xlsx(osp.join(root, 'CASME2-coding-20140508.xlsx'),
               [header] + [tuple(r) for r in rows])
    releases = dict(raw=('CASME2_RAW', 'img{}.jpg'),
                    raw_selected=('CASME2_RAW_selected', 'img{}.jpg'),
                    cropped=('Cropped', 'reg_img{}.jpg'))
    chosen = ['raw', 'cropped'] if release == 'both' else [release]
    for sub, clip, on, _, off, _, _ in rows:
        for rel in chosen:
            folder, name = releases[rel]
            for n in range(max(0, on - margin), off + margin + 1):
                write_image(osp.join(root, folder, f'sub{int(sub):02d}', clip,
                                     name.format(n)), n)
    return root


def make_samm(root, rows=SAMM_ROWS, n_text_rows=12):
    """SAMM: ``SAMM_Micro_FACS_Codes_v2.xlsx`` (sheet MICRO_ONLY, text rows
    above the header) + grayscale ``006/006_1_2/006_05562.jpg``."""
    header = ('Subject', 'Filename', 'Inducement Code', 'Onset Frame',
              'Apex Frame', 'Offset Frame', 'Duration', 'Micro',
              'Action Units', 'Estimated Emotion', 'Objective Classes',
              'Notes')
    preamble = [('SAMM Micro-Expression Database',)] + [
        (f'note line {i}: FACS coded by two coders',) if i % 3 else ()
        for i in range(1, n_text_rows)]
    body = [(sub, clip, 1, on, apex, off, off - on + 1, 'Micro', 'R12', emo,
             1, None) for sub, clip, on, apex, off, emo in rows]
    write_xlsx(osp.join(root, 'SAMM_Micro_FACS_Codes_v2.xlsx'),
               [header] + body, sheet='MICRO_ONLY', preamble=preamble)
    for sub, clip, on, _, off, _ in rows:
        s = f'{int(sub):03d}'
        for n in range(on, off + 1):
            write_image(osp.join(root, s, clip, f'{s}_{n:05d}.jpg'), n,
                        gray=True)
    return root


def make_smic(root, clips=SMIC_CLIPS):
    """SMIC: ``HS|VIS|NIR/s1/micro/<class>/<clip>/image<n>.bmp``; HS s3 also
    has a ``non_micro`` folder (ignored)."""
    for subset, items in clips.items():
        for sub, cls, clip, first, n in items:
            for k in range(first, first + n):
                write_image(osp.join(root, subset, sub, 'micro', cls, clip,
                                     f'image{k:06d}.bmp'), k)
    write_image(osp.join(root, 'HS', 's3', 'non_micro', 's3_xx', 'image1.bmp'))
    return root


def make_casme1(root, sections=CASME1_SECTIONS):
    """CASME I: one xlsx per section + ``<section>/sub01/EP01_5/
    reg_EP01_5-<n>.jpg``. Returns root; the config uses
    ``sections=[dict(ann_file=..., img=...), ...]`` (see SECTIONS_CFG)."""
    header = ('Subject', 'Filename', 'OnsetF', 'ApexF1', 'ApexF2', 'OffsetF',
              'Emotion')
    for ann, (img, rows) in sections.items():
        write_xlsx(osp.join(root, ann), [header] + [tuple(r) for r in rows])
        for sub, clip, on, _, _, off, _ in rows:
            for n in range(on, off + 1):
                write_image(osp.join(root, img, sub, clip,
                                     f'reg_{clip}-{n}.jpg'), n)
    return root


CASME1_SECTIONS_CFG = [dict(ann_file=a, img=i)
                       for a, (i, _) in CASME1_SECTIONS.items()]


def make_casme3(root, rows=CASME3_ROWS):
    """CAS(ME)^3 part A: label xlsx + ``spNO.1/a/color/<n>.jpg``."""
    header = ('Subject', 'Filename', 'Onset', 'Apex', 'Offset', 'AU',
              'Objective class', 'emotion')
    write_xlsx(osp.join(root, 'cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx'),
               [header] + [tuple(r) for r in rows])
    for sub, clip, on, _, off, *_ in rows:
        for n in range(on, off + 1):
            write_image(osp.join(root, sub, clip, 'color', f'{n}.jpg'), n)
    return root


def make_megc2019(root, casme2_rows=CASME2_ROWS):
    """MEGC2019: ``CASME2/``, ``SAMM/``, ``SMIC/`` (as above) and
    ``megc2019.csv`` (dataset, subject, filename, class). CASME II
    EP12_01f of sub03 is left out of the list (like sub04 EP12_01f and
    sub05 EP09_05f in the real one); SAMM 'Other' and CASME II
    others/fear/sadness are not listed."""
    make_casme2(osp.join(root, 'CASME2'), rows=casme2_rows)
    make_samm(osp.join(root, 'SAMM'))
    make_smic(osp.join(root, 'SMIC'), dict(HS=SMIC_CLIPS['HS']))
    cls = dict(happiness='positive', disgust='negative',
               repression='negative', surprise='surprise', anger='negative',
               contempt='negative', fear='negative', sadness='negative')
    lines = [('dataset', 'subject', 'filename', 'class')]
    clips = {}  # one list row per clip (a clip may hold several samples)
    for sub, clip, *_, emo in casme2_rows:
        clips.setdefault((sub, clip), emo)
    for (sub, clip), emo in clips.items():
        if emo in ('happiness', 'disgust', 'repression', 'surprise') \
                and clip != 'EP12_01f':
            lines.append(('casme2', f'sub{sub:02d}', clip, cls[emo]))
    for sub, clip, _, _, _, emo in SAMM_ROWS:
        if emo.lower() != 'other':
            lines.append(('samm', str(sub), clip, cls[emo.lower()]))
    for sub, c, clip, _, _ in SMIC_CLIPS['HS']:
        lines.append(('smic', sub, clip, c))
    with open(osp.join(root, 'megc2019.csv'), 'w', newline='') as f:
        csv.writer(f).writerows(lines)
    return root


MEGC_CFG = dict(casme2=dict(data_root='CASME2'), samm=dict(data_root='SAMM'),
                smic=dict(data_root='SMIC'))


def megc_cfg(root):
    """Constructor args of MEGC2019Dataset for :func:`make_megc2019`."""
    return dict(ann_file=osp.join(root, 'megc2019.csv'),
                casme2=dict(data_root=osp.join(root, 'CASME2')),
                samm=dict(data_root=osp.join(root, 'SAMM')),
                smic=dict(data_root=osp.join(root, 'SMIC')))


def write_video(path, n, size=32, fps=25):
    """A tiny mp4v video of n frames (frame k has pixel value 10 * k;
    32 px: decord 0.6 cannot copy out 16 px frames, which the datasets then
    decode with OpenCV)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                        (size, size))
    for k in range(n):
        w.write(np.full((size, size, 3), (10 * k) % 256, np.uint8))
    w.release()


def make_generic(root):
    """Generic CSV corpus: ``ann.csv`` (path, subject, onset, apex, offset,
    label) with image folders ``clips/<clip>/f<n>.png`` and one video
    ``videos/v1.mp4`` (frames 0..9)."""
    rows = [('clips/c1', 'A', 3, 4, 6, 'joy'),
            ('clips/c2', 'A', 0, '', 2, 'anger'),
            ('clips/c3', 'B', 10, 11, 12, 'joy'),
            ('videos/v1.mp4', 'B', 2, 5, 7, 'anger'),
            ('clips/c4', 'C', 1, 1, 2, 'calm')]
    for path, _, on, _, off, _ in rows:
        if path.endswith('.mp4'):
            write_video(osp.join(root, path), 10)
        else:
            for n in range(on, off + 1):
                write_image(osp.join(root, path, f'f{n}.png'), n)
    with open(osp.join(root, 'ann.csv'), 'w', newline='') as f:
        csv.writer(f).writerows([('path', 'subject', 'onset', 'apex',
                                  'offset', 'label')] + rows)
    return root


def make_all(root):
    """Every corpus under one root; returns dict corpus -> root."""
    return dict(casme2=make_casme2(osp.join(root, 'casme2'), release='both'),
                samm=make_samm(osp.join(root, 'samm')),
                smic=make_smic(osp.join(root, 'smic')),
                casme1=make_casme1(osp.join(root, 'casme1')),
                casme3=make_casme3(osp.join(root, 'casme3')),
                megc2019=make_megc2019(osp.join(root, 'megc2019')),
                generic=make_generic(osp.join(root, 'generic')))
