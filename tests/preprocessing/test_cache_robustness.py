"""The frame cache under bad conditions: an interrupted run, a cache of
another recipe or another copy/release of the corpus, damaged files, paths
with spaces and non-ASCII characters."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import fabricate as fab  # noqa: E402

import mmakm  # noqa: E402,F401
import mmakm.preprocessing.runner as runner  # noqa: E402
from mmakm.datasets import CASME2Dataset  # noqa: E402
from mmakm.preprocessing import CacheMissError, load_frames  # noqa: E402
from mmakm.preprocessing.cache import (CacheCorruptError,  # noqa: E402
                                       CacheSourceError, CacheStaleError,
                                       cached_entry)

RECIPE = dict(face=None)
N_CLIPS = fab.EXPECTED['casme2']['raw']


def quiet(*_):
    pass


def build(root, cache, overwrite=False, log=quiet, **kw):
    return runner.preprocess_dataset(CASME2Dataset(data_root=root, **kw),
                                     cache, RECIPE, overwrite, log=log)


def arrays(cache):
    """{relative path: bytes} of every visible file under ``cache``."""
    out = {}
    for dirpath, _, files in os.walk(cache):
        for name in files:
            if not name.startswith('.') and name.endswith('.npy'):
                path = osp.join(dirpath, name)
                with open(path, 'rb') as f:
                    out[osp.relpath(path, cache)] = f.read()
    return out


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    # spaces and non-ASCII characters in every path on the way
    root = tmp_path_factory.mktemp('corpora') / 'Mé corpus' / 'CASME II'
    return fab.make_casme2(str(root), release='both')


def test_interrupted_run_resumes_to_the_same_cache(corpus, tmp_path,
                                                   monkeypatch):
    """Killed between a clip's array and its index: the rerun reuses the
    clips before it, remakes that one and ends with the cache an
    uninterrupted run writes, byte for byte, under a unicode path."""
    whole, cache = str(tmp_path / 'whole'), str(tmp_path / 'ca che é')
    build(corpus, whole)
    real_dump, calls = runner.write_clip, []

    def killed_before_third_index(cache_dir, key, frames, numbers, info):
        calls.append(key)
        if len(calls) == 3:  # the array is written, the index is not
            from mmakm.preprocessing.cache import clip_files, write_clip
            npy = clip_files(cache_dir, key)[0]
            write_clip(cache_dir, key, frames, numbers, info)
            os.remove(npy[:-4] + '.json')
            raise KeyboardInterrupt
        return real_dump(cache_dir, key, frames, numbers, info)
    monkeypatch.setattr(runner, 'write_clip', killed_before_third_index)
    with pytest.raises(KeyboardInterrupt):
        build(corpus, cache)
    monkeypatch.setattr(runner, 'write_clip', real_dump)
    reports = build(corpus, cache)['casme2']
    assert len(reports['reused']) == 2
    assert len(reports['done']) == N_CLIPS - 2
    assert arrays(cache) == arrays(whole) and len(arrays(cache)) == N_CLIPS
    ds = CASME2Dataset(data_root=corpus, cache_dir=cache)
    info = ds.get_data_info(0)
    assert 'ca che é' in info['cache_file']
    assert load_frames(info['cache_file'], info['cache_rows']).shape[0] == \
        info['total_frames']


def test_cache_of_another_release_or_copy_is_refused(corpus, tmp_path):
    """The cropped release (or another copy) of the corpus never mixes with
    the raw one in a cache: refused when preprocessing, named per clip
    when training; --overwrite remakes it from the frames asked for."""
    cache = str(tmp_path / 'cache')
    build(corpus, cache)  # raw release
    with pytest.raises(ValueError, match=r'another copy or release of the '
                       r'corpus: .*EP02_01f\.npy was made from .*CASME2_RAW'
                       r'/sub01/EP02_01f, not from .*Cropped/sub01/EP02_01f'):
        build(corpus, cache, release='cropped')
    with pytest.raises(CacheSourceError, match=r'xlsx, row 2: clip EP02_01f '
                       r'\(casme2/sub01\): .*was made from .*CASME2_RAW'):
        CASME2Dataset(data_root=corpus, release='cropped', cache_dir=cache)
    lines = []
    build(corpus, cache, overwrite=True, release='cropped', log=lines.append)
    ds = CASME2Dataset(data_root=corpus, release='cropped', cache_dir=cache)
    assert len(ds) == N_CLIPS
    with pytest.raises(CacheSourceError):
        CASME2Dataset(data_root=corpus, cache_dir=cache)


@pytest.mark.parametrize('damage', ['index', 'truncated', 'empty', 'shape'])
def test_damaged_clip_is_named_then_remade(corpus, tmp_path, damage):
    cache = str(tmp_path / 'cache')
    build(corpus, cache)
    base = osp.join(cache, 'casme2', 'sub01', 'EP02_01f')
    if damage == 'index':
        with open(base + '.json', 'w') as f:
            f.write('{"frame_numb')
    elif damage == 'shape':
        np.save(base + '.npy', np.zeros((2, 4, 4, 3), np.uint8))
    else:
        with open(base + '.npy', 'rb') as f:
            data = f.read()
        with open(base + '.npy', 'wb') as f:
            f.write(data[:len(data) // 2] if damage == 'truncated' else b'')
    expected = dict(index=r'EP02_01f\.json: corrupt cache index',
                    truncated=r'EP02_01f\.npy: damaged cached clip',
                    empty=r'EP02_01f\.npy: damaged cached clip',
                    shape=r'EP02_01f\.npy: damaged cached clip: uint8 '
                    r'\(2, 4, 4, 3\), but its index records uint8')[damage]
    # found when the dataset is built, before any training
    with pytest.raises(CacheCorruptError, match=r'row 2: clip EP02_01f '
                       rf'\(casme2/sub01\): .*{expected}'):
        CASME2Dataset(data_root=corpus, cache_dir=cache)
    lines = []
    rep = build(corpus, cache, log=lines.append)['casme2']
    assert [c['clip_id'] for c in rep['done']] == ['EP02_01f']
    assert any('casme2/sub01/EP02_01f: remade' in line for line in lines)
    entry = cached_entry(cache, 'casme2/sub01/EP02_01f')
    assert entry['frame_numbers'] == list(range(10, 15))  # onset..offset
    assert len(CASME2Dataset(data_root=corpus, cache_dir=cache)) == N_CLIPS


def test_corrupt_recipe_and_missing_clip_messages(corpus, tmp_path):
    cache = str(tmp_path / 'cache')
    runner.check_recipe(cache, runner.normalise_recipe(RECIPE), False)
    with open(osp.join(cache, 'preprocess.json'), 'w') as f:
        f.write('{bad')
    with pytest.raises(ValueError, match=r'preprocess\.json: corrupt cache '
                       r'recipe .*--overwrite'):
        runner.check_recipe(cache, runner.normalise_recipe(RECIPE), False)
    with pytest.raises(CacheMissError, match='EP02_01f.npy not found'):
        cached_entry(cache, 'casme2/sub01/EP02_01f')


def test_a_corpus_that_cannot_be_read_leaves_no_recipe(corpus, tmp_path):
    """Before: the recipe was recorded first, so a run on a wrong corpus
    path left a recipe behind that refused the next run with another one
    ("holds clips made with another recipe", no clip in it)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    cache = str(tmp_path / 'cache')

    def cfg(root, recipe):
        return Config(dict(preprocess=recipe, train_dataloader=dict(
            dataset=dict(type='CASME2Dataset', data_root=root))))
    with pytest.raises(ValueError, match='annotation file not found'):
        runner.preprocess_config(cfg(str(tmp_path / 'nowhere'), RECIPE),
                                 cache, log=quiet)
    assert not osp.exists(osp.join(cache, 'preprocess.json'))
    other = dict(face=None, magnify=dict(type='linear', alpha=5))
    reports = runner.preprocess_config(cfg(corpus, other), cache, log=quiet)
    assert len(reports['casme2']['done']) == N_CLIPS


