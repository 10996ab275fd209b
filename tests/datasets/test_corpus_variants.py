"""Copies of the corpora as researchers have them load like the shipped ones.

Each test fabricates the shipped layout, then changes one thing real copies
differ in (frame file extension or case, zero-padding, macOS AppleDouble
files, csv exports of the annotation, subject ids written another way,
sheet names, folder name case) and checks that the samples are exactly the
shipped layout's: same subjects, clips, frame numbers, apex and labels.
"""
import csv
import os
import os.path as osp
import re
import sys

import cv2
import numpy as np
import openpyxl
import pytest

import mmakm.compat

mmakm.compat.apply()
sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate as fab  # noqa: E402
from mmakm.datasets import (CASME1Dataset, CASME2Dataset,  # noqa: E402
                            CASME3Dataset, CorpusError, MEGC2019Dataset,
                            SAMMDataset, SMICDataset)

CASME2_XLSX = 'CASME2-coding-20140508.xlsx'
CASME2_HEADER = ('Subject', 'Filename', 'OnsetFrame', 'ApexFrame',
                 'OffsetFrame', 'Action Units', 'Estimated Emotion')


def samples(ds):
    """What a sample is, independent of how its files are named."""
    out = []
    for i in range(len(ds)):
        d = ds.get_data_info(i)
        paths = d['frame_paths']
        assert all(osp.isfile(p) for p in paths), paths
        out.append((d['subject'], d['clip_id'], d['onset'], d['apex'],
                    d['offset'], d['label'], len(paths)))
    return sorted(out)


def rename_frames(root, rename):
    for folder, _, names in os.walk(root):
        for name in names:
            new = rename(name)
            if new != name:
                os.rename(osp.join(folder, name), osp.join(folder, new))


@pytest.fixture(scope='module')
def shipped(tmp_path_factory):
    root = tmp_path_factory.mktemp('shipped')
    return dict(
        casme2=samples(CASME2Dataset(
            data_root=fab.make_casme2(str(root / 'casme2')))),
        samm=samples(SAMMDataset(data_root=fab.make_samm(str(root / 'samm')))),
        smic=samples(SMICDataset(data_root=fab.make_smic(str(root / 'smic')))),
        casme3=samples(CASME3Dataset(
            data_root=fab.make_casme3(str(root / 'casme3')))))


# ------------------------------------------------------------- frame files
@pytest.mark.parametrize('rename', [
    lambda n: n.replace('.jpg', '.JPG'),
    lambda n: n.replace('img', 'IMG'),
    lambda n: 'img{:04d}.jpg'.format(int(n[3:-4])),
], ids=['JPG', 'IMG', 'zero-padded'])
def test_casme2_frame_names(tmp_path, shipped, rename):
    root = fab.make_casme2(str(tmp_path / 'c2'))
    rename_frames(osp.join(root, 'CASME2_RAW'), rename)
    assert samples(CASME2Dataset(data_root=root)) == shipped['casme2']
    # without the frame check the names are still the ones on disk
    ds = CASME2Dataset(data_root=root, check_frames=False)
    assert samples(ds) == shipped['casme2']


def test_casme2_bmp_frames_and_cropped_release(tmp_path, shipped):
    root = fab.make_casme2(str(tmp_path / 'c2'), release='cropped')
    for folder, _, names in os.walk(osp.join(root, 'Cropped')):
        for name in names:
            path = osp.join(folder, name)
            cv2.imwrite(path[:-4] + '.bmp', cv2.imread(path))
            os.remove(path)
    ds = CASME2Dataset(data_root=root, release='cropped')
    assert samples(ds) == shipped['casme2']
    assert ds.get_data_info(0)['frame_paths'][0].endswith('reg_img10.bmp')


