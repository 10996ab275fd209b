"""Fast tests of the LOSO orchestration (no training): fold configs, the
fold runner with stand-in tools, atomic outputs."""
import json
import os
import os.path as osp
import pickle

import pytest
from mmengine.config import Config

import loso_testlib as lib
from mmakm.loso import derive_fold_cfg, leaf_datasets, safe_name
from mmakm.loso.plan import plan_folds, select_subjects
from mmakm.loso.runner import FoldRunner, fold_finished, fold_threads


def _cfg(train_ds):
    return Config(dict(
        train_dataloader=dict(dataset=train_ds),
        test_dataloader=dict(dataset=dict(type='CASME2Dataset', data_root='x')),
        val_dataloader=dict(dataset=dict(type='CASME2Dataset')),
        val_cfg=dict(type='ValLoop'), val_evaluator=dict(type='MEMetric'),
        default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook',
                                           save_best='acc', rule='greater'))))


@pytest.mark.parametrize('wrap', ['plain', 'repeat', 'concat'])
def test_fold_cfg_handles_dataset_wrappers(wrap):
    leaf = dict(type='CASME2Dataset', exclude_subjects=['casme2/sub09'])
    ds = dict(plain=leaf,
              repeat=dict(type='RepeatDataset', times=3, dataset=leaf),
              concat=dict(type='ConcatDataset',
                          datasets=[leaf, dict(type='SAMMDataset')]))[wrap]
    cfg = _cfg(ds)
    fold = derive_fold_cfg(cfg, 'casme2/sub01', '/w/fold_casme2_sub01')
    leaves = leaf_datasets(fold.train_dataloader.dataset)
    assert leaves and all('casme2/sub01' in l['exclude_subjects']
                          for l in leaves)
    assert leaves[0]['exclude_subjects'] == ['casme2/sub09', 'casme2/sub01']
    assert fold.test_dataloader.dataset.subjects == ['casme2/sub01']
    # leak-free: no validation, no best-checkpoint selection
    assert fold.val_dataloader is None and fold.val_cfg is None
    assert 'save_best' not in fold.default_hooks.checkpoint
    assert fold.work_dir == '/w/fold_casme2_sub01'
    # the experiment config is untouched
    assert 'subjects' not in cfg.test_dataloader.dataset
    assert cfg.val_cfg is not None


def test_subject_selection_and_names():
    subjects = ['casme2/sub01', 'casme2/sub02', 'samm/006']
    assert safe_name('casme2/sub01') == 'casme2_sub01'
    assert select_subjects(subjects, ['006', 'sub01']) == [
        'casme2/sub01', 'samm/006']
    assert select_subjects(subjects, None) == subjects
    with pytest.raises(ValueError, match='unknown subject'):
        select_subjects(subjects, ['sub99'])
    folds = plan_folds('/w', subjects)
    assert [f.name for f in folds] == ['fold_casme2_sub01',
                                       'fold_casme2_sub02', 'fold_samm_006']
    with pytest.raises(ValueError, match='collide'):
        plan_folds('/w', ['a/b', 'a_b'])


FAKE_TRAIN = lib.FAKE_TRAIN
FAKE_TEST = '''
import argparse, os, os.path as osp, pickle, sys
p = argparse.ArgumentParser()
p.add_argument('config'); p.add_argument('checkpoint')
p.add_argument('--work-dir'); p.add_argument('--dump')
a = p.parse_args()
with open(osp.join(a.work_dir, 'calls.txt'), 'a') as f:
    f.write('test\\n')
data = pickle.dumps([dict(pred_score=[0.5, 0.5], gt_label=0)])
if os.environ.get('FAKE_TEST_FAIL'):  # die after a partial write
    open(a.dump, 'wb').write(data[:5])
    sys.exit(3)
open(a.dump, 'wb').write(data)
'''


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    return lib.install_fake_tools(tmp_path, monkeypatch, FAKE_TRAIN,
                                  FAKE_TEST)


def _folds(tmp_path, n):
    return lib.empty_folds(tmp_path, n)


def _calls(fold):
    with open(osp.join(fold.work_dir, 'calls.txt')) as f:
        return f.read().split('\n')[:-1]


def test_runner_parallel_resume_and_skip(fake_tools, tmp_path):
    folds = _folds(tmp_path, 3)
    lines = []
    runner = FoldRunner(jobs=2, log=lines.append)
    status = runner.run(folds)
    assert status == {f.subject: 'done' for f in folds}
    assert all(fold_finished(f) for f in folds)
    threads = str(fold_threads())
    assert _calls(folds[0]) == [f'train resume=False threads={threads}',
                                'test']
    assert any('fold 3/3' in l for l in lines)
    # a rerun touches nothing
    st = os.stat(folds[0].predictions)
    assert FoldRunner(log=lines.append).run(folds) == {
        f.subject: 'skipped' for f in folds}
    assert os.stat(folds[0].predictions).st_mtime_ns == st.st_mtime_ns
    assert len(_calls(folds[0])) == 2


def test_failed_test_leaves_no_predictions(fake_tools, tmp_path,
                                           monkeypatch):
    fold, = _folds(tmp_path, 1)
    monkeypatch.setenv('FAKE_TEST_FAIL', '1')
    status = FoldRunner(log=lambda m: None).run([fold])
    assert status[fold.subject].startswith('failed')
    assert 'exited with 3' in status[fold.subject]
    assert not osp.exists(fold.predictions)  # never a torn predictions.pkl
    # trained, then interrupted at test time: the rerun does not retrain
    monkeypatch.delenv('FAKE_TEST_FAIL')
    assert FoldRunner(log=lambda m: None).run([fold]) == {fold.subject: 'done'}
    assert _calls(fold) == ['train resume=False threads=%d' %
                            fold_threads(), 'test', 'test']
    with open(fold.predictions, 'rb') as f:
        assert pickle.load(f)[0]['gt_label'] == 0


