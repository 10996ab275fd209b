"""Every shipped class setup of every corpus, end to end: the annotated
emotion of each fabricated clip must land in the report row, confusion
matrix row and plot tick named after its class (docs/datasets.md), and
datasets of a config that name other classes are refused."""
import json
import os
import os.path as osp
import pickle
import sys
from collections import Counter

import numpy as np
import pytest
from mmengine.config import Config

import mmakm  # noqa: F401
from mmakm.datasets import (CASME1Dataset, CASME2Dataset, CASME3Dataset,
                            MEGC2019Dataset, SAMMDataset, SMICDataset)
from mmakm.engine import ConfigMismatchError, check_num_classes
from mmakm.loso.plan import plan_folds
from mmakm.loso.report import build_report

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import fabricate as fab  # noqa: E402

# the class setups of docs/datasets.md, written out independently
PAPER4 = ('positive', 'negative', 'surprise', 'others')
TO_PAPER4 = dict(happiness='positive', happy='positive', positive='positive',
                 disgust='negative', sadness='negative', contempt='negative',
                 anger='negative', fear='negative', negative='negative',
                 surprise='surprise', tense='others', repression='others',
                 others='others', other='others')
# MEGC2019: CASME II others / fear / sadness are dropped, SAMM's are not
TO_MEGC3 = dict(
    casme2=dict(happiness='positive', disgust='negative',
                repression='negative', surprise='surprise'),
    samm=dict(happiness='positive', anger='negative', contempt='negative',
              disgust='negative', fear='negative', sadness='negative',
              surprise='surprise'),
    smic=dict(positive='positive', negative='negative', surprise='surprise'))
STD5 = dict(casme2=('happiness', 'surprise', 'disgust', 'repression',
                    'others'),
            samm=('anger', 'contempt', 'happiness', 'surprise', 'others'))
RAW = dict(casme2=('happiness', 'disgust', 'repression', 'surprise',
                   'sadness', 'fear', 'others'),
           samm=('anger', 'contempt', 'disgust', 'fear', 'happiness',
                 'sadness', 'surprise', 'others'),
           smic=('positive', 'negative', 'surprise'),
           casme1=('happiness', 'disgust', 'repression', 'surprise',
                   'sadness', 'fear', 'tense', 'contempt'),
           casme3=('happiness', 'disgust', 'fear', 'surprise', 'anger',
                   'sadness', 'others'))
DICT_SETUP = {'Happiness': 'pos', 'disgust': None, 'surprise': 'sur',
              'repression': 'neg', 'others': 'neg'}


def expected(corpus, setup, emotion):
    """(classes, class of ``emotion``) under ``setup``; class None:
    the clip must have been excluded."""
    e = emotion.lower()
    if setup == 'raw':
        e = dict(other='others', happy='happiness').get(e, e)
        return RAW[corpus], e
    if setup == 'paper4':
        classes = PAPER4[:3] if corpus == 'smic' else PAPER4
        return classes, TO_PAPER4[e]
    if setup == 'std5':
        e = dict(other='others').get(e, e)
        return STD5[corpus], e if e in STD5[corpus] else None
    if setup == 'megc3':
        return ('negative', 'positive', 'surprise'), TO_MEGC3[corpus].get(e)
    return ('pos', 'sur', 'neg'), {k.lower(): v for k, v in
                                   DICT_SETUP.items()}.get(e)


@pytest.fixture(scope='module')
def corpora(tmp_path_factory):
    return fab.make_all(str(tmp_path_factory.mktemp('corpora')))


def build(corpus, setup, roots):
    if corpus == 'megc2019':
        return MEGC2019Dataset(**fab.megc_cfg(roots['megc2019']))
    kwargs = dict(data_root=roots[corpus], class_setup=setup)
    cls = dict(casme2=CASME2Dataset, samm=SAMMDataset, smic=SMICDataset,
               casme1=CASME1Dataset, casme3=CASME3Dataset)[corpus]
    if corpus == 'casme1':
        kwargs['sections'] = fab.CASME1_SECTIONS_CFG
    return cls(**kwargs)