def test_corpus_under_the_home_folder(tmp_path, shipped, monkeypatch):
    """``data_root='~/...'`` (a config or --cfg-options) is the home
    folder, as a shell would read it."""
    monkeypatch.setenv('HOME', str(tmp_path))
    fab.make_casme2(str(tmp_path / 'corpora' / 'c2'))
    ds = CASME2Dataset(data_root='~/corpora/c2')
    assert samples(ds) == shipped['casme2']
    assert ds.get_data_info(0)['frame_paths'][0].startswith(str(tmp_path))
    # the tools read the same folders (preprocessing, cache checks)
    from mmakm.loso.plan import dataloader_datasets, load_config
    cfg = load_config(osp.join(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), 'configs', 'akm_casme2.py'), {
        f'{split}_dataloader.dataset.{key}': f'~/{key}'
        for split in ('train', 'test') for key in ('data_root', 'cache_dir')})
    for _, leaves in dataloader_datasets(cfg):
        for leaf in leaves:
            assert leaf['data_root'] == str(tmp_path / 'data_root')
            assert leaf['cache_dir'] == str(tmp_path / 'cache_dir')


def test_casme2_selected_release(tmp_path, shipped):
    """``CASME2_RAW_selected``: the frames onset..offset of each clip."""
    root = fab.make_casme2(str(tmp_path / 'c2'), release='raw_selected',
                           margin=0)
    ds = CASME2Dataset(data_root=root, release='raw_selected')
    assert samples(ds) == shipped['casme2']
    assert ds.get_data_info(0)['frame_paths'][0].endswith(
        osp.join('CASME2_RAW_selected', 'sub01', 'EP02_01f', 'img10.jpg'))
    with pytest.raises(ValueError, match=r"release must be one of \['cropped"
                       r"', 'raw', 'raw_selected'\], got 'selected'"):
        CASME2Dataset(data_root=root, release='selected')


def appledouble(path):
    """The ``._name`` file macOS leaves beside ``name`` in archives."""
    folder, name = osp.split(path)
    with open(osp.join(folder, '._' + name), 'wb') as f:
        f.write(b'\x00\x05\x16\x07' + b'\x00' * 60)


def test_appledouble_files_are_no_frames(tmp_path, shipped):
    samm = fab.make_samm(str(tmp_path / 'samm'))
    appledouble(osp.join(samm, '006', '006_1_2', '006_05562.jpg'))
    assert samples(SAMMDataset(data_root=samm)) == shipped['samm']
    smic = fab.make_smic(str(tmp_path / 'smic'))
    clip = osp.join(smic, 'HS', 's1', 'micro', 'positive', 's1_po_01')
    appledouble(osp.join(clip, 'image123450.bmp'))
    os.makedirs(osp.join(smic, 'HS', 's1', 'micro', 'positive', '.cache'))
    os.makedirs(osp.join(smic, 'HS', '__MACOSX'))
    assert samples(SMICDataset(data_root=smic)) == shipped['smic']
    c3 = fab.make_casme3(str(tmp_path / 'c3'))
    appledouble(osp.join(c3, 'spNO.1', 'a', 'color', '120.jpg'))
    assert samples(CASME3Dataset(data_root=c3)) == shipped['casme3']
    c1 = fab.make_casme1(str(tmp_path / 'c1'))
    appledouble(osp.join(c1, 'Section A', 'sub01', 'EP01_5',
                         'reg_EP01_5-3.jpg'))
    assert len(CASME1Dataset(data_root=c1,
                             sections=fab.CASME1_SECTIONS_CFG)) == \
        fab.EXPECTED['casme1']['raw']


