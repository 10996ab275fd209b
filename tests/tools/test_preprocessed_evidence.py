"""The 2x2 stabilisation x magnification rows of the evidence suite: their
configs differ from the AKMNet / TSN-R18 rows only in the preprocessing,
their frame caches are built once (reused, refused when made otherwise),
and the cached rows feed the same frame numbers as the uncached ones."""
import copy
import os
import os.path as osp
import sys

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import mmakm  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402

from mmakm.loso.suite import (config_cache_dir,  # noqa: E402
                              ensure_frame_cache, prepare_caches)

E = osp.join(ROOT, 'configs', 'evidence')
BASELINES = dict(akm=osp.join(ROOT, 'configs', 'akm_synthetic.py'),
                 tsn_r18=osp.join(ROOT, 'configs', 'baselines',
                                  'tsn_r18_synthetic.py'))
#: (config, baseline, cache, phase magnification replaces MEMagnify)
ROWS = [(f'{m}_{c}_synthetic.py', m, c, 'phase' in c)
        for m in ('akm', 'tsn_r18') for c in ('stab', 'phase', 'stab_phase')]
#: config keys of the preprocessed rows that the baseline rows lack
NEW_KEYS = ('preprocess', 'frame_caches', 'phase_pipelines', '_cache_root',
            '_face_box', '_ecc', '_phase', '_meta_keys')
LOADERS = ('train_dataloader', 'test_dataloader')
# a 96 px corpus (the Haar box needs a face of that size), 2 x 4 short clips
TINY = dict(n_subjects=2, clips_per_subject=4, size=96, min_len=12,
            max_len=26, video=False)


def without_magnify(pipeline):
    return [t for t in pipeline if t['type'] != 'MEMagnify']


@pytest.mark.parametrize('name,method,cache,phase', ROWS)
def test_config_differs_from_its_row_only_in_preprocessing(
        name, method, cache, phase):
    cfg = Config.fromfile(osp.join(E, name)).to_dict()
    base = Config.fromfile(BASELINES[method]).to_dict()
    assert cfg['preprocess'] == cfg['frame_caches'][cache]['preprocess']
    assert bool(cfg['preprocess']['stabilise']) == ('stab' in cache)
    assert (cfg['preprocess']['magnify'] or {}).get('type') == (
        'phase' if phase else None)
    for loader in LOADERS:
        ds, base_ds = cfg[loader]['dataset'], base[loader]['dataset']
        assert osp.abspath(ds.pop('cache_dir')) == osp.abspath(
            cfg['frame_caches'][cache]['cache_dir'])
        pipeline, base_pipeline = ds.pop('pipeline'), base_ds.pop('pipeline')
        if phase:  # phase magnification (offline) replaces MEMagnify
            assert any(t['type'] == 'MEMagnify' for t in base_pipeline)
            assert pipeline == without_magnify(base_pipeline)
        else:
            assert pipeline == base_pipeline
        assert ds == base_ds
    # model, schedule, loaders, seed handling, corpus: all the same
    for k in NEW_KEYS:
        cfg.pop(k, None)
    for loader in LOADERS:
        for c in (cfg, base):
            c[loader]['dataset'].pop('pipeline', None)
            c[loader]['dataset'].pop('cache_dir', None)
    assert cfg == base


def test_phase_recipe_is_the_paper_recipe_at_the_linear_alpha():
    # the paper recipe's phase settings, with the linear rows' alpha, so
    # that phase vs linear differ in the method only
    paper = Config.fromfile(osp.join(ROOT, 'configs', '_base_',
                                     'preprocess_paper.py'))
    base = Config.fromfile(osp.join(ROOT, 'configs', 'akm_synthetic.py'))
    linear, = [t for t in base.train_dataloader.dataset.pipeline
               if t['type'] == 'MEMagnify']
    cfg = Config.fromfile(osp.join(E, 'akm_stab_phase_synthetic.py'))
    phase = cfg.preprocess.magnify.to_dict()
    assert phase.pop('alpha') == linear['alpha'] == 5
    expected = paper.preprocess.magnify.to_dict()
    assert expected.pop('alpha') == 15
    assert phase == expected


def test_rows_are_in_the_suite_before_tim64():
    import tools.evidence as evidence
    names = [m.name for m in evidence.METHODS]
    configs = {m.config: m for m in evidence.METHODS}
    for name, *_ in ROWS:
        m = configs['configs/evidence/' + name]
        assert m.seeds == (0, )
        assert names.index(m.name) < names.index('TIM-64')
    # the 3-seed rows stay first
    assert [len(m.seeds) for m in evidence.METHODS[:3]] == [3, 3, 3]


# ------------------------------------------------------------ the caches
@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    from mmakm.datasets.synthetic import make_synthetic_casme2
    root = str(tmp_path_factory.mktemp('tiny') / 'synthetic')
    make_synthetic_casme2(root, seed=0, **TINY)
    return root


def point_at(cfg: Config, corpus: str, cache_dir=None) -> Config:
    """``cfg`` reading the corpus ``corpus`` (and the cache ``cache_dir``)."""
    cfg = copy.deepcopy(cfg)
    opts = {'synthetic_corpus': dict(root=corpus, seed=0, **TINY)}
    for loader in LOADERS:
        opts[f'{loader}.dataset.data_root'] = corpus
        if cache_dir is not None:
            opts[f'{loader}.dataset.cache_dir'] = cache_dir
    cfg.merge_from_dict(opts)
    return cfg