SETUPS = ([('casme2', s) for s in ('raw', 'paper4', 'std5', 'megc3', 'dict')]
          + [('samm', s) for s in ('raw', 'paper4', 'std5', 'megc3')]
          + [('smic', s) for s in ('raw', 'paper4', 'megc3')]
          + [('casme1', s) for s in ('raw', 'paper4')]
          + [('casme3', s) for s in ('raw', 'paper4')]
          + [('megc2019', 'megc3')])


@pytest.mark.parametrize('corpus,setup', SETUPS)
def test_emotions_land_in_rows_named_after_their_class(
        corpus, setup, corpora, tmp_path, monkeypatch):
    ds = build(corpus, DICT_SETUP if setup == 'dict' else setup, corpora)
    classes = ds.metainfo['classes']
    by_subject, want = {}, Counter()
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        names, cls = expected(info['corpus'], setup, info['emotion'])
        assert classes == names
        assert classes[info['label']] == cls, info['clip_id']
        want[cls] += 1
        score = np.full(len(classes), 0.05)
        score[info['label']] = 0.9
        by_subject.setdefault(info['subject'], []).append(dict(
            pred_score=score, pred_label=info['label'],
            gt_label=info['label'], subject=info['subject'],
            corpus=info['corpus'], clip_id=info['clip_id'],
            onset=info['onset'], offset=info['offset'],
            apex=info['apex'], fps=info['fps']))
    if corpus != 'megc2019':  # (the composite's list decides there)
        for emotion in {e['emotion'] for e in ds.excluded}:
            assert expected(corpus, setup, emotion)[1] is None, emotion

    ticks = {}

    def capture(fig, path, **kwargs):  # the confusion matrix's axes
        if osp.basename(path) == 'confusion_matrix.png':
            ax = fig.axes[0]
            ticks['x'] = [t.get_text() for t in ax.get_xticklabels()]
            ticks['y'] = [t.get_text() for t in ax.get_yticklabels()]
    monkeypatch.setattr('mmakm.visualization.savefig_atomic', capture)
    monkeypatch.setattr('mmakm.visualization.keyframes.savefig_atomic',
                        capture)
    folds = plan_folds(str(tmp_path), sorted(by_subject))
    for f in folds:
        os.makedirs(f.work_dir)
        with open(f.predictions, 'wb') as fh:
            pickle.dump(by_subject[f.subject], fh)
    report = build_report(str(tmp_path), folds, classes)

    assert ticks['x'] == ticks['y'] == list(classes)
    cm = np.array(report.pooled['confusion_matrix'])
    assert np.diag(cm).tolist() == [want[c] for c in classes]
    rows = [line.split(' | ')[:2] for line in report.markdown.splitlines()
            if line.startswith('| ') and line.split(' | ')[0][2:] in classes
            ]
    assert [(r[0][2:], int(r[1])) for r in rows] == [(c, want[c])
                                                     for c in classes]
    with open(tmp_path / 'loso_summary.json') as f:
        summary = json.load(f)
    assert summary['classes'] == list(classes)
    assert [summary['pooled'][f'support/{c}'] for c in classes] == [
        want[c] for c in classes]


def _cfg(train_setup, test_setup, test_type='CASME2Dataset', num_classes=5):
    def ds(kind, setup):
        return dict(type=kind, data_root='/nowhere', class_setup=setup)
    return Config(dict(
        default_scope='mmaction',
        model=dict(cls_head=dict(num_classes=num_classes)),
        train_dataloader=dict(dataset=ds('CASME2Dataset', train_setup)),
        test_dataloader=dict(dataset=ds(test_type, test_setup))))


def test_datasets_with_other_classes_are_refused():
    check_num_classes(_cfg('std5', 'std5'))  # same classes: fine
    # the same number of classes, other names: labels would be shifted
    with pytest.raises(ConfigMismatchError, match=r"(?s)different classes.*"
                       r"'happiness', 'surprise'.*'anger', 'contempt'"):
        check_num_classes(_cfg('std5', 'std5', 'SAMMDataset'))
    # the same names in another order
    reordered = dict(zip(STD5['casme2'][::-1], STD5['casme2'][::-1]))
    with pytest.raises(ConfigMismatchError, match='different classes'):
        check_num_classes(_cfg('std5', reordered))
    # and the head must match them
    with pytest.raises(ConfigMismatchError, match='num_classes = 4'):
        check_num_classes(_cfg('std5', 'std5', num_classes=4))
