"""The single-frame ResNet-18 baselines: one frame, AKMNet's backbone and
schedule, every corpus with apex labels."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmaction.registry import DATASETS, MODELS

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import fabricate as fab  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CORPORA = ('casme1', 'casme2', 'samm', 'casme3')


def cfg_of(rel):
    return Config.fromfile(osp.join(REPO, 'configs', rel))


@pytest.mark.parametrize('corpus', CORPORA)
def test_same_backbone_schedule_and_clips_as_akmnet(corpus):
    akm = cfg_of(f'akm_{corpus}.py')
    for kind, mode in (('apex', 'apex'), ('maxbeta', 'max_beta')):
        cfg = cfg_of(f'baselines/r18_{kind}_{corpus}.py')
        assert cfg.model.backbone == akm.model.backbone
        assert cfg.model.cls_head.num_classes == akm.model.cls_head.num_classes
        for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                    'randomness'):
            assert cfg[key] == akm[key], key
        for split in ('train_dataloader', 'test_dataloader'):
            got, want = cfg[split], akm[split]
            assert got.batch_size == want.batch_size
            assert got.sampler == want.sampler
            assert got.dataset.require_apex is True
            # one frame, then exactly AKMNet's decoding and crops
            assert got.dataset.pipeline[0].mode == mode
            assert got.dataset.pipeline[1:] == want.dataset.pipeline[1:]
        if mode == 'max_beta':
            path = cfg.train_dataloader.dataset.pipeline[0].predictions
            assert path.endswith('work_dirs/loso/akm_{corpus}/{fold}/'
                                 'all_clips/predictions.pkl')


def test_apex_baseline_trains_and_predicts_on_one_frame(tmp_path):
    cfg = cfg_of('baselines/r18_apex_casme2.py')
    root = fab.make_casme2(str(tmp_path / 'casme2'))
    ds_cfg = dict(cfg.train_dataloader.dataset, data_root=root)
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 9  # EP04_03 has no apex: excluded, reported
    batch = pseudo_collate([ds[0], ds[1]])
    assert tuple(batch['inputs'][0].shape) == (1, 3, 128, 128)  # 1 frame
    assert batch['data_samples'][0].frame_numbers_fed.tolist() == [12]

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(batch, False),
                      mode='predict')
    assert [p.pred_score.shape for p in preds] == [torch.Size([4])] * 2
