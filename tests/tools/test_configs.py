"""Every config in configs/ parses and builds its model; the data, evaluator
and hook parts name registered components with a valid structure."""
import glob
import os.path as osp
import sys

import pytest
import torch

import mmakm  # noqa: F401  (before Config.fromfile)
import mmakm.engine  # noqa: F401
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import (DATA_SAMPLERS, DATASETS, HOOKS, METRICS,
                               MODELS, TRANSFORMS)
from mmakm.datasets import ME_META_KEYS

from tools_testlib import REPO

sys.path.insert(0, osp.join(REPO, 'tests'))
import fabricate  # noqa: E402

# every clip config (the image pretraining configs, configs/pretrain/
# frameresnet_*.py, are checked in test_pretrain.py)
CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True)
    if f'{osp.sep}_base_{osp.sep}' not in p
    and not osp.basename(p).startswith('frameresnet_'))

PAPER = ['akm_casme2', 'akm_samm', 'akm_smic', 'akm_casme1', 'akm_casme3',
         'akm_megc2019']
NUM_CLASSES = dict(akm_casme2=4, akm_samm=4, akm_smic=3, akm_casme1=4,
                   akm_casme3=4, akm_megc2019=3)


def _name(path):
    return osp.relpath(path, osp.join(REPO, 'configs'))


def test_expected_configs_exist():
    names = {_name(p) for p in CONFIGS}
    expected = {f'{n}.py' for n in PAPER} | {
        'akm_synthetic.py', 'baselines/tsn_r18_synthetic.py',
        'baselines/tsn_r18_casme2.py', 'baselines/i3d_r50_casme2.py',
        'baselines/akm_mmaction_r18_casme2.py',
        'ablations/akm_s12_casme2.py', 'ablations/akm_s13_casme2.py',
        'ablations/akm_s23_casme2.py', 'ablations/akm_allframes_casme2.py',
        'ablations/akm_randomkf_casme2.py',
        'casme2_sized/akm_casme2_sized.py'
    } | {f'ablations/akm_tim{k}_casme2.py' for k in (16, 32, 64, 128)}
    assert expected <= names, sorted(expected - names)


def _check_type(registry, cfg, what):
    t = cfg['type']
    if isinstance(t, str):
        assert registry.get(t) is not None, f'{what}: {t!r} is not registered'


def _check_dataloader(cfg, key):
    loader = cfg[key]
    assert loader['batch_size'] >= 1
    if loader.get('persistent_workers'):
        assert loader.get('num_workers', 0) > 0, (
            f'{key}: persistent_workers needs num_workers > 0')
    _check_type(DATA_SAMPLERS, loader['sampler'], f'{key}.sampler')
    dataset = loader['dataset']
    _check_type(DATASETS, dataset, f'{key}.dataset')
    if dataset['type'] == 'DeviceCorpusDataset':
        # clip indices of a device-resident corpus: no pipeline, no files
        _check_type(DATASETS, dataset['dataset'], f'{key}.dataset.dataset')
        assert dataset['corpus']['type'] in ('casme2_sized', 'dataset')
        return dataset['dataset'], []
    assert dataset.get('data_root'), f'{key}.dataset has no data_root'
    pipeline = dataset['pipeline']
    for t in pipeline:
        _check_type(TRANSFORMS, t, f'{key}.pipeline')
    types = [t['type'] for t in pipeline]
    assert types[-1] == 'PackActionInputs'
    assert tuple(pipeline[-1]['meta_keys']) == tuple(ME_META_KEYS)
    assert types[0] == 'MESampleFrames'
    assert 'FormatShape' in types
    return dataset, types


