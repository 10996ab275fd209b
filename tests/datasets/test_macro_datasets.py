"""Macro-expression image corpora (AffectNet, RAF-DB, FER2013) read from
fabricated mini copies in their shipped layouts; LoadFaceImage."""
import os
import os.path as osp
import shutil
import sys

import numpy as np
import pytest

from mmengine.registry import init_default_scope

import mmakm  # noqa: F401  (registration)

sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate_faces as fab  # noqa: E402
from mmakm.datasets import (AffectNetDataset, BadSampleError,  # noqa: E402
                            CorpusError, FER2013Dataset, LoadFaceImage,
                            MissingFileError, RAFDBDataset)

PAPER4 = ('positive', 'negative', 'surprise', 'others')
init_default_scope('mmaction')


# ---------------------------------------------------------------- AffectNet
def test_affectnet_paper4_mapping_and_exclusions(tmp_path):
    root = fab.make_affectnet(str(tmp_path))
    ds = AffectNetDataset(data_root=root)
    assert ds.metainfo['classes'] == PAPER4
    # codes 8/9/10 (none, uncertain, no-face) excluded and reported
    assert sorted(e['emotion'] for e in ds.excluded) == [
        'no-face', 'none', 'uncertain']
    assert all('row' in e['where'] for e in ds.excluded)
    assert len(ds) == len(fab.AFFECTNET_ROWS) - 3
    # shipped order kept; 0 neutral -> others, 7 contempt -> negative
    expected = {0: 3, 1: 0, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1}
    labels = [expected[code] for _, _, code in fab.AFFECTNET_ROWS
              if code < 8]
    assert [ds.get_data_info(i)['label'] for i in range(len(ds))] == labels
    first = ds.get_data_info(0)
    assert first['img_path'].endswith(
        osp.join('Manually_Annotated_Images', '689', 'a0.jpg'))
    assert first['bbox'] == (4, 6, 20, 22)
    assert ds.class_counts() == {'positive': 4, 'negative': 5,
                                 'surprise': 2, 'others': 1}


def test_affectnet_face_box_crop_in_pipeline(tmp_path):
    root = fab.make_affectnet(str(tmp_path))
    ds = AffectNetDataset(
        data_root=root, pipeline=[
            dict(type='LoadFaceImage'),
            dict(type='Resize', scale=(16, 16), keep_ratio=False),
            dict(type='FormatShape', input_format='NCHW'),
            dict(type='PackActionInputs')])
    info = ds.get_data_info(0)
    raw = LoadFaceImage()(dict(img_path=info['img_path'], bbox=None))
    crop = LoadFaceImage()(dict(info))
    x, y, w, h = info['bbox']
    np.testing.assert_array_equal(crop['imgs'][0],
                                  raw['imgs'][0][y:y + h, x:x + w])
    assert crop['num_clips'] == crop['clip_len'] == 1
    packed = ds[0]
    assert tuple(packed['inputs'].shape) == (1, 3, 16, 16)
    assert packed['data_samples'].gt_label.item() == info['label']
    # a box outside the image is an error naming the sample
    with pytest.raises(ValueError, match=r'row 7.*outside'):
        LoadFaceImage()(dict(info, bbox=(500, 500, 10, 10),
                             where='training.csv, row 7'))


