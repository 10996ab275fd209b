"""tools/misc/convert_official_ckpt.py on a checkpoint of the reference."""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmaction.registry import MODELS
from mmakm.models.official import official_akmnet_cfg
from mmakm.testing import OfficialAKMNet

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def converter():
    path = osp.join(REPO, 'tools', 'misc', 'convert_official_ckpt.py')
    spec = importlib.util.spec_from_file_location('convert_official', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_converted_checkpoint_gives_the_same_scores(tmp_path):
    torch.manual_seed(0)
    ref = OfficialAKMNet(num_classes=3, base_channels=8).eval()
    with torch.no_grad():  # trained-looking BN statistics
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    src, dst = str(tmp_path / 'epoch40.pt'), str(tmp_path / 'sub' / 'a.pth')
    # what the official code writes, as saved through nn.DataParallel
    torch.save({'module.' + k: v for k, v in ref.state_dict().items()}, src)
    meta = converter().main([src, dst])
    assert meta['num_classes'] == 3 and meta['base_channels'] == 8
    assert meta['spatial_size'] == 4

    akm = MODELS.build(official_akmnet_cfg(num_classes=3, base_channels=8))
    load_checkpoint(akm, dst, map_location='cpu', strict=True)
    akm.eval()
    g = torch.Generator().manual_seed(1)
    clips = [torch.randint(0, 256, (t, 1, 128, 128), generator=g,
                           dtype=torch.uint8) for t in (5, 12)]
    with torch.no_grad():
        want = torch.cat([ref(c).cls_score for c in clips]).softmax(1)
        data = akm.data_preprocessor(dict(inputs=clips, data_samples=None))
        preds = akm(**data, mode='predict')
    got = torch.stack([p.pred_score for p in preds])
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(want[0], want[1])  # scores really differ


def test_bad_checkpoints_name_the_file(tmp_path):
    conv = converter()
    bad = str(tmp_path / 'other.pt')
    torch.save({'encoder.weight': torch.zeros(2)}, bad)
    with pytest.raises(ValueError, match=r'other\.pt.*encoder\.weight'):
        conv.main([bad, str(tmp_path / 'out.pth')])
    junk = tmp_path / 'junk.pt'
    junk.write_bytes(b'not a checkpoint')
    from mmakm.engine import CheckpointError
    with pytest.raises(CheckpointError, match=r"junk\.pt: not a checkpoint: "
                       r"it starts with b'not a ch'"):
        conv.main([str(junk), str(tmp_path / 'out.pth')])
    assert not (tmp_path / 'out.pth').exists()  # nothing half-written


def test_official_model_config_matches_the_function():
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'models',
                                   'akmnet_r18_official.py')).model.to_dict()
    want = official_akmnet_cfg()

    def check(got, want, where):
        for k, v in want.items():  # the file may spell out defaults too
            if isinstance(v, dict):
                check(got[k], v, f'{where}.{k}')
            else:
                assert got[k] == v, f'{where}.{k}'
    check(cfg, want, 'model')
    akm = MODELS.build(cfg)
    assert akm.state_dict().keys() == MODELS.build(want).state_dict().keys()
    assert akm.backbone.conv1.weight.shape == (64, 1, 5, 5)


def test_a_converted_checkpoint_loads_into_the_shipped_config(tmp_path):
    """The README's next step after converting: tools/test.py with
    configs/akm_casme2_official.py (the official model base cannot be a
    second base of akm_casme2.py: both define ``model``)."""
    from mmakm.engine import load_weights, read_checkpoint
    torch.manual_seed(0)
    ref = OfficialAKMNet(num_classes=4, base_channels=8)
    src, dst = str(tmp_path / 'epoch40.pt'), str(tmp_path / 'a.pth')
    torch.save({'module.' + k: v for k, v in ref.state_dict().items()}, src)
    converter().main([src, dst])
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'akm_casme2_official.py'))
    cfg.model.backbone.base_channels = 8  # the small reference above
    cfg.model.neck.in_channels = cfg.model.cls_head.in_channels = 64
    assert cfg.model.backbone.stem == 'paper'
    assert cfg.model.data_preprocessor.channels == 1
    load_weights(MODELS.build(cfg.model), read_checkpoint(dst), dst)  # strict