def test_cache_is_built_once_and_refused_when_made_otherwise(tiny, tmp_path):
    cache = str(tmp_path / 'stab')
    cfg = point_at(Config.fromfile(osp.join(E, 'akm_stab_synthetic.py')),
                   tiny, cache)
    assert config_cache_dir(cfg) == osp.abspath(cache)
    first = ensure_frame_cache(cfg, log=lambda msg: None)
    assert first['clips'] == 8 and first['complete']
    assert first['wall_s'] > 0
    arrays = sorted(os.path.join(d, f) for d, _, fs in os.walk(cache)
                    for f in fs if f.endswith('.npy'))
    assert len(arrays) == 8
    stamps = [os.stat(p).st_mtime_ns for p in arrays]
    # a rerun decodes nothing, rewrites nothing, books no time
    lines = []
    again = ensure_frame_cache(cfg, log=lines.append)
    assert again['wall_s'] == first['wall_s'] and again['clips'] == 8
    assert [os.stat(p).st_mtime_ns for p in arrays] == stamps
    assert any('0 preprocessed, 8 reused' in line for line in lines)
    # the stabilised frames hold the head still (the report's figures)
    import json
    with open(osp.join(cache, 'casme2', 'preprocess_report.json')) as f:
        summary = json.load(f)['summary']
    assert summary['mean_residual_motion_px'] < 0.3 * summary[
        'mean_motion_px']
    # another recipe into the same folder: refused, nothing changed
    other = copy.deepcopy(cfg)
    other.merge_from_dict({'preprocess.stabilise.iterations': 50})
    with pytest.raises(ValueError, match='another recipe'):
        ensure_frame_cache(other, log=lambda msg: None)
    # the same recipe from another synthetic corpus: refused too
    other = point_at(cfg, str(tmp_path / 'other'), cache)
    other.merge_from_dict({'synthetic_corpus.seed': 1})
    with pytest.raises(ValueError, match='another recipe'):
        ensure_frame_cache(other, log=lambda msg: None)
    assert [os.stat(p).st_mtime_ns for p in arrays] == stamps


def test_cache_made_by_hand_is_reused(tiny, tmp_path):
    """tools/preprocess.py's runner and the suite make the same cache."""
    from mmakm.preprocessing.runner import preprocess_config
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    cache = str(tmp_path / 'stab')
    cfg = point_at(Config.fromfile(osp.join(E, 'akm_stab_synthetic.py')),
                   tiny, cache)
    reports = preprocess_config(cfg, cache, log=lambda msg: None)
    assert len(reports['casme2']['done']) == 8
    lines = []
    rec = ensure_frame_cache(cfg, log=lines.append)
    assert any('0 preprocessed, 8 reused' in line for line in lines)
    assert rec['clips'] == 8 and np.isnan(rec['wall_s'])  # time unknown


def test_prepare_caches_builds_each_cache_once(tiny, tmp_path, monkeypatch):
    from mmakm.loso import suite
    from mmakm.loso.suite import Method
    calls = []
    real = suite.ensure_frame_cache
    monkeypatch.setattr(suite, 'ensure_frame_cache',
                        lambda cfg, **kw: calls.append(1) or real(cfg, **kw))
    cache = str(tmp_path / 'stab')
    opts = {f'{loader}.dataset.{k}': v for loader in LOADERS
            for k, v in (('data_root', tiny), ('cache_dir', cache))}
    opts['synthetic_corpus'] = dict(root=tiny, seed=0, **TINY)
    methods = [Method('a', 'configs/evidence/akm_stab_synthetic.py',
                      cfg_options=opts),
               Method('b', 'configs/evidence/tsn_r18_stab_synthetic.py',
                      cfg_options=opts),
               Method('c', 'configs/akm_synthetic.py')]
    records = prepare_caches(methods, ROOT, log=lambda msg: None)
    assert len(calls) == 1 and len(records) == 1
    assert records[0]['methods'] == ['a', 'b'] and records[0]['clips'] == 8


def fed_frames(cfg: Config, seed: int = 0):
    """frame_numbers_fed of every sample through the train and test
    pipelines (up to the decoded frames), with a fixed global RNG."""
    from mmengine.registry import init_default_scope
    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    out = []
    for loader in LOADERS:
        ds_cfg = cfg[loader]['dataset'].to_dict()
        # sampling and decoding only: the rest of the pipelines is compared
        # in test_config_differs_from_its_row_only_in_preprocessing
        ds_cfg['pipeline'] = ds_cfg['pipeline'][:2]
        ds = DATASETS.build(ds_cfg)
        np.random.seed(seed)
        for i in range(len(ds)):
            r = ds[i]
            out.append((r['clip_id'], list(r['frame_numbers_fed']),
                        len(r['imgs'])))
    return out


@pytest.fixture(scope='module')
def cache_root(tmp_path_factory):
    """Caches shared by the AKMNet and TSN cases (the second reuses)."""
    return tmp_path_factory.mktemp('caches')


@pytest.mark.parametrize('method', ['akm', 'tsn_r18'])
def test_cached_rows_feed_the_same_frame_numbers(tiny, cache_root, method):
    base = point_at(Config.fromfile(BASELINES[method]), tiny)
    expected = fed_frames(base)
    assert expected and all(n == len(f) for _, f, n in expected)
    # at least one clip is sampled sparsely (every 8th / 8 segments)
    assert any(f[-1] - f[0] + 1 > len(f) for _, f, _ in expected)
    for cache in ('stab', 'phase'):
        cfg = point_at(
            Config.fromfile(osp.join(E, f'{method}_{cache}_synthetic.py')),
            tiny, str(cache_root / cache))
        if cache == 'phase':  # a smaller pyramid keeps the test fast
            cfg.merge_from_dict({'preprocess.magnify.levels': 1,
                                'preprocess.magnify.orientations': 2})
        ensure_frame_cache(cfg, log=lambda msg: None)
        assert fed_frames(cfg) == expected