def test_smic_folder_names_in_other_case(tmp_path, shipped):
    root = fab.make_smic(str(tmp_path / 'smic'))
    hs = osp.join(root, 'HS')
    os.rename(osp.join(hs, 's1', 'micro'), osp.join(hs, 's1', 'Micro'))
    os.rename(osp.join(hs, 's2'), osp.join(hs, 'S2'))
    os.rename(osp.join(hs, 'S2', 'micro', 'surprise'),
              osp.join(hs, 'S2', 'micro', 'Surprise'))
    for ext in ('.BMP', '.png'):
        rename_frames(osp.join(hs, 's3'), lambda n: n[:-4] + ext)
        assert samples(SMICDataset(data_root=root)) == shipped['smic']
    os.rename(osp.join(hs, 's3'), osp.join(hs, 's03'))
    os.rename(hs, osp.join(root, 'hs'))
    hs = osp.join(root, 'hs')
    assert samples(SMICDataset(data_root=root)) == shipped['smic']
    os.makedirs(osp.join(hs, 's3', 'micro'))
    with pytest.raises(ValueError, match=r'hs: folders s03, s3 all name '
                       r'subject s3; expected one folder per subject'):
        SMICDataset(data_root=root)


# ------------------------------------------------------------- annotation
def casme2_table(root, rows, name=CASME2_XLSX, **csv_args):
    body = [CASME2_HEADER] + [tuple(r) for r in rows]
    path = osp.join(root, name)
    if name.endswith('.csv'):
        encoding = csv_args.pop('encoding', 'utf-8')
        with open(path, 'w', newline='', encoding=encoding) as f:
            csv.writer(f, **csv_args).writerows(body)
    else:
        fab.write_xlsx(path, body)
    return name


def test_casme2_cells_as_real_sheets_hold_them(tmp_path, shipped):
    """Blank rows, trailing spaces, numbers as text or floats, apex ``/``
    or empty, subject ids ``1`` / ``'01'`` / ``'sub1'`` / ``'SUB01'``,
    emotions in other case."""
    root = fab.make_casme2(str(tmp_path / 'c2'))
    ids = {1: ' sub1 ', 2: '02', 3: 3.0}
    rows = []
    for sub, clip, on, apex, off, au, emo in fab.CASME2_ROWS:
        rows.append((ids[sub], clip + ' ', f' {on} ',
                     None if apex == '/' else float(apex), f'{off}.0', au,
                     f' {emo.upper()} '))
        rows.append(())
    casme2_table(root, rows)
    assert samples(CASME2Dataset(data_root=root)) == shipped['casme2']


@pytest.mark.parametrize('csv_args', [
    dict(), dict(delimiter=';'), dict(delimiter='\t'),
    dict(encoding='cp1252'), dict(encoding='utf-8-sig'),
    dict(encoding='utf-16', delimiter='\t')],
    ids=['comma', 'semicolon', 'tab', 'cp1252', 'utf8-bom', 'utf16-tab'])
def test_casme2_csv_exports(tmp_path, shipped, csv_args):
    """The coding sheet saved as csv by Excel (any locale; "Unicode Text"
    is UTF-16, tab-delimited) or pandas (floats: ``1.0``, ``46.0``)."""
    root = fab.make_casme2(str(tmp_path / 'c2'))
    rows = [(f'{s}.0', c, f'{on}.0', '' if a == '/' else f'{a}.0',
             f'{off}.0', 'AU4 – brow lowerer', e)
            for s, c, on, a, off, _, e in fab.CASME2_ROWS]
    name = casme2_table(root, rows, 'coding.csv', **csv_args)
    ds = CASME2Dataset(data_root=root, ann_file=name)
    assert samples(ds) == shipped['casme2']


def test_casme2_csv_malformed_utf16_names_the_file(tmp_path):
    """A UTF-16 export cut at an odd byte (a half-copied file) is an error
    naming the file, not text decoded some other way."""
    root = fab.make_casme2(str(tmp_path / 'c2'))
    name = casme2_table(root, fab.CASME2_ROWS, 'coding.csv',
                        encoding='utf-16', delimiter='\t')
    path = osp.join(root, name)
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2 * 2 - 1])  # an odd number of bytes
    with pytest.raises(CorpusError, match=re.escape(path) +
                       r': malformed UTF-16 text \(it starts with a UTF-16 '
                       r'byte order mark\)'):
        CASME2Dataset(data_root=root, ann_file=name)


