"""Fabricated mini copies of every corpus: counts, classes, subjects."""
import logging
import os.path as osp
import sys
from collections import Counter

import numpy as np
import pytest

import mmakm.compat

mmakm.compat.apply()
sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate as fab  # noqa: E402
from mmakm.datasets import (CASME1Dataset, CASME2Dataset, CASME3Dataset,  # noqa: E402
                            MEAnnotationDataset, MEGC2019Dataset,
                            SAMMDataset, SMICDataset)

SAMPLE_KEYS = {'frame_numbers', 'total_frames', 'onset', 'apex', 'offset',
               'label', 'emotion', 'subject', 'corpus', 'clip_id', 'fps'}


@pytest.fixture(scope='module')
def corpora(tmp_path_factory):
    return fab.make_all(str(tmp_path_factory.mktemp('corpora')))


def labels_of(ds):
    classes = ds.metainfo['classes']
    return Counter(classes[ds.get_data_info(i)['label']]
                   for i in range(len(ds)))


def subjects_of(ds):
    return sorted({ds.get_data_info(i)['subject'] for i in range(len(ds))})


@pytest.mark.parametrize('release', ['raw', 'cropped'])
def test_casme2_setups(corpora, release):
    root = corpora['casme2']
    exp = fab.EXPECTED['casme2']
    raw = CASME2Dataset(data_root=root, release=release)
    assert len(raw) == exp['raw']
    assert raw.metainfo['classes'] == ('happiness', 'disgust', 'repression',
                                       'surprise', 'sadness', 'fear',
                                       'others')
    assert raw.metainfo['fps'] == 200
    assert subjects_of(raw) == exp['subjects']
    assert raw.excluded == []
    d = raw.get_data_info(0)
    assert SAMPLE_KEYS <= set(d)
    assert d['subject'] == 'casme2/sub01' and d['clip_id'] == 'EP02_01f'
    assert (d['onset'], d['apex'], d['offset']) == (10, 12, 14)
    assert d['frame_numbers'].dtype == np.int64
    assert list(d['frame_numbers']) == [10, 11, 12, 13, 14]
    name = 'img10.jpg' if release == 'raw' else 'reg_img10.jpg'
    assert d['frame_paths'][0].endswith(
        osp.join('sub01', 'EP02_01f', name))
    assert len(d['frame_paths']) == d['total_frames'] == 5
    # apex '/' -> -1
    others = [raw.get_data_info(i) for i in range(len(raw))
              if raw.get_data_info(i)['clip_id'] == 'EP04_03'][0]
    assert others['apex'] == -1

    std5 = CASME2Dataset(data_root=root, release=release, class_setup='std5')
    assert len(std5) == exp['std5']
    assert std5.metainfo['classes'] == ('happiness', 'surprise', 'disgust',
                                        'repression', 'others')
    assert labels_of(std5) == dict(happiness=2, surprise=1, disgust=2,
                                   repression=1, others=2)
    assert len(std5.excluded) == 2
    assert {e['emotion'] for e in std5.excluded} == {'sadness', 'fear'}
    assert all('maps to no class' in e['reason'] for e in std5.excluded)
    assert sum(std5.exclusion_report().values()) == 2

    p4 = CASME2Dataset(data_root=root, release=release, class_setup='paper4')
    assert labels_of(p4) == dict(positive=2, negative=4, surprise=1,
                                 others=3)
    m3 = CASME2Dataset(data_root=root, release=release, class_setup='megc3')
    assert labels_of(m3) == dict(positive=2, negative=3, surprise=1)
    custom = CASME2Dataset(data_root=root, release=release,
                           class_setup={'happiness': 'pos', 'Disgust': 'neg',
                                        'fear': 'neg'})
    assert custom.metainfo['classes'] == ('pos', 'neg')
    assert labels_of(custom) == dict(pos=2, neg=3)
    assert len(custom.excluded) == 5


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def logged(fn):
    """Run fn and return what it logged through mmengine's current logger."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    handler = _ListHandler()
    logger.addHandler(handler)
    try:
        fn()
    finally:
        logger.removeHandler(handler)
    return '\n'.join(handler.messages)


def test_casme2_exclusion_is_logged(corpora):
    text = logged(lambda: CASME2Dataset(data_root=corpora['casme2'],
                                        class_setup='std5'))
    assert '2 of 10 annotated samples excluded' in text
    assert "emotion 'sadness'" in text and "emotion 'fear'" in text


def test_samm(corpora):
    root, exp = corpora['samm'], fab.EXPECTED['samm']
    raw = SAMMDataset(data_root=root)
    assert len(raw) == exp['raw']
    assert subjects_of(raw) == exp['subjects']
    d = raw.get_data_info(0)
    assert d['subject'] == 'samm/006' and d['clip_id'] == '006_1_2'
    assert d['frame_paths'][0].endswith(osp.join('006', '006_1_2',
                                                 '006_05562.jpg'))
    fear = [raw.get_data_info(i) for i in range(len(raw))
            if raw.get_data_info(i)['emotion'] == 'Fear'][0]
    assert fear['apex'] == -1 and fear['subject'] == 'samm/007'
    std5 = SAMMDataset(data_root=root, class_setup='std5')
    assert std5.metainfo['classes'] == ('anger', 'contempt', 'happiness',
                                        'surprise', 'others')
    assert labels_of(std5) == dict(anger=1, contempt=1, happiness=1,
                                   surprise=1, others=1)
    assert len(std5.excluded) == 3
    p4 = SAMMDataset(data_root=root, class_setup='paper4')
    assert labels_of(p4) == dict(positive=1, negative=5, surprise=1,
                                 others=1)
    assert len(SAMMDataset(data_root=root, class_setup='megc3')) == \
        exp['megc3']


@pytest.mark.parametrize('subset', ['HS', 'VIS', 'NIR'])
def test_smic(corpora, subset):
    ds = SMICDataset(data_root=corpora['smic'], subset=subset)
    assert len(ds) == fab.EXPECTED['smic'][subset]
    assert ds.metainfo['classes'] == ('positive', 'negative', 'surprise')
    assert ds.metainfo['fps'] == (100 if subset == 'HS' else 25)
    d = ds.get_data_info(0)
    assert d['apex'] == -1 and d['subject'] == 'smic/s1'
    if subset == 'HS':
        assert subjects_of(ds) == fab.EXPECTED['smic']['subjects']
        clip = [ds.get_data_info(i) for i in range(len(ds))
                if ds.get_data_info(i)['clip_id'] == 's3_ne_03'][0]
        assert (clip['onset'], clip['offset']) == (123456, 123459)
        assert clip['frame_paths'][0].endswith('image123456.bmp')
        p4 = SMICDataset(data_root=corpora['smic'], class_setup='paper4')
        assert p4.metainfo['classes'] == ('positive', 'negative', 'surprise')
        assert labels_of(p4) == dict(positive=1, negative=3, surprise=1)


def test_casme1_sections(corpora):
    ds = CASME1Dataset(data_root=corpora['casme1'],
                       sections=fab.CASME1_SECTIONS_CFG)
    assert len(ds) == fab.EXPECTED['casme1']['raw']
    assert subjects_of(ds) == fab.EXPECTED['casme1']['subjects']
    assert ds.metainfo['fps'] == 60
    d = ds.get_data_info(0)
    assert d['frame_paths'][0].endswith('reg_EP01_5-3.jpg')
    p4 = CASME1Dataset(data_root=corpora['casme1'],
                       sections=fab.CASME1_SECTIONS_CFG, class_setup='paper4')
    assert labels_of(p4) == dict(positive=1, negative=2, surprise=1,
                                 others=2)
    one = CASME1Dataset(data_root=corpora['casme1'],
                        ann_file='CASME_A_Section.xlsx',
                        data_prefix=dict(img='Section A'))
    assert len(one) == 4


def test_casme3(corpora):
    ds = CASME3Dataset(data_root=corpora['casme3'])
    assert len(ds) == 5
    assert subjects_of(ds) == fab.EXPECTED['casme3']['subjects']
    d = ds.get_data_info(0)
    assert d['frame_paths'][0].endswith(osp.join('spNO.1', 'a', 'color',
                                                 '120.jpg'))
    p4 = CASME3Dataset(data_root=corpora['casme3'], class_setup='paper4')
    assert labels_of(p4) == dict(positive=1, negative=2, surprise=1,
                                 others=1)
    with pytest.raises(ValueError, match='std5'):
        CASME3Dataset(data_root=corpora['casme3'], class_setup='std5')


def test_megc2019(corpora):
    root = corpora['megc2019']
    ds = MEGC2019Dataset(**fab.megc_cfg(root))
    exp = fab.EXPECTED['megc2019']
    assert len(ds) == exp['total']
    assert ds.metainfo['classes'] == ('negative', 'positive', 'surprise')
    per = Counter(ds.get_data_info(i)['corpus'] for i in range(len(ds)))
    assert per == dict(casme2=exp['casme2'], samm=exp['samm'],
                       smic=exp['smic'])
    subs = subjects_of(ds)
    assert all(s.split('/')[0] in ('casme2', 'samm', 'smic') for s in subs)
    # per-sample fps of the source corpus
    fps = {ds.get_data_info(i)['corpus']: ds.get_data_info(i)['fps']
           for i in range(len(ds))}
    assert fps == dict(casme2=200, samm=200, smic=100)
    reasons = Counter(e['reason'] for e in ds.excluded)
    # casme2: 4 not megc3 + EP12_01f; samm: Other
    assert reasons == {'not in the MEGC2019 list': 6}
    assert any(e['clip_id'] == 'EP12_01f' for e in ds.excluded)
    labels = labels_of(ds)
    assert labels == dict(negative=10, positive=4, surprise=3)
    with pytest.raises(ValueError, match='prefixed'):
        MEGC2019Dataset(**fab.megc_cfg(root), subjects=['sub01'])
    one = MEGC2019Dataset(**fab.megc_cfg(root), subjects=['samm/011'])
    assert len(one) == 3


def test_generic_csv(corpora):
    root = corpora['generic']
    ds = MEAnnotationDataset(ann_file='ann.csv', data_root=root,
                             corpus='mycorpus', fps=30)
    assert len(ds) == 5
    assert ds.metainfo['classes'] == ('anger', 'calm', 'joy')
    assert subjects_of(ds) == ['mycorpus/A', 'mycorpus/B', 'mycorpus/C']
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert infos[1]['apex'] == -1
    video = [d for d in infos if 'filename' in d][0]
    assert video['filename'].endswith('v1.mp4')
    assert list(video['video_frame_inds']) == [2, 3, 4, 5, 6, 7]
    assert 'frame_paths' not in video
    m = MEAnnotationDataset(ann_file='ann.csv', data_root=root,
                            class_setup={'joy': 'pos', 'anger': 'neg'})
    assert len(m) == 4 and len(m.excluded) == 1
    assert m.excluded[0]['emotion'] == 'calm'


def test_subject_filters(corpora):
    root = corpora['casme2']
    keep = CASME2Dataset(data_root=root, subjects=['sub02'])
    assert subjects_of(keep) == ['casme2/sub02']
    also = CASME2Dataset(data_root=root, subjects=[2, 'casme2/sub03'])
    assert subjects_of(also) == ['casme2/sub02', 'casme2/sub03']
    drop = CASME2Dataset(data_root=root, exclude_subjects=['casme2/sub01'])
    assert subjects_of(drop) == ['casme2/sub02', 'casme2/sub03']
    with pytest.raises(ValueError, match='sub09'):
        CASME2Dataset(data_root=root, subjects=['sub09'])


def test_registered():
    from mmaction.registry import DATASETS
    for name in ('CASME2Dataset', 'SAMMDataset', 'SMICDataset',
                 'CASME1Dataset', 'CASME3Dataset', 'MEGC2019Dataset',
                 'MEAnnotationDataset'):
        assert DATASETS.get(name) is not None