@pytest.mark.parametrize('path', CONFIGS, ids=_name)
def test_config_parses_and_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmaction'
    assert 'mmakm' in cfg.custom_imports['imports']
    init_default_scope('mmaction')

    # leak-free default: no validation loop, last checkpoint is tested
    assert cfg.get('val_dataloader') is None and cfg.get('val_cfg') is None
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    for name, hook in cfg.default_hooks.items():
        _check_type(HOOKS, hook, f'default_hooks.{name}')
    assert cfg.randomness.seed is not None

    train_ds, train_types = _check_dataloader(cfg, 'train_dataloader')
    test_ds, test_types = _check_dataloader(cfg, 'test_dataloader')
    assert test_ds.get('test_mode') is True
    assert train_ds['type'] == test_ds['type']
    evaluators = cfg.test_evaluator
    evaluators = evaluators if isinstance(evaluators, list) else [evaluators]
    for m in evaluators:
        _check_type(METRICS, m, 'test_evaluator')
    assert 'MEMetric' in [m['type'] for m in evaluators]

    model = MODELS.build(cfg.model)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params > 0

    name = osp.splitext(_name(path))[0]
    if cfg.model.type == 'AKMNet':
        assert 'KeyFrameApexMetric' in [m['type'] for m in evaluators]
        # the synthetic recipe (demo, evidence rows, incl.
        # pretrain/akm_synthetic_stills) trains and tests at one scale
        if 'synthetic' in name:
            assert 'Flip' in train_types and 'RandomCrop' not in train_types
        elif cfg.train_dataloader.dataset.type == 'DeviceCorpusDataset':
            # crop/flip on the device, by the data preprocessor
            pre = cfg.model.data_preprocessor
            assert pre.type == 'MEDeviceCorpusPreprocessor'
            assert pre.corpus == cfg.train_dataloader.dataset.corpus
            assert pre.corpus == cfg.test_dataloader.dataset.corpus
        else:
            assert 'RandomCrop' in train_types and 'CenterCrop' in test_types
    if name == 'casme2_sized/akm_casme2_sized':
        # paper recipe sizes: 144 -> 128, batch 8, full ResNet-18, 40 epochs
        assert cfg.model.data_preprocessor.corpus.size == 144
        assert cfg.model.data_preprocessor.crop_size == 128
        assert cfg.train_dataloader.batch_size == 8
        assert cfg.model.backbone.get('base_channels', 64) == 64
        assert cfg.train_cfg.max_epochs == 40
    if name in PAPER:
        # the paper recipe
        assert cfg.model.cls_head.num_classes == NUM_CLASSES[name]
        opt = cfg.optim_wrapper.optimizer
        assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == (
            'SGD', 1e-3, 0.9, 5e-4)
        assert cfg.train_cfg.max_epochs == 40
        sched = cfg.param_scheduler[0]
        assert sched.type == 'CosineAnnealingLR' and sched.eta_min == 1e-8
        assert cfg.train_dataloader.batch_size == 8
        assert cfg.train_dataloader.sampler.type == 'ClassBalancedSampler'
        assert cfg.model.loss_aux.lambda_gs == 0.1
        assert cfg.model.loss_aux.lambda_mmm == 1.0
        pipe = cfg.train_dataloader.dataset.pipeline
        assert pipe[0] == dict(type='MESampleFrames')  # all frames
        assert dict(type='RandomCrop', size=128) in pipe
        assert dict(type='Resize', scale=(-1, 144)) in pipe


SYNTHETIC = sorted(_name(p) for p in CONFIGS if p.endswith('_synthetic.py'))


def test_every_evidence_row_is_a_synthetic_config():
    assert {'akm_synthetic.py', 'baselines/tsn_r18_synthetic.py'} <= set(
        SYNTHETIC)
    assert len([n for n in SYNTHETIC if n.startswith('evidence/')]) >= 9