def test_sheet_name_in_other_case_or_spacing(tmp_path, shipped):
    root = fab.make_samm(str(tmp_path / 'samm'))
    path = osp.join(root, 'SAMM_Micro_FACS_Codes_v2.xlsx')
    wb = openpyxl.load_workbook(path)
    wb['MICRO_ONLY'].title = 'Micro Only'
    wb.create_sheet('ALL')
    wb.save(path)
    assert samples(SAMMDataset(data_root=root)) == shipped['samm']


def test_samm_and_casme3_subject_ids(tmp_path, shipped):
    samm = [(str(int(s)), c, on, '/' if a == -1 else a, off, e.lower())
            for s, c, on, a, off, e in fab.SAMM_ROWS]
    root = fab.make_samm(str(tmp_path / 'samm'), rows=fab.SAMM_ROWS)
    body = [('Subject', 'Filename', 'Onset Frame', 'Apex Frame',
             'Offset Frame', 'Estimated Emotion')] + samm
    fab.write_xlsx(osp.join(root, 'SAMM_Micro_FACS_Codes_v2.xlsx'), body,
                   sheet='MICRO_ONLY')
    assert samples(SAMMDataset(data_root=root)) == shipped['samm']
    c3 = [(s.replace('spNO.', ''), *rest[:-1], rest[-1].capitalize())
          for s, *rest in fab.CASME3_ROWS]
    root = fab.make_casme3(str(tmp_path / 'c3'))
    fab.write_xlsx(osp.join(root, 'cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx'),
                   [('Subject', 'Filename', 'Onset', 'Apex', 'Offset', 'AU',
                     'Objective class', 'emotion')] + c3)
    assert samples(CASME3Dataset(data_root=root)) == shipped['casme3']


def test_megc_list_written_another_way(tmp_path):
    root = fab.make_megc2019(str(tmp_path / 'megc'))
    path = osp.join(root, 'megc2019.csv')
    with open(path) as f:
        header, *rows = list(csv.reader(f))
    names = dict(casme2='CASME_II', samm='SAMM', smic='SMIC-HS')
    other = [(names[d], str(int(s[3:])) + '.0' if d == 'casme2' else
              str(int(s)) if d == 'samm' else s.upper(), clip.upper(),
              str(['negative', 'positive', 'surprise'].index(c)))
             for d, s, clip, c in rows]
    with open(path, 'w', newline='') as f:
        csv.writer(f, delimiter=';').writerows([header] + other)
    ds = MEGC2019Dataset(**fab.megc_cfg(root))
    exp = fab.EXPECTED['megc2019']
    assert len(ds) == exp['total']
    by_corpus = {}
    for i in range(len(ds)):
        c = ds.get_data_info(i)['corpus']
        by_corpus[c] = by_corpus.get(c, 0) + 1
    assert by_corpus == {k: exp[k] for k in ('casme2', 'samm', 'smic')}


@pytest.mark.parametrize('delimiter', [',', ';'])
def test_samm_sheet_exported_as_csv(tmp_path, shipped, delimiter):
    """The text rows above SAMM's header survive a csv export; unpadded
    they can mislead a delimiter sniffer, the header still decides."""
    root = fab.make_samm(str(tmp_path / 'samm'))
    wb = openpyxl.load_workbook(osp.join(root,
                                         'SAMM_Micro_FACS_Codes_v2.xlsx'))
    rows = [[c for c in r if c is not None]
            for r in wb['MICRO_ONLY'].iter_rows(values_only=True)]
    rows[1] = ['Coded by: two coders; reliability 0.82, see notes']
    with open(osp.join(root, 'samm.csv'), 'w', newline='',
              encoding='cp1252') as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    ds = SAMMDataset(data_root=root, ann_file='samm.csv')
    assert samples(ds) == shipped['samm']