def test_affectnet_per_class_draw_is_seeded(tmp_path):
    root = fab.make_affectnet(str(tmp_path))

    def draw(seed):
        ds = AffectNetDataset(data_root=root, per_class=2, seed=seed)
        return [ds.get_data_info(i)['img_path'] for i in range(len(ds))]

    a = draw(0)
    assert a == draw(0)
    assert len(a) == 2 + 2 + 2 + 1  # others: 1 (all kept)
    assert any(draw(s) != a for s in range(1, 6))
    ds = AffectNetDataset(data_root=root, per_class=2, seed=0)
    assert ds.class_counts() == {'positive': 2, 'negative': 2,
                                 'surprise': 2, 'others': 1}
    # a missing image: skipped and replaced by the next draw of its class
    import os
    drawn = [ds.get_data_info(i) for i in range(len(ds))]
    victim = next(d for d in drawn if d['label'] == 0)['img_path']
    os.remove(victim)
    with pytest.raises(FileNotFoundError, match='image not found'):
        AffectNetDataset(data_root=root, per_class=2, seed=0)
    ds = AffectNetDataset(data_root=root, per_class=2, seed=0,
                          on_bad_sample='skip')
    assert ds.class_counts()['positive'] == 2
    assert len(ds.skipped) == 1 and victim in ds.skipped[0]['reason']
    assert victim not in [ds.get_data_info(i)['img_path']
                          for i in range(len(ds))]


def test_affectnet_bad_input_names_file_and_row(tmp_path):
    rows = list(fab.AFFECTNET_ROWS)
    rows[2] = ('689/a2.jpg', (2, 2, 10, 12), 11)
    root = fab.make_affectnet(str(tmp_path / 'code'), rows)
    with pytest.raises(BadSampleError,
                       match=r'training\.csv, row 4: expression .*0 neutral'
                       r'.*got \'11\''):
        AffectNetDataset(data_root=root)
    ds = AffectNetDataset(data_root=root, on_bad_sample='skip')
    assert len(ds.skipped) == 1 and 'row 4' in ds.skipped[0]['reason']
    assert len(ds) == len(rows) - 4

    rows = list(fab.AFFECTNET_ROWS)
    rows[0] = ('689/a0.jpg', ('x', 6, 20, 22), 0)
    root = fab.make_affectnet(str(tmp_path / 'box'), rows)
    with pytest.raises(BadSampleError, match=r'row 2: face_x must be'):
        AffectNetDataset(data_root=root)

    root = fab.make_affectnet(str(tmp_path / 'missing'), images=False)
    with pytest.raises(FileNotFoundError,
                       match=r'row 3: image not found: .*689/a1\.jpg'):
        AffectNetDataset(data_root=root)

    root = str(tmp_path / 'header')
    fab.make_affectnet(root)
    path = osp.join(root, 'training.csv')
    text = open(path).read().replace('expression', 'label', 1)
    open(path, 'w').write(text)
    with pytest.raises(ValueError, match='training.csv: malformed'):
        AffectNetDataset(data_root=root)


# ------------------------------------------------------------------ RAF-DB
def test_rafdb_splits_and_mapping(tmp_path):
    root = fab.make_rafdb(str(tmp_path))
    train = RAFDBDataset(data_root=root)
    test = RAFDBDataset(data_root=root, split='test')
    assert len(train) == 7 and len(test) == 3
    assert len(RAFDBDataset(data_root=root, split=None)) == 10
    # labels 4 happiness, 1 surprise, 5 sadness, 7 neutral, 6 anger,
    # 2 fear, 3 disgust
    assert [train.get_data_info(i)['label'] for i in range(7)] == [
        0, 2, 1, 3, 1, 1, 1]
    assert train.get_data_info(0)['img_path'].endswith(
        osp.join('Image', 'aligned', 'train_00001_aligned.jpg'))
    out = LoadFaceImage()(dict(train.get_data_info(0)))
    assert out['imgs'][0].shape == (100, 100, 3)
    raw = RAFDBDataset(data_root=root, class_setup='raw')
    assert raw.metainfo['classes'][raw.get_data_info(0)['label']] == \
        'happiness'


