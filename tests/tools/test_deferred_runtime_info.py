"""DeferredRuntimeInfoHook logs exactly what RuntimeInfoHook logs, reading
the losses back to the host at the logging interval only."""
import json
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner

import mmakm.engine  # noqa: F401  (registers the hook)

ITERS, EPOCHS, INTERVAL = 7, 2, 3


class _ToyModel(BaseModel):
    """Two losses and a metric, as tensors, like a recogniser's."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, inputs, labels=None, mode='loss'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        y = self.fc(x)
        return dict(loss_a=(y ** 2).mean(), loss_b=y.abs().mean() * 0.1,
                    top1_acc=(y[:, 0] > 0).float().mean())


class _Data(torch.utils.data.Dataset):
    def __len__(self):
        return ITERS

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(inputs=torch.randn(4, generator=g))


def _train(tmp_path, hook_type, calls):
    work_dir = str(tmp_path / hook_type)
    torch.manual_seed(0)  # same initial weights
    runner = Runner(
        model=_ToyModel(), work_dir=work_dir,
        experiment_name=f'deferred_test_{hook_type}',
        train_dataloader=dict(dataset=_Data(), batch_size=1, num_workers=0,
                              sampler=dict(type='DefaultSampler',
                                           shuffle=True),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=EPOCHS),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(
            runtime_info=dict(type=hook_type),
            logger=dict(type='LoggerHook', interval=INTERVAL,
                        ignore_last=False),
            checkpoint=dict(type='CheckpointHook', interval=1)),
        log_processor=dict(window_size=INTERVAL),
        default_scope='mmaction', randomness=dict(seed=0))
    hub = runner.message_hub
    update = hub.update_scalar

    def spy(key, value, count=1):  # what reaches the hub, and when
        if key == 'train/loss':
            calls.append((runner.iter, type(value).__name__))
        return update(key, value, count)

    hub.update_scalar = spy
    runner.train()
    scalars = osp.join(work_dir, runner.timestamp, 'vis_data',
                       'scalars.json')
    with open(scalars) as f:
        logged = [json.loads(line) for line in f]
    ckpt = torch.load(osp.join(work_dir, f'epoch_{EPOCHS}.pth'),
                      weights_only=False)
    return logged, ckpt['message_hub']['log_scalars']


def test_logged_values_equal_the_default_path(tmp_path):
    default_calls, deferred_calls = [], []
    ref, ref_hub = _train(tmp_path, 'RuntimeInfoHook', default_calls)
    got, got_hub = _train(tmp_path, 'DeferredRuntimeInfoHook',
                          deferred_calls)
    keys = ('loss', 'loss_a', 'loss_b', 'top1_acc', 'lr', 'epoch', 'iter',
            'step')
    assert len(ref) == len(got) == EPOCHS * 3  # iterations 3, 6, 7 an epoch
    for a, b in zip(ref, got):
        assert {k: a[k] for k in keys if k in a} == \
            {k: b[k] for k in keys if k in b}
    # the message hub saved in the checkpoint (a resume reads it) is equal
    for key in ('train/loss', 'train/loss_a', 'train/top1_acc'):
        assert list(ref_hub[key].data[0]) == list(got_hub[key].data[0])
    # mmengine's path reads a tensor every step; the hook hands the hub
    # host numbers, in bursts at the logging iterations only
    assert [t for _, t in default_calls] == ['Tensor'] * ITERS * EPOCHS
    assert {t for _, t in deferred_calls} == {'float'}
    flush_iters = {it for it, _ in deferred_calls}
    # every 3rd iteration of an epoch and of the run, and each epoch's last
    assert flush_iters == {2, 5, 6, 8, 9, 11, 12, 13}


def test_interval_is_checked():
    from mmakm.engine import DeferredRuntimeInfoHook
    with pytest.raises(ValueError, match='interval'):
        DeferredRuntimeInfoHook(interval=0)
