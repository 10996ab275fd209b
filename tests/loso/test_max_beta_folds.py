"""The single max-β key-frame baseline reads, in each LOSO fold, the key
frames of the same fold's AKMNet over every clip."""
import glob
import importlib.util
import os.path as osp
import shutil

import pytest

from mmengine.registry import init_default_scope

import loso_testlib as lib
from mmaction.registry import DATASETS
from mmakm.evaluation import max_beta_key_frame
from mmakm.loso import derive_fold_cfg
from mmakm.loso.plan import load_config
from mmakm.loso.report import load_predictions


def dump_tool():
    path = osp.join(lib.TOOLS, 'misc', 'dump_fold_keyframes.py')
    spec = importlib.util.spec_from_file_location('dump_fold_keyframes', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


def test_max_beta_frames_come_from_the_same_folds_akmnet(
        reference_run, tiny_config, tmp_path):
    akm_dir = str(tmp_path / 'akm')
    shutil.copytree(reference_run[0], akm_dir)  # the fixture stays as is
    folds = sorted(osp.splitext(osp.basename(p))[0] for p in glob.glob(
        osp.join(akm_dir, 'fold_configs', '*.py')))
    assert len(folds) == 2
    dumped, other = folds  # one fold's run through tools/test.py is enough
    main = dump_tool()
    assert main([akm_dir, '--folds', dumped]) == {dumped: 'done'}
    assert main([akm_dir, '--folds', dumped]) == {dumped: 'skipped'}
    preds = load_predictions(osp.join(akm_dir, dumped, 'all_clips',
                                      'predictions.pkl'))
    assert len(preds) == 12  # every clip of every subject
    assert len({p['subject'] for p in preds}) == 3
    want = {(p['subject'], p['clip_id']): int(p['frame_numbers_fed'][
        max_beta_key_frame(p['key_frames'], p['frame_weights'])])
        for p in preds}

    init_default_scope('mmaction')
    cfg = load_config(tiny_config)
    template = osp.join(akm_dir, '{fold}', 'all_clips', 'predictions.pkl')
    for leaf in (cfg.train_dataloader.dataset, cfg.test_dataloader.dataset):
        leaf.pipeline = [dict(type='MESampleFrames', mode='max_beta',
                              predictions=template)]
    for fold in folds:
        subject = load_config(osp.join(akm_dir, 'fold_configs', fold + '.py')
                              ).test_dataloader.dataset.subjects[0]
        fold_cfg = derive_fold_cfg(cfg, subject)
        for split in ('train_dataloader', 'test_dataloader'):
            leaf = fold_cfg[split].dataset
            path = template.replace('{fold}', fold)
            assert leaf.pipeline[0].predictions == path
            ds = DATASETS.build(leaf)
            if fold == other:  # not dumped: a clear error, not a guess
                with pytest.raises(FileNotFoundError, match=path):
                    ds[0]
                continue
            for i in range(len(ds)):
                item = ds[i]
                assert item['frame_numbers_fed'].tolist() == [
                    want[(item['subject'], item['clip_id'])]]


def test_unfinished_akmnet_folds_are_refused(tmp_path):
    main = dump_tool()
    with pytest.raises(SystemExit, match='no fold config'):
        main([str(tmp_path)])
    (tmp_path / 'fold_configs').mkdir()
    (tmp_path / 'fold_configs' / 'fold_x.py').write_text('x = 1\n')
    with pytest.raises(SystemExit, match='fold_x: training not finished'):
        main([str(tmp_path)])