@pytest.mark.parametrize('line,match', [
    ('train_00009.jpg 8', r'line 8: unknown label \'8\'; expected 1-7'),
    ('train_00009.jpg', r'line 8: malformed line'),
    ('val_00009.jpg 3', r'line 8: malformed line'),
])
def test_rafdb_bad_lines(tmp_path, line, match):
    root = fab.make_rafdb(str(tmp_path))
    path = osp.join(root, 'EmoLabel', 'list_patition_label.txt')
    lines = open(path).read().splitlines()
    lines.insert(7, line)
    open(path, 'w').write('\n'.join(lines) + '\n')
    with pytest.raises(BadSampleError, match=match):
        RAFDBDataset(data_root=root)


def test_rafdb_missing_image(tmp_path):
    root = fab.make_rafdb(str(tmp_path))
    import os
    os.remove(osp.join(root, 'Image', 'aligned', 'train_00003_aligned.jpg'))
    with pytest.raises(FileNotFoundError,
                       match=r'line 3: image not found: .*train_00003'):
        RAFDBDataset(data_root=root)
    ds = RAFDBDataset(data_root=root, on_bad_sample='skip')
    assert len(ds) == 6 and len(ds.skipped) == 1


# ----------------------------------------------------------------- FER2013
def test_fer2013_usage_pixels_and_mapping(tmp_path):
    root = fab.make_fer2013(str(tmp_path))
    ds = FER2013Dataset(data_root=root)
    # Training rows: 3 happy, 0 angry, 5 surprise, 6 neutral, 4 sad,
    # 1 disgust, 2 fear
    assert [ds.get_data_info(i)['label'] for i in range(len(ds))] == [
        0, 1, 2, 3, 1, 1, 1]
    np.testing.assert_array_equal(ds.get_data_info(1)['img'],
                                  fab.fer_pixels(1))
    out = LoadFaceImage()(dict(ds.get_data_info(0)))
    assert out['imgs'][0].shape == (48, 48, 3)
    np.testing.assert_array_equal(out['imgs'][0][..., 2], fab.fer_pixels(0))
    assert len(FER2013Dataset(data_root=root, usage=['PublicTest'])) == 1
    assert len(FER2013Dataset(data_root=root, usage=None)) == 9
    with pytest.raises(ValueError, match='unknown usage'):
        FER2013Dataset(data_root=root, usage=['Validation'])


def test_fer2013_bad_rows(tmp_path):
    root = fab.make_fer2013(str(tmp_path / 'pix'), pixels={1: '1 2 3'})
    with pytest.raises(BadSampleError,
                       match=r'fer2013\.csv, row 3: pixels must be 2304 '
                       r'.*got 3 values'):
        FER2013Dataset(data_root=root)
    rows = list(fab.FER2013_ROWS)
    rows[4] = (7, 'Training')
    root = fab.make_fer2013(str(tmp_path / 'code'), rows)
    with pytest.raises(BadSampleError, match=r'row 6: emotion must be'):
        FER2013Dataset(data_root=root)


def test_fer2013_decodes_only_drawn_rows(tmp_path):
    # a malformed pixel string in a row the per-class draw leaves out is
    # never decoded (the whole file is not parsed into images)
    rows = [(3, 'Training')] * 5 + [(0, 'Training')]
    root = fab.make_fer2013(str(tmp_path), rows,
                            pixels={i: 'bad' for i in range(5)})
    with pytest.raises(BadSampleError, match='pixels'):
        FER2013Dataset(data_root=root)
    rows = [(0, 'Training')] + [(3, 'Training')] * 3
    root = fab.make_fer2013(str(tmp_path / 'b'), rows, pixels={0: 'bad'})
    ds = FER2013Dataset(data_root=root, per_class=1, class_setup=dict(
        happiness='positive'))
    assert len(ds) == 1


# ------------------------------------------- copies as researchers have them
def _samples(ds):
    """(label, emotion, image bytes or pixels, bbox) of every sample."""
    out = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        img = info.get('img')
        data = img.tobytes() if img is not None else open(
            info['img_path'], 'rb').read()
        out.append((info['label'], info['emotion'], data, info['bbox']))
    return out


def _edit(path, fn):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(fn(data))