# ------------------------------------------------- workbooks as shipped
def test_merged_subject_cells_and_a_notes_sheet_first(tmp_path, shipped):
    """A Subject written once for all its rows (merged cells read as the
    range's value); a read-me sheet before the table (sheet=None finds the
    sheet holding the header row)."""
    root = fab.make_casme2(str(tmp_path / 'c2'))
    rows = [CASME2_HEADER] + [r if i in (0, 3, 6) else (None, ) + r[1:]
                              for i, r in enumerate(fab.CASME2_ROWS)]
    fab.write_xlsx(osp.join(root, CASME2_XLSX), rows,
                   merge=('A2:A4', 'A5:A7', 'A8:A11'))
    assert samples(CASME2Dataset(data_root=root)) == shipped['casme2']
    c3 = fab.make_casme3(str(tmp_path / 'c3'))
    fab.write_xlsx(osp.join(c3, 'cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx'),
                   [('Subject', 'Filename', 'Onset', 'Apex', 'Offset', 'AU',
                     'Objective class', 'emotion')] + fab.CASME3_ROWS,
                   sheet='label', notes_sheet='readme')
    assert samples(CASME3Dataset(data_root=c3)) == shipped['casme3']


def test_workbook_without_the_header_names_the_sheets_searched(tmp_path):
    root = fab.make_casme3(str(tmp_path / 'c3'))
    fab.write_xlsx(osp.join(root, 'cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx'),
                   [('Sub', 'Clip')], sheet='label', notes_sheet='readme')
    with pytest.raises(ValueError, match=r"\(sheets \['readme', 'label'\]\): "
                       r'malformed annotation file: no header row'):
        CASME3Dataset(data_root=root)


@pytest.mark.parametrize('corpus,rename,twin', [
    ('samm', {'006': '6', '011': '11'}, '06'),
    ('casme2', {'sub01': 'sub1', 'sub02': '2'}, 'sub001'),
    ('casme3', {'spNO.1': '1', 'spNO.2': 'spno.2'}, 'SPNO.1'),
], ids=['samm-unpadded', 'casme2-sub1', 'casme3-number-case'])
def test_subject_folders_named_another_way(tmp_path, shipped, corpus,
                                           rename, twin):
    make, cls, img = dict(samm=(fab.make_samm, SAMMDataset, ''),
                          casme2=(fab.make_casme2, CASME2Dataset,
                                  'CASME2_RAW'),
                          casme3=(fab.make_casme3, CASME3Dataset, ''))[corpus]
    root = make(str(tmp_path / corpus))
    for old, new in rename.items():
        os.rename(osp.join(root, img, old), osp.join(root, img, new))
    assert samples(cls(data_root=root)) == shipped[corpus]
    # two folders for one subject: no guess, the expected folder is named
    os.makedirs(osp.join(root, img, twin))
    first = next(iter(rename))
    both = ', '.join(sorted((rename[first], twin)))
    with pytest.raises(FileNotFoundError, match=r'subject folder not found: '
                       r'.*' + re.escape(f'{osp.join(img, first)} ({both} '
                                         f'there all name subject {first}: '
                                         'expected one folder per subject)')):
        cls(data_root=root)


