"""Macro-expression image corpora (AffectNet, RAF-DB, FER2013) read from
fabricated mini copies in their shipped layouts; LoadFaceImage."""
import os.path as osp
import sys

import numpy as np
import pytest

from mmengine.registry import init_default_scope

import mmakm  # noqa: F401  (registration)

sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate_faces as fab  # noqa: E402
from mmakm.datasets import (AffectNetDataset, BadSampleError,  # noqa: E402
                            FER2013Dataset, LoadFaceImage, RAFDBDataset)

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