def _crlf(data):
    return data.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


def _extra_column(data):
    return b'\n'.join(line + b',note' if line.strip() else line
                      for line in data.replace(b'\r\n', b'\n').split(b'\n'))


#: edits of an annotation file that real copies have
TEXT_EDITS = {
    'crlf': _crlf,  # saved on Windows
    'bom': lambda d: b'\xef\xbb\xbf' + d,  # UTF-8 with BOM (Excel)
    'bom_crlf': lambda d: b'\xef\xbb\xbf' + _crlf(d),
    'extra_column': _extra_column,  # a column of the user's notes
}


def _shipped_and_copy(tmp_path, make, dataset, variant, ann_file):
    """Samples of a shipped copy; root and annotation path of a second copy,
    with ``variant``'s edit of :data:`TEXT_EDITS` made (if it is one)."""
    shipped = _samples(dataset(data_root=make(str(tmp_path / 'shipped'))))
    root = make(str(tmp_path / variant))
    path = osp.join(root, ann_file)
    if variant in TEXT_EDITS:
        _edit(path, TEXT_EDITS[variant])
    return shipped, root, path


@pytest.mark.parametrize('variant', [
    'crlf', 'bom', 'bom_crlf', 'extra_column', 'no_header',
    'upper_ext', 'png_on_disk'])
def test_affectnet_variants_load_like_the_shipped_copy(tmp_path, variant):
    shipped, root, csv_path = _shipped_and_copy(
        tmp_path, fab.make_affectnet, AffectNetDataset, variant,
        'training.csv')
    images = osp.join(root, 'Manually_Annotated_Images')
    if variant == 'no_header':  # the header row left out
        _edit(csv_path, lambda d: d.split(b'\n', 1)[1])
    elif variant == 'upper_ext':  # a1.jpg listed, A1.JPG's extension on disk
        os.rename(osp.join(images, '689', 'a1.jpg'),
                  osp.join(images, '689', 'a1.JPG'))
    elif variant == 'png_on_disk':  # listed .jpg, converted to .png
        import cv2
        img = cv2.imread(osp.join(images, '689', 'a1.jpg'))
        os.remove(osp.join(images, '689', 'a1.jpg'))
        cv2.imwrite(osp.join(images, '689', 'a1.png'), img)
    ds = AffectNetDataset(data_root=root)
    got = _samples(ds)
    assert [s[:2] + s[3:] for s in got] == [s[:2] + s[3:] for s in shipped]
    if variant != 'png_on_disk':
        assert [s[2] for s in got] == [s[2] for s in shipped]
    assert len(ds.excluded) == 3


