"""The authors' AKMNet checkpoints in mmakm: the matching model config and
the state-dict conversion.

The authors' code (github Trunpm/AKMNet-Micro-Expression, ``models/resnet.py``)
saves ``model.state_dict()`` of one ``nn.Module`` with the keys ``conv1``,
``bn1``, ``layer1..4`` (ResNet-18 with a 1-channel 5×5 stem), ``alpha.0``
(the α layer, ``Linear(512, 1)`` + sigmoid), ``gru`` (the shared bi-GRU) and
``fc.1`` (the classifier after ``fc.0`` = dropout). Its classifier reads G
flattened as (position, channel); :class:`PixelBiGRUHead` flattens
(channel, position), so the classifier's columns are permuted.
"""
from collections import OrderedDict
from typing import Dict, Mapping

import torch

#: official prefix -> mmakm prefix
_PREFIXES = (('conv1.', 'backbone.conv1.'), ('bn1.', 'backbone.bn1.'),
             ('layer1.', 'backbone.layer1.'), ('layer2.', 'backbone.layer2.'),
             ('layer3.', 'backbone.layer3.'), ('layer4.', 'backbone.layer4.'),
             ('alpha.0.', 'neck.attention.'), ('gru.', 'cls_head.gru.'),
             ('fc.1.', 'cls_head.fc_cls.'))


def official_akmnet_cfg(num_classes: int = 4, base_channels: int = 64,
                        spatial_size: int = 4) -> dict:
    """mmakm's AKMNet configured as the authors' code runs.

    Gray frames scaled by 1/255 (no mean/std), the 5×5 stride-2 stem,
    ``threshold='>='``, ``grad_rule='official'``, bi-GRU 2×32, dropout 0.5,
    λ1 = 0.1, λ2 = 1, C = 2. ``base_channels`` < 64 only for quick tests;
    ``spatial_size`` is 4 for 128×128 frames.
    """
    feat = 8 * base_channels
    return dict(
        type='AKMNet',
        data_preprocessor=dict(type='MEDataPreprocessor', channels=1,
                               mean=[0.], std=[255.]),
        backbone=dict(type='FrameResNet', depth=18, in_channels=1,
                      stem='paper', base_channels=base_channels),
        neck=dict(type='KeyFrameMining', in_channels=feat,
                  selection='mining', threshold='>=', grad_rule='official'),
        cls_head=dict(type='PixelBiGRUHead', num_classes=num_classes,
                      in_channels=feat, hidden_channels=32, num_layers=2,
                      spatial_size=spatial_size, dropout_ratio=0.5,
                      loss_cls=dict(type='CrossEntropyLoss'),
                      average_clips='prob'),
        loss_aux=dict(type='GSMMMLoss', lambda_gs=0.1, lambda_mmm=1.0,
                      margin=2.0))


def convert_official_state_dict(
        state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """An official AKMNet state dict → the state dict of mmakm's AKMNet.

    Args:
        state_dict (Mapping[str, Tensor]): ``model.state_dict()`` of the
            authors' model (a ``module.`` prefix of ``nn.DataParallel`` is
            stripped).

    Returns:
        dict: keys of :func:`official_akmnet_cfg`'s model, the classifier's
        columns reordered from (position, channel) to (channel, position).

    Raises:
        KeyError: a key that is not part of the official model, or a
            missing classifier / GRU key.
    """
    state = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        for old, new in _PREFIXES:
            if key.startswith(old):
                state[new + key[len(old):]] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise KeyError(f'not keys of the official AKMNet: {unknown}')
    for official, need in (('fc.1.weight', 'cls_head.fc_cls.weight'),
                           ('gru.weight_hh_l0', 'cls_head.gru.weight_hh_l0')):
        if need not in state:
            raise KeyError(f'the official state dict has no {official}')
    fc = state['cls_head.fc_cls.weight']  # (K, P·2H), (position, channel)
    out_dim = 2 * state['cls_head.gru.weight_hh_l0'].shape[1]  # 2H
    if fc.shape[1] % out_dim:
        raise ValueError(f'fc.1.weight has {fc.shape[1]} inputs, not a '
                         f'multiple of the bi-GRU output {out_dim}')
    positions = fc.shape[1] // out_dim
    state['cls_head.fc_cls.weight'] = fc.reshape(
        fc.shape[0], positions, out_dim).transpose(1, 2).reshape(
            fc.shape[0], -1).contiguous()
    return state