def test_interrupted_training_is_resumed(fake_tools, tmp_path):
    fold, = _folds(tmp_path, 1)
    ck = osp.join(fold.work_dir, 'epoch_1.pth')
    open(ck, 'wb').write(b'x')
    open(osp.join(fold.work_dir, 'last_checkpoint'), 'w').write(ck)
    FoldRunner(log=lambda m: None).run([fold])
    assert _calls(fold)[0].startswith('train resume=True')
    with open(fold.train_done) as f:
        assert json.load(f)['checkpoint'] == ck


def test_report_files_are_atomic(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from mmakm.visualization import savefig_atomic
    fig = plt.figure()
    target = tmp_path / 'fig.png'
    target.write_bytes(b'old')

    def boom(*a, **k):
        raise RuntimeError('disk full')
    monkeypatch.setattr(fig, 'savefig', boom)
    with pytest.raises(RuntimeError):
        savefig_atomic(fig, str(target))
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['fig.png']
    plt.close(fig)


def test_fold_config_is_frozen_once_written(tmp_path):
    from mmakm.loso.experiment import write_fold_configs
    cfg = _cfg(dict(type='CASME2Dataset'))
    folds = plan_folds(str(tmp_path), ['casme2/sub01'])
    write_fold_configs(cfg, folds)
    text = open(folds[0].config_path).read()
    write_fold_configs(cfg, folds)  # same config: fine, file untouched
    assert open(folds[0].config_path).read() == text
    cfg.train_dataloader.batch_size = 2
    with pytest.raises(RuntimeError, match='changed since'):
        write_fold_configs(cfg, folds)


def test_finished_fold_under_another_config_is_refused(tiny_config, tmp_path):
    """A finished fold's predictions are not pooled into another experiment."""
    from mmakm.loso import run_loso
    from mmakm.loso.experiment import write_fold_configs
    from mmakm.loso.plan import describe_protocol, load_config
    cfg = load_config(tiny_config, None)
    subject = describe_protocol(cfg)[0][0]
    work_dir = str(tmp_path / 'exp')
    folds = plan_folds(work_dir, [subject])
    write_fold_configs(cfg, folds)
    os.makedirs(folds[0].work_dir, exist_ok=True)
    with open(folds[0].predictions, 'wb') as f:  # the fold looks finished
        f.write(b'not used')
    with pytest.raises(RuntimeError, match='changed since'):
        run_loso(tiny_config, work_dir, folds=[subject],
                 cfg_options={'train_cfg.max_epochs': 5},
                 log=lambda m: None)


def test_composite_of_concatenated_corpora_gets_one_fold_per_subject(
        tmp_path):
    """CASME II + SAMM as a ConcatDataset: the fold of casme2/sub01 excludes
    it from the CASME II leaf only and tests the CASME II leaf only (a SAMM
    dataset refuses a subject it does not have)."""
    import sys
    from collections import Counter

    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope

    from mmakm.datasets import CorpusError
    from mmakm.loso.plan import leaf_subjects, protocol_clips
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import fabricate as fab
    init_default_scope('mmaction')
    leaves = [dict(type='CASME2Dataset', class_setup='paper4', pipeline=[],
                   data_root=fab.make_casme2(str(tmp_path / 'casme2'))),
              dict(type='SAMMDataset', class_setup='paper4', pipeline=[],
                   data_root=fab.make_samm(str(tmp_path / 'samm')))]
    concat = dict(type='ConcatDataset', datasets=leaves,
                  ignore_keys=['fps', 'corpus'])  # the classes must agree
    cfg = Config(dict(train_dataloader=dict(dataset=concat),
                      test_dataloader=dict(dataset=concat)))
    clips, _ = protocol_clips(cfg)
    whole = DATASETS.build(concat)
    everyone = Counter(whole.get_data_info(i)['subject']
                       for i in range(len(whole)))
    assert clips == dict(everyone) and len(clips) > 3
    holders = leaf_subjects(cfg)
    for subject in ('casme2/sub01', min(s for s in clips if 'samm' in s)):
        fold = derive_fold_cfg(cfg, subject, None, holders)
        train = DATASETS.build(fold.train_dataloader.dataset)
        test = DATASETS.build(fold.test_dataloader.dataset)
        got = Counter(test.get_data_info(i)['subject']
                      for i in range(len(test)))
        assert got == {subject: clips[subject]}
        trained = Counter(train.get_data_info(i)['subject']
                          for i in range(len(train)))
        assert trained == {s: n for s, n in clips.items() if s != subject}
    # without the leaves' subjects: every fold refused (the earlier plan)
    fold = derive_fold_cfg(cfg, 'casme2/sub01')
    with pytest.raises(CorpusError, match="SAMMDataset: exclude_subjects "
                       "names subject 'casme2/sub01'"):
        DATASETS.build(fold.train_dataloader.dataset)
    # one leaf a side: nothing to look up, the fold configs are as before
    single = Config(dict(train_dataloader=dict(dataset=leaves[0]),
                         test_dataloader=dict(dataset=leaves[0])))
    assert leaf_subjects(single) is None
