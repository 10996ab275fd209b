import os.path as osp
import sys

import pytest

import mmakm  # noqa: F401
sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
import fabricate as fab  # noqa: E402
from mmaction.registry import DATASETS  # noqa: E402
from mmakm.datasets import list_subjects, loso_folds  # noqa: E402


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp('loso')
    return dict(casme2=fab.make_casme2(str(base / 'casme2')),
                samm=fab.make_samm(str(base / 'samm')),
                megc=fab.make_megc2019(str(base / 'megc')))


def test_list_subjects_cheap(roots):
    cfg = dict(type='CASME2Dataset', data_root=roots['casme2'],
               class_setup='std5')
    assert list_subjects(cfg) == fab.EXPECTED['casme2']['subjects']
    # SAMM std5: subject 007 keeps its Anger clip; all subjects present
    assert list_subjects(dict(type='SAMMDataset', data_root=roots['samm'],
                              class_setup='std5')) == \
        fab.EXPECTED['samm']['subjects']
    ds = DATASETS.build(cfg)
    assert list_subjects(ds) == fab.EXPECTED['casme2']['subjects']


def test_list_subjects_does_not_read_frames(roots, tmp_path):
    import shutil
    root = shutil.copytree(roots['casme2'], str(tmp_path / 'c'))
    shutil.rmtree(osp.join(root, 'CASME2_RAW'))
    cfg = dict(type='CASME2Dataset', data_root=root)
    assert len(list_subjects(cfg)) == 3


@pytest.mark.parametrize('which', ['casme2', 'megc'])
def test_folds_disjoint(roots, which):
    if which == 'casme2':
        cfg = dict(type='CASME2Dataset', data_root=roots['casme2'],
                   class_setup='std5', pipeline=[])
    else:
        cfg = dict(type='MEGC2019Dataset', **fab.megc_cfg(roots['megc']),
                   pipeline=[])
    folds = loso_folds(cfg)
    all_subjects = list_subjects(cfg)
    assert [f['subject'] for f in folds] == all_subjects
    total = len(DATASETS.build(cfg))
    n_test = 0
    for fold in folds:
        train, test = DATASETS.build(fold['train']), DATASETS.build(
            fold['test'])
        tr = {train.get_data_info(i)['subject'] for i in range(len(train))}
        te = {test.get_data_info(i)['subject'] for i in range(len(test))}
        assert te == {fold['subject']}
        assert not tr & te
        assert train.metainfo['classes'] == test.metainfo['classes']
        assert len(train) + len(test) == total
        n_test += len(test)
    assert n_test == total


def test_subjects_never_collide(roots):
    subs = list_subjects(dict(type='MEGC2019Dataset',
                              **fab.megc_cfg(roots['megc'])))
    assert len(subs) == 3 + 3 + 3
    assert len({s.split('/', 1)[1] for s in subs}) <= len(subs)
    assert all('/' in s for s in subs)


@pytest.mark.parametrize('which', ['casme2', 'megc'])
def test_clip_counts_are_what_each_fold_tests(roots, which):
    """The LOSO plan's clips per subject (annotation only) equal the
    samples of each fold's test dataset, built with its frames: what the
    report checks every fold's predictions against."""
    from collections import Counter

    from mmakm.datasets.loso import count_clips
    cfg = (dict(type='MEGC2019Dataset', **fab.megc_cfg(roots['megc']))
           if which == 'megc' else
           dict(type='CASME2Dataset', data_root=roots['casme2'],
                class_setup='std5'))
    counts = count_clips(cfg)
    full = DATASETS.build(dict(cfg, pipeline=[]))
    assert counts == dict(Counter(full.get_data_info(i)['subject']
                                  for i in range(len(full))))
    assert sum(counts.values()) == len(full)
    for subject, n in counts.items():
        assert len(DATASETS.build(dict(cfg, subjects=[subject]))) == n
    assert count_clips(full) == counts  # a built dataset: the same
