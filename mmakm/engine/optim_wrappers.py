"""Mixed-precision training on any device, CPU included.

mmengine's ``AmpOptimWrapper`` refuses CPU (docs/stack.md, fact 7) and
always keeps a ``GradScaler``. :class:`AutocastOptimWrapper` autocasts on
the device the parameters live on — CUDA, CPU or another accelerator —
in bfloat16 where the device supports it (no loss scaling needed: bf16 has
fp32's exponent range) and in float16 with a dynamic ``GradScaler``
otherwise.
"""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmaction.registry import OPTIM_WRAPPERS

__all__ = ['AutocastOptimWrapper', 'resolve_amp_dtype']


def resolve_amp_dtype(dtype: Union[str, torch.dtype],
                      device_type: str) -> torch.dtype:
    """The autocast dtype: ``'auto'`` → bfloat16 on CPU and on CUDA GPUs
    that support it (Ampere and newer), float16 elsewhere."""
    if isinstance(dtype, torch.dtype):
        resolved = dtype
    elif dtype == 'auto':
        if device_type == 'cpu' or (device_type == 'cuda'
                                    and torch.cuda.is_bf16_supported()):
            resolved = torch.bfloat16
        else:
            resolved = torch.float16
    elif dtype in ('bfloat16', 'float16'):
        resolved = getattr(torch, dtype)
    else:
        raise ValueError(f"amp dtype must be 'auto', 'bfloat16' or "
                         f"'float16', got {dtype!r}")
    if resolved not in (torch.bfloat16, torch.float16):
        raise ValueError(f'amp dtype must be bfloat16 or float16, got '
                         f'{resolved}')
    return resolved


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` running forward passes under ``torch.autocast``.

    The device is the one the optimised parameters are on when the wrapper
    is built (the Runner builds it after moving the model).

    Args:
        dtype (str | torch.dtype): ``'auto'`` (see
            :func:`resolve_amp_dtype`), ``'bfloat16'`` or ``'float16'``.
            Defaults to ``'auto'``.
        loss_scale (str | float | dict): float16 only: ``'dynamic'``, a
            static scale, or ``GradScaler`` keyword arguments. Defaults to
            ``'dynamic'``.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'auto',
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        params = [p for group in self.optimizer.param_groups
                  for p in group['params']]
        self.device_type = params[0].device.type if params else 'cpu'
        self.cast_dtype = resolve_amp_dtype(dtype, self.device_type)
        self.loss_scaler = None
        self._static_scale = None
        if self.cast_dtype == torch.float16:
            if loss_scale == 'dynamic':
                scaler_kwargs = {}
            elif isinstance(loss_scale, (int, float)):
                self._static_scale = float(loss_scale)
                scaler_kwargs = dict(init_scale=float(loss_scale))
            elif isinstance(loss_scale, dict):
                scaler_kwargs = dict(loss_scale)
            else:
                raise TypeError("loss_scale must be 'dynamic', a float or a "
                                f'dict, got {loss_scale!r}')
            self.loss_scaler = torch.amp.GradScaler(self.device_type,
                                                    **scaler_kwargs)

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Back-propagate (the scaled loss under float16)."""
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        loss.backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        """Optimiser step; under float16 skipped for inf/nan gradients."""
        if self.loss_scaler is None:
            super().step(**kwargs)
            return
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self._static_scale)

    def state_dict(self) -> dict:
        """Optimiser state (+ ``loss_scaler`` under float16)."""
        state = super().state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Load optimiser (and loss scaler) state."""
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        if self.loss_scaler is not None and scaler_state is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of ``OptimWrapper`` + autocast."""
        with super().optim_context(model), torch.autocast(
                device_type=self.device_type, dtype=self.cast_dtype):
            yield