@pytest.mark.parametrize('rel', SYNTHETIC)
def test_synthetic_configs_build_their_dataset(corpus_root, rel):
    """The synthetic configs (demo and evidence rows) load real samples
    through their pipelines, with the input each row says it takes."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', rel))
    init_default_scope('mmaction')
    for key in ('train_dataloader', 'test_dataloader'):
        ds_cfg = cfg[key].dataset
        ds_cfg.data_root = corpus_root
        if ds_cfg.get('cache_dir'):
            # the preprocessed rows read a frame cache of the built-in
            # corpus (their frames: tests/tools/test_preprocessed_evidence.py);
            # here the pipeline runs on the shipped frames
            ds_cfg.cache_dir = None
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) > 0
        sample = dataset[0]
        d = dataset.get_data_info(0)
        inputs = sample['inputs']
        assert sample['data_samples'].subject
        fed = sample['data_samples'].frame_numbers_fed
        if 'i3d' in rel:
            assert inputs.shape[:3] == (1, 3, 16)        # (1, C, T, H, W)
        elif 'apex' in rel:
            assert inputs.shape[0] == 1 and list(fed) == [d['apex']]
        elif 'tsn' in rel:
            assert inputs.shape[0] == 8
        elif 'tim' in rel:
            k = int(rel.split('tim')[1].split('_')[0])
            assert inputs.shape[0] == k
        else:   # AKMNet and its ablations: every 8th frame onset..offset
            assert list(fed) == list(d['frame_numbers'][::8])
        assert inputs.shape[-2:] == (40, 40)


# the clip configs of the licensed corpora (the synthetic ones above; the
# device-resident corpus needs no files; the max-β rows read a LOSO fold's
# prediction dump: tests/loso/test_max_beta_folds.py)
CORPUS_CONFIGS = [
    _name(p) for p in CONFIGS
    if not _name(p).endswith('_synthetic.py')
    and not _name(p).startswith(('casme2_sized/', 'evidence/'))
    and 'maxbeta' not in _name(p)
    and 'synthetic' not in _name(p)]
#: dataset type -> corpus of tests/fabricate.py's make_all
FABRICATED = dict(CASME2Dataset='casme2', SAMMDataset='samm',
                  SMICDataset='smic', CASME1Dataset='casme1',
                  CASME3Dataset='casme3', MEGC2019Dataset='megc2019')


@pytest.fixture(scope='module')
def fabricated_corpora(tmp_path_factory):
    return fabricate.make_all(str(tmp_path_factory.mktemp('corpora')))


def test_corpus_configs_are_found():
    assert {'akm_casme2.py', 'akm_megc2019.py', 'baselines/tsn_r18_smic.py',
            'ablations/akm_s12_casme2.py', 'pretrain/akm_casme2_affectnet.py'
            } <= set(CORPUS_CONFIGS)


@pytest.mark.parametrize('rel', CORPUS_CONFIGS)
def test_corpus_configs_build_their_dataset(fabricated_corpora, rel):
    """Each config's train and test datasets load a sample of a fabricated
    copy of its corpus through their pipelines, from the shipped frames
    (``cache_dir=None``, as the README says to train without the cache)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', rel))
    init_default_scope('mmaction')
    for key in ('train_dataloader', 'test_dataloader'):
        ds_cfg = cfg[key].dataset
        corpus = FABRICATED[ds_cfg.type]
        root = fabricated_corpora[corpus]
        ds_cfg.data_root = root
        if ds_cfg.get('cache_dir'):
            ds_cfg.cache_dir = None
        if corpus == 'casme1':       # the config names the sections of a copy
            ds_cfg.sections = fabricate.CASME1_SECTIONS_CFG
        if corpus == 'megc2019':
            ds_cfg.ann_file = osp.join(root, 'megc2019.csv')
            for part, folder in (('casme2', 'CASME2'), ('samm', 'SAMM'),
                                 ('smic', 'SMIC')):
                ds_cfg[part].data_root = osp.join(root, folder)
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) > 0, f'{rel}: {key} has no sample'
        sample = dataset[0]
        inputs = sample['inputs']
        assert inputs.dtype == torch.uint8 and inputs.ndim in (4, 5)
        assert sample['data_samples'].subject.split('/')[0] in (
            ('casme2', 'samm', 'smic') if corpus == 'megc2019' else (corpus,))
        if 'apex' in rel:
            assert list(sample['data_samples'].frame_numbers_fed) == [
                dataset.get_data_info(0)['apex']]
        if cfg.model.type == 'AKMNet':
            fed = list(sample['data_samples'].frame_numbers_fed)
            if '_tim' in rel:        # TIM: every clip resampled to K frames
                assert len(fed) == int(rel.split('_tim')[1].split('_')[0])
            else:                    # every frame onset..offset
                assert fed == list(dataset.get_data_info(0)['frame_numbers'])
            assert inputs.shape[-2:] == (128, 128)
