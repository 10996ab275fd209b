"""The paper-recipe configs train on the preprocessed cache by default and
name the preprocess command when it is missing."""
import os.path as osp

import pytest

import mmakm  # noqa: F401  (before Config.fromfile)
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAPER = ['casme2', 'samm', 'smic', 'casme1', 'casme3', 'megc2019']


@pytest.mark.parametrize('corpus', PAPER)
def test_paper_config_uses_cache(corpus, tmp_path):
    from mmaction.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO, 'configs', f'akm_{corpus}.py'))
    for key in ('train_dataloader', 'test_dataloader'):
        cache = cfg[key].dataset.cache_dir
        assert osp.normpath(cache) == osp.join(REPO, 'data', 'cache',
                                               'paper')
    assert cfg.preprocess.face.size == 144
    assert cfg.preprocess.magnify.type == 'phase'
    assert cfg.preprocess.magnify.alpha == 15
    # a missing cache is an error naming the command that makes it
    init_default_scope('mmaction')
    ds_cfg = dict(cfg.train_dataloader.dataset,
                  cache_dir=str(tmp_path / 'no_cache'))
    with pytest.raises(FileNotFoundError,
                       match=f'python tools/preprocess.py configs/akm_'
                       f'{corpus}.py .*no_cache'):
        DATASETS.build(ds_cfg)


def test_ablations_inherit_the_cache():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ablations',
                                   'akm_s12_casme2.py'))
    assert cfg.train_dataloader.dataset.cache_dir.endswith('cache/paper')