def test_affectnet_bad_images_are_named_at_build(tmp_path):
    """Empty, corrupt and truncated images and a face box outside its
    image stop the build (not an epoch later), naming row and file; with
    'skip' the per-class draw takes the next image of the class."""
    images = 'Manually_Annotated_Images'
    cases = {
        'empty': (lambda p: open(p, 'wb').close(), r'empty file \(0 bytes\)'),
        'corrupt': (lambda p: open(p, 'wb').write(b'not an image' * 9),
                    'not a JPEG, PNG or BMP image'),
        'truncated': (lambda p: _edit(p, lambda d: d[:len(d) // 2]),
                      'truncated JPEG'),
    }
    for name, (damage, reason) in cases.items():
        root = fab.make_affectnet(str(tmp_path / name))
        path = osp.join(root, images, '689', 'a1.jpg')
        damage(path)
        with pytest.raises(BadSampleError, match=r'training\.csv, row 3: '
                           + '.*' + r'689/a1\.jpg: ' + reason):
            AffectNetDataset(data_root=root)
        ds = AffectNetDataset(data_root=root, on_bad_sample='skip')
        assert len(ds) == 11 and len(ds.skipped) == 1
        assert path not in [ds.get_data_info(i)['img_path']
                            for i in range(len(ds))]
    rows = list(fab.AFFECTNET_ROWS)
    rows[1] = ('689/a1.jpg', (100, 100, 10, 10), 1)
    root = fab.make_affectnet(str(tmp_path / 'box'), rows)
    with pytest.raises(BadSampleError, match=r'row 3: face box \(x=100, '
                       r'y=100, w=10, h=10\) lies outside the 40x32 image'):
        AffectNetDataset(data_root=root)
    # the per-class draw replaces a bad drawn image with the next one
    ds = AffectNetDataset(data_root=root, per_class=2, seed=0,
                          on_bad_sample='skip')
    assert ds.class_counts()['positive'] == 2
    # a name that differs only in case is no match: named
    root = fab.make_affectnet(str(tmp_path / 'case'))
    os.rename(osp.join(root, images, '689', 'a1.jpg'),
              osp.join(root, images, '689', 'A1.jpg'))
    with pytest.raises(MissingFileError, match=r'row 3: image not found: '
                       r'.*a1\.jpg \(A1\.jpg exists there'):
        AffectNetDataset(data_root=root)
    # two images of that name with other extensions: ambiguous
    root = fab.make_affectnet(str(tmp_path / 'two'))
    src = osp.join(root, images, '689', 'a1.jpg')
    shutil.copy(src, src[:-4] + '.png')
    os.rename(src, src[:-4] + '.JPG')
    with pytest.raises(MissingFileError,
                       match=r'a1\.JPG and a1\.png exist there'):
        AffectNetDataset(data_root=root)


@pytest.mark.parametrize('corpus', ['affectnet', 'rafdb', 'fer2013'])
def test_no_samples_left_is_one_error_saying_why(tmp_path, corpus):
    if corpus == 'affectnet':  # only none / uncertain / no-face codes
        rows = [r for r in fab.AFFECTNET_ROWS if r[2] >= 8]
        root = fab.make_affectnet(str(tmp_path), rows)
        match = (r'AffectNetDataset: no samples in .*training\.csv \(3 '
                 r'annotated samples read; 3 excluded by the class setup '
                 r"\(\{'none': 1, 'uncertain': 1, 'no-face': 1\}\)\)")
        build = lambda: AffectNetDataset(data_root=root)  # noqa: E731
    elif corpus == 'rafdb':  # a list with the test split only
        root = fab.make_rafdb(str(tmp_path), fab.RAFDB_ROWS[7:])
        match = (r"RAFDBDataset: no samples in .*list_patition_label\.txt "
                 r"\(0 annotated samples read \(split='train'\)\)")
        build = lambda: RAFDBDataset(data_root=root)  # noqa: E731
    else:
        root = fab.make_fer2013(str(tmp_path), [(3, 'PublicTest')])
        match = (r"FER2013Dataset: no samples in .*fer2013\.csv \(0 "
                 r"annotated samples read \(usage=\('Training',\)\)\)")
        build = lambda: FER2013Dataset(data_root=root)  # noqa: E731
    with pytest.raises(CorpusError, match=match):
        build()


@pytest.mark.parametrize('variant', ['crlf', 'bom_crlf', 'tabs', 'cp1252',
                                     'upper_ext', 'original'])
def test_rafdb_variants(tmp_path, variant):
    shipped, root, ann = _shipped_and_copy(
        tmp_path, fab.make_rafdb, RAFDBDataset, variant,
        osp.join('EmoLabel', 'list_patition_label.txt'))
    aligned = osp.join(root, 'Image', 'aligned')
    kwargs = {}
    if variant == 'tabs':
        _edit(ann, lambda d: d.replace(b' ', b'\t'))
    elif variant == 'cp1252':  # a Windows editor's byte on a blank line
        _edit(ann, lambda d: d + b'\xa0\n')
    elif variant == 'upper_ext':
        os.rename(osp.join(aligned, 'train_00002_aligned.jpg'),
                  osp.join(aligned, 'train_00002_aligned.JPG'))
    elif variant == 'original':  # Image/original/<name> (no suffix)
        original = osp.join(root, 'Image', 'original')
        os.rename(aligned, original)
        for name in os.listdir(original):
            os.rename(osp.join(original, name),
                      osp.join(original, name.replace('_aligned', '')))
        kwargs = dict(images='original')
    ds = RAFDBDataset(data_root=root, **kwargs)
    assert _samples(ds) == shipped
    if variant == 'original':
        assert ds.get_data_info(0)['img_path'].endswith(
            osp.join('Image', 'original', 'train_00001.jpg'))
        with pytest.raises(ValueError, match='images must be one of'):
            RAFDBDataset(data_root=root, images='cropped')


def test_rafdb_bad_image_and_missing_list_named(tmp_path):
    root = fab.make_rafdb(str(tmp_path / 'zero'))
    open(osp.join(root, 'Image', 'aligned', 'train_00002_aligned.jpg'),
         'wb').close()
    with pytest.raises(BadSampleError, match=r'list_patition_label\.txt, '
                       r'line 2: .*train_00002_aligned\.jpg: empty file'):
        RAFDBDataset(data_root=root)
    os.remove(osp.join(root, 'EmoLabel', 'list_patition_label.txt'))
    with pytest.raises(MissingFileError, match=r'annotation file not found: '
                       r'.*EmoLabel/list_patition_label\.txt'):
        RAFDBDataset(data_root=root)


@pytest.mark.parametrize('variant', ['crlf', 'bom_crlf', 'extra_column',
                                     'spaced_header', 'usage_case'])
def test_fer2013_variants(tmp_path, variant):
    shipped, root, path = _shipped_and_copy(
        tmp_path, fab.make_fer2013, FER2013Dataset, variant, 'fer2013.csv')
    if variant == 'spaced_header':  # icml_face_data.csv: ' Usage', ...
        _edit(path, lambda d: d.replace(b'emotion,pixels,Usage',
                                        b'emotion, Usage, pixels', 1))
        # columns reordered like that file: swap the cells of every row
        import csv
        import io
        text = open(path, newline='').read()
        rows = list(csv.reader(io.StringIO(text)))
        with open(path, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow(rows[0])
            for r in rows[1:]:
                w.writerow([r[0], r[2], r[1]])
    elif variant == 'usage_case':
        _edit(path, lambda d: d.replace(b'Training', b'training'))
    assert _samples(FER2013Dataset(data_root=root)) == shipped


def test_fer2013_pixel_and_column_errors(tmp_path):
    root = fab.make_fer2013(str(tmp_path / 'range'),
                            pixels={0: ' '.join(['256'] * 2304)})
    with pytest.raises(BadSampleError, match=r'^[^,]*fer2013\.csv, row 2: '
                       r'pixels must be 2304 space-separated integers 0-255, '
                       r'got values 256\.\.256$'):
        FER2013Dataset(data_root=root)
    root = fab.make_fer2013(str(tmp_path / 'text'), pixels={0: 'a b c'})
    with pytest.raises(BadSampleError, match=r'row 2: pixels .*no integer'):
        FER2013Dataset(data_root=root)
    root = fab.make_fer2013(str(tmp_path / 'nousage'))  # Kaggle train.csv
    path = osp.join(root, 'fer2013.csv')
    _edit(path, lambda d: b'\n'.join(b','.join(line.split(b',')[:2])
                                     for line in d.split(b'\n')))
    with pytest.raises(CorpusError, match=r'fer2013\.csv: no Usage column.*'
                       r'usage=None'):
        FER2013Dataset(data_root=root)
    assert len(FER2013Dataset(data_root=root, usage=None)) == 9


# ------------------------------------------------------------ class mapping
#: code -> paper4 class, as configs/pretrain and the README state it
#: (neutral -> others; AffectNet none / uncertain / no-face excluded)
PAPER4_OF = {
    'affectnet': ['others', 'positive', 'negative', 'surprise', 'negative',
                  'negative', 'negative', 'negative', None, None, None],
    'rafdb': ['surprise', 'negative', 'negative', 'positive', 'negative',
              'negative', 'others'],  # labels 1..7
    'fer2013': ['negative', 'negative', 'negative', 'positive', 'negative',
                'surprise', 'others'],
}


@pytest.mark.parametrize('corpus', sorted(PAPER4_OF))
def test_every_code_gets_its_paper4_label(tmp_path, corpus):
    expected = PAPER4_OF[corpus]
    if corpus == 'affectnet':
        rows = [(f'1/c{code}.jpg', (0, 0, 20, 20), code)
                for code in range(len(expected))]
        ds = AffectNetDataset(data_root=fab.make_affectnet(str(tmp_path),
                                                           rows))
    elif corpus == 'rafdb':
        rows = [(f'train_{k:05d}.jpg', k) for k in range(1, 8)]
        ds = RAFDBDataset(data_root=fab.make_rafdb(str(tmp_path), rows))
    else:
        rows = [(code, 'Training') for code in range(7)]
        ds = FER2013Dataset(data_root=fab.make_fer2013(str(tmp_path), rows))
    assert ds.metainfo['classes'] == PAPER4
    got = [PAPER4[ds.get_data_info(i)['label']] for i in range(len(ds))]
    assert got == [c for c in expected if c is not None]
    assert len(ds.excluded) == expected.count(None)


def test_affectnet_set_folders_of_the_later_release(tmp_path):
    # ids 0..11; listed in numeric order (10 after 9)
    codes = [1, 0, 3, 7, 2, 5, 4, 6, 1, 3, 0, 1]
    folder = fab.make_affectnet_set(str(tmp_path), codes)
    ds = AffectNetDataset(data_root=str(tmp_path), ann_file='train_set')
    expected = [PAPER4_OF['affectnet'][c] for c in codes]
    assert [PAPER4[ds.get_data_info(i)['label']]
            for i in range(len(ds))] == expected
    info = ds.get_data_info(10)
    assert info['img_path'] == osp.join(folder, 'images', '10.jpg')
    assert info['bbox'] is None and info['where'].endswith('10_exp.npy')
    assert len(AffectNetDataset(data_root=str(tmp_path), ann_file='train_set',
                                per_class=1)) == 4
    # a code outside 0-7 and an unreadable annotation: named
    np.save(osp.join(folder, 'annotations', '3_exp.npy'), np.array('9'))
    with pytest.raises(BadSampleError, match=r"3_exp\.npy: expected one "
                       r"expression code 0-7 \(0 neutral.*7 contempt\), "
                       r"got '9'"):
        AffectNetDataset(data_root=str(tmp_path), ann_file='train_set')
    open(osp.join(folder, 'annotations', '3_exp.npy'), 'wb').close()
    with pytest.raises(BadSampleError, match=r'3_exp\.npy: .*unreadable'):
        AffectNetDataset(data_root=str(tmp_path), ann_file='train_set')
    os.remove(osp.join(folder, 'annotations', '3_exp.npy'))
    os.remove(osp.join(folder, 'images', '4.jpg'))
    with pytest.raises(MissingFileError, match=r'4_exp\.npy: image not '
                       r'found: .*images/4\.jpg'):
        AffectNetDataset(data_root=str(tmp_path), ann_file='train_set')
    with pytest.raises(MissingFileError, match=r'not found: .*val_set'):
        AffectNetDataset(data_root=str(tmp_path), ann_file='val_set')
    os.makedirs(str(tmp_path / 'val_set' / 'images'))
    with pytest.raises(MissingFileError, match='no annotations folder'):
        AffectNetDataset(data_root=str(tmp_path), ann_file='val_set')