# ------------------------------------------- clips holding several samples
def test_clip_holding_several_samples(tmp_path):
    """CAS(ME)^3 part A codes several movements of one recording: each
    sample gets its own cache key, is preprocessed, read from the cache and
    packed for the device with its own frames."""
    from mmengine.registry import DefaultScope

    from mmakm.datasets import load_corpus
    from mmakm.datasets.device_corpus import release_corpora
    from mmakm.preprocessing.cache import read_index
    from mmakm.preprocessing.runner import preprocess_dataset
    rows = fab.CASME3_ROWS + [('spNO.1', 'a', 140, 141, 143, 'AU4', 'III',
                               'disgust')]
    root = fab.make_casme3(str(tmp_path / 'c3'), rows)
    ds = CASME3Dataset(data_root=root)
    keys = sorted(ds.get_data_info(i)['cache_key'] for i in range(len(ds)))
    assert keys == ['casme3/spNO.1/a@120-123', 'casme3/spNO.1/a@140-143',
                    'casme3/spNO.1/b', 'casme3/spNO.2/a', 'casme3/spNO.2/c',
                    'casme3/spNO.3/d']
    # the keys do not depend on the class setup or the subjects kept
    one = CASME3Dataset(data_root=root, subjects=['spNO.1'],
                        class_setup={'disgust': 'negative'})
    assert sorted(one.get_data_info(i)['cache_key'] for i in range(
        len(one))) == ['casme3/spNO.1/a@140-143', 'casme3/spNO.1/b']
    cache = str(tmp_path / 'cache')
    preprocess_dataset(ds, cache, dict(face=None), log=lambda *_: None)
    cached = CASME3Dataset(data_root=root, cache_dir=cache)
    assert len(cached) == len(rows)
    for i in range(len(cached)):
        info = cached.get_data_info(i)
        index = read_index(cache, info['cache_key'])
        stored = np.asarray(index['frame_numbers'])[info['cache_rows']]
        assert stored.tolist() == list(range(info['onset'],
                                             info['offset'] + 1))
    try:
        with DefaultScope.overwrite_default_scope('mmaction'):
            packed = load_corpus(dict(type='dataset', dataset=dict(
                type='CASME3Dataset', data_root=root, cache_dir=cache)))
        assert sorted(packed.keys) == keys
        for i in range(len(cached)):
            info = cached.get_data_info(i)
            clip = packed.index[info['cache_key']]
            start, n = int(packed.starts[clip]), int(packed.lengths[clip])
            want = np.load(info['cache_file'])[info['cache_rows']]
            assert np.array_equal(packed.frames[start:start + n].numpy(),
                                  want)
    finally:
        release_corpora()


def test_megc_list_naming_a_clip_of_several_samples(tmp_path):
    rows = fab.CASME2_ROWS + [(1, 'EP02_01f', 20, 21, 22, '12',
                               'happiness')]
    root = fab.make_megc2019(str(tmp_path / 'megc'), casme2_rows=rows)
    with pytest.raises(ValueError, match=r'megc2019\.csv, row 2: clip '
                       r'EP02_01f of casme2/sub01 holds 2 samples in the '
                       r'casme2 annotation \(.*row 2: frames 10\.\.14; .*'
                       r'row 12: frames 20\.\.22\)'):
        MEGC2019Dataset(**fab.megc_cfg(root))
    # a source row written twice is one sample: listed, dropped, classed
    root = fab.make_megc2019(str(tmp_path / 'megc2'), casme2_rows=(
        fab.CASME2_ROWS + fab.CASME2_ROWS[:1]))
    ds = MEGC2019Dataset(**fab.megc_cfg(root))
    assert len(ds) == fab.EXPECTED['megc2019']['total']
    (dup, ) = ds.duplicates
    assert dup['clip_id'] == 'EP02_01f'
    assert dup['where'].startswith(osp.join(
        root, 'CASME2', 'CASME2-coding-20140508.xlsx, row 12 / '))
    assert dup['same_as'].startswith(osp.join(
        root, 'CASME2', 'CASME2-coding-20140508.xlsx, row 2 / '))


def test_generic_csv_written_on_windows(tmp_path):
    """``clips\\c1`` paths (a table made on Windows) name the same clips."""
    from mmakm.datasets import MEAnnotationDataset
    root = fab.make_generic(str(tmp_path / 'generic'))
    before = MEAnnotationDataset(ann_file='ann.csv', data_root=root)
    path = osp.join(root, 'ann.csv')
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    with open(path, 'w', newline='') as f:
        csv.writer(f, lineterminator='\r\n').writerows(
            [rows[0]] + [[r[0].replace('/', '\\')] + r[1:] for r in rows[1:]])
    after = MEAnnotationDataset(ann_file='ann.csv', data_root=root)
    keys = ('subject', 'clip_id', 'onset', 'offset', 'label', 'frame_paths',
            'filename', 'cache_key')

    def described(ds):
        return [{k: ds.get_data_info(i).get(k) for k in keys}
                for i in range(len(ds))]
    assert len(after) == 5 and described(after) == described(before)
