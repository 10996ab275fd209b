"""Same seed, same predictions, with data workers: a training with
``num_workers=2`` resumed from its epoch-1 checkpoint ends with the weights
of the uninterrupted one, and ``tools/test.py --dump`` gives the same
predictions bit for bit (scores, labels, β, key frames). The tools' ``main``
runs in this process, with one torch thread. The resumed
run's second epoch starts its workers afresh in another process, so this
also checks that the workers' augmentation streams follow from the seed.
(The kill -9 variant with ``num_workers=0`` is test_train_test.py.)
"""
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from tools_testlib import SYNTH_CFG, load_tool, tiny_options

SUBJECTS = ['sub01', 'sub02', 'sub03']


def _options(corpus_root):
    opts = [o for o in tiny_options(corpus_root, SUBJECTS, max_epochs=2,
                                    batch_size=2)
            if not o.startswith('train_dataloader.num_workers')]
    return opts + ['train_dataloader.num_workers=2',
                   'train_dataloader.persistent_workers=False',
                   'default_hooks.checkpoint.max_keep_ckpts=3']


def _train(work_dir, corpus_root, *extra):
    # in this process (as test_mmaction_interop.py): no interpreter and
    # import start-up per run; the data workers are processes all the same
    load_tool('train').main([SYNTH_CFG, '--work-dir', str(work_dir),
                             '--seed', '0', *extra, '--cfg-options',
                             *_options(corpus_root)])
    return osp.join(work_dir, 'epoch_2.pth')


def _dump(work_dir, corpus_root, ckpt):
    out = osp.join(work_dir, 'predictions.pkl')
    load_tool('test').main([SYNTH_CFG, ckpt, '--work-dir', str(work_dir),
                            '--dump', out, '--cfg-options',
                            *tiny_options(corpus_root, SUBJECTS)])
    with open(out, 'rb') as f:
        return pickle.load(f)


def _as_np(v):
    return v.numpy() if hasattr(v, 'numpy') else np.asarray(v)


@pytest.fixture
def one_thread():
    """One torch thread, as the tools run in tests (tool_env): several
    threads may sum reductions in another order from run to run
    (docs/robustness.md), which is not what this test is about."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_resumed_with_workers_predicts_bit_for_bit_the_same(corpus_root,
                                                            tmp_path,
                                                            one_thread):
    whole = _train(tmp_path / 'whole', corpus_root)
    resumed = _train(tmp_path / 'resumed', corpus_root, '--resume',
                     str(tmp_path / 'whole' / 'epoch_1.pth'))
    a = torch.load(whole, weights_only=True)['state_dict']
    b = torch.load(resumed, weights_only=True)['state_dict']
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    first = torch.load(str(tmp_path / 'whole' / 'epoch_1.pth'),
                       weights_only=True)['state_dict']
    assert not all(torch.equal(a[k], first[k]) for k in a)  # it trained

    pa = _dump(tmp_path / 'whole', corpus_root, whole)
    pb = _dump(tmp_path / 'resumed', corpus_root, resumed)
    assert len(pa) == len(pb) > 0
    for x, y in zip(pa, pb):
        assert (x['subject'], x['clip_id']) == (y['subject'], y['clip_id'])
        for key in ('pred_score', 'pred_label', 'gt_label', 'frame_weights',
                    'key_frames', 'frame_numbers_fed'):
            assert np.array_equal(_as_np(x[key]), _as_np(y[key])), key