def test_training_refuses_a_cache_of_another_recipe(corpus, tmp_path):
    """A config whose ``preprocess`` recipe differs from the one its cache
    was made with is refused before training (tools/train.py, test.py and
    LOSO all build their runner through this check)."""
    from mmengine.config import Config

    from mmakm.engine import ConfigMismatchError, check_frame_cache
    cache = str(tmp_path / 'cache')
    build(corpus, cache)
    runner.check_recipe(cache, runner.normalise_recipe(RECIPE), False)
    cfg = Config(dict(
        preprocess=dict(face=None, magnify=dict(type='linear', alpha=5)),
        train_dataloader=dict(dataset=dict(
            type='CASME2Dataset', data_root=corpus, cache_dir=cache))))
    with pytest.raises(ConfigMismatchError, match=r'(?s)cache holds clips '
                       r'made with another recipe.*magnify.*linear.*'
                       r'tools/preprocess\.py CONFIG OUT_DIR'):
        check_frame_cache(cfg)
    cfg.preprocess = dict(face=None)
    check_frame_cache(cfg)  # the recipe the cache was made with
    with open(osp.join(cache, 'preprocess.json')) as f:
        assert json.load(f)['magnify'] is None


def test_interrupted_overwrite_with_another_recipe_is_not_taken_as_complete(
        corpus, tmp_path, monkeypatch):
    """``--overwrite`` with another recipe records the new recipe, then
    remakes the clips one by one. Killed half-way, the cache held clips of
    both recipes under the new recipe's name, and the rerun (and training)
    took the old ones as made with it. Now each clip's own recipe is
    checked: the dataset refuses such a clip, naming it, and the rerun
    remakes exactly those, ending with the cache an uninterrupted run
    writes."""
    old = runner.normalise_recipe(RECIPE)
    new = runner.normalise_recipe(
        dict(face=None, magnify=dict(type='linear', alpha=5)))
    whole, cache = str(tmp_path / 'whole'), str(tmp_path / 'cache')

    def run(cache_dir, recipe, overwrite=False):
        runner.check_recipe(cache_dir, recipe, overwrite)
        return runner.preprocess_dataset(CASME2Dataset(data_root=corpus),
                                         cache_dir, recipe, overwrite,
                                         log=quiet)['casme2']
    run(whole, new)
    run(cache, old)
    real_write, calls = runner.write_clip, []

    def killed_at_third_clip(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)
    monkeypatch.setattr(runner, 'write_clip', killed_at_third_clip)
    with pytest.raises(KeyboardInterrupt):
        run(cache, new, overwrite=True)
    monkeypatch.setattr(runner, 'write_clip', real_write)
    stale = calls[2].split('/')[-1]
    with pytest.raises(CacheStaleError, match=rf'clip {stale} .*{stale}\.npy '
                       r'was made with the recipe .*\'magnify\': None.*'
                       r'preprocess\.json records \(a preprocessing run '
                       r'with --overwrite was interrupted\)'):
        CASME2Dataset(data_root=corpus, cache_dir=cache)
    rep = run(cache, new)  # the same command without --overwrite
    assert len(rep['reused']) == 2
    assert len(rep['done']) == N_CLIPS - 2
    assert arrays(cache) == arrays(whole) and len(arrays(cache)) == N_CLIPS
    assert len(CASME2Dataset(data_root=corpus, cache_dir=cache)) == N_CLIPS
