"""Export the backbone of a trained recognizer as its own checkpoint.

Macro-expression pretraining (``configs/pretrain/``) trains FrameResNet in
an image recognizer; the micro-expression configs then start from the
backbone alone (``model.backbone.pretrained=<file>``). The exported file is
``dict(state_dict=<backbone weights, torchvision names>, meta=...)`` — the
same form as a torchvision ResNet state dict, so ``FrameResNet`` loads it
like ImageNet weights.
"""
import os.path as osp
from collections import OrderedDict
from typing import Mapping, Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS
from ..checkpoint import CheckpointError
from ..fileio import atomic_torch_save


def backbone_state_dict(state_dict: Mapping[str, torch.Tensor],
                        prefix: str = 'backbone.') -> 'OrderedDict':
    """The ``prefix``-ed entries of a model state dict, prefix removed.

    Raises:
        CheckpointError: if no key starts with ``prefix``.
    """
    out = OrderedDict((k[len(prefix):], v.detach().cpu())
                      for k, v in state_dict.items() if k.startswith(prefix))
    if not out:
        raise CheckpointError(
            f'no {prefix!r} weights in the state dict (its keys start with '
            f'{sorted({k.split(".")[0] for k in state_dict})}); expected a '
            'recognizer checkpoint')
    return out


def save_backbone(state_dict: Mapping[str, torch.Tensor], path: str,
                  meta: Optional[dict] = None) -> str:
    """Write the backbone part of ``state_dict`` to ``path`` atomically."""
    atomic_torch_save(
        dict(state_dict=backbone_state_dict(state_dict), meta=meta or {}),
        path)
    return path


@HOOKS.register_module()
class BackboneExportHook(Hook):
    """After training, write ``<work_dir>/<filename>`` with the backbone.

    Args:
        filename (str): file name in the work dir. Defaults to
            ``'backbone.pth'``.
    """
    priority = 'LOWEST'

    def __init__(self, filename: str = 'backbone.pth') -> None:
        self.filename = filename

    def after_train(self, runner) -> None:
        if not is_main_process():
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        path = osp.join(runner.work_dir, self.filename)
        classes = None
        dataset = getattr(runner.train_dataloader, 'dataset', None)
        if dataset is not None:
            classes = dataset.metainfo.get('classes')
        save_backbone(model.state_dict(), path,
                      meta=dict(epoch=runner.epoch, iter=runner.iter,
                                classes=classes,
                                backbone=type(model.backbone).__name__))
        print_log(f'backbone weights written to {path} (use them with '
                  f'model.backbone.pretrained={path})', logger='current')
