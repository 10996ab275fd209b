"""Checkpoint loading that never evaluates a model it did not fully load.

mmengine loads checkpoints with ``strict=False``: a checkpoint of another
model, with renamed keys or a head of another shape, only logs a warning and
the run goes on with random weights. Here:

* :func:`read_checkpoint` names the file and says *empty* / *truncated or
  corrupt* instead of a bare ``EOFError`` or zip-reader message;
* :func:`load_weights` compares the checkpoint with the model first and, when
  strict, refuses any missing, unexpected or shape-mismatched key, listing
  them; when partial (a config asking for it, e.g. fine-tuning from a
  backbone checkpoint), it loads what fits and prints the lists;
* :func:`use_checked_loading` makes a Runner load (``load_from``,
  ``--resume``) that way.
"""
import os
import os.path as osp
import pickle
import re
import types
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, List, Tuple, Union

import torch
from mmengine.logging import print_log

__all__ = ['CheckpointError', 'MissingCheckpointError', 'StateDictMismatch',
           'check_checkpoint_file', 'read_checkpoint',
           'state_dict_mismatch', 'load_weights', 'use_checked_loading']

#: prefixes stripped from checkpoint keys (DDP wrappers), as in mmengine
REVISE_KEYS = [(r'^module\.', '')]
#: keys listed per kind in messages (the count is always given)
_MAX_LISTED = 20


class CheckpointError(RuntimeError):
    """A checkpoint that is unreadable or does not fit the model."""


class MissingCheckpointError(CheckpointError, FileNotFoundError):
    """A local checkpoint file that does not exist (e.g. the config's
    ``load_from``)."""


def check_checkpoint_file(filename: str) -> None:
    """Cheap checks of a local checkpoint file, before anything is built:
    it exists, is not empty, starts as ``torch.save`` files do (a zip
    archive, or a pickle for the legacy format) and, if a zip archive, has
    its end record (a file cut short lacks it). Reads two small blocks.

    Raises:
        MissingCheckpointError: no such file.
        CheckpointError: naming the file and what is wrong.
    """
    if not osp.isfile(filename):
        raise MissingCheckpointError(
            f'checkpoint not found: {filename}' + (
                ' (a folder; expected a .pth file)'
                if osp.isdir(filename) else ''))
    size = osp.getsize(filename)
    if size == 0:
        raise CheckpointError(f'{filename}: empty checkpoint file (0 bytes)')
    with open(filename, 'rb') as f:
        head = f.read(8)
    if head.startswith(b'PK'):
        if not zipfile.is_zipfile(filename):
            raise CheckpointError(
                f'{filename}: truncated or corrupt checkpoint, {size} bytes '
                '(a zip archive without its end record: the file was cut '
                'short, e.g. by an interrupted copy or download)')
    elif not head.startswith(b'\x80'):
        raise CheckpointError(
            f'{filename}: not a checkpoint: it starts with {head!r}, while '
            'torch.save files start as a zip archive (or a pickle, in the '
            'legacy format); expected a .pth file written by training')


def read_checkpoint(filename: str,
                    map_location: Union[str, Callable] = 'cpu') -> dict:
    """Read a checkpoint (local path or mmengine URI) into a dict.

    Raises:
        MissingCheckpointError: no such local file (a FileNotFoundError).
        CheckpointError: naming the file: empty, truncated/corrupt, or
            refused by torch's safe loader.
    """
    from mmengine.runner.checkpoint import _load_checkpoint
    local = '://' not in str(filename)
    if local:
        check_checkpoint_file(filename)
    try:
        checkpoint = _load_checkpoint(filename, map_location=map_location)
    except pickle.UnpicklingError as exc:
        if 'weights_only' in str(exc) or 'Unsupported global' in str(exc):
            raise CheckpointError(
                f'{filename}: refused: the checkpoint holds objects that '
                f'are not weights ({str(exc).splitlines()[0]})') from None
        raise CheckpointError(
            f'{filename}: truncated or corrupt checkpoint ({exc})') from None
    except (EOFError, KeyError, zipfile.BadZipFile, RuntimeError,
            ValueError) as exc:  # KeyError: pickle opcodes of a non-pickle
        size = f', {os.path.getsize(filename)} bytes' if local else ''
        raise CheckpointError(
            f'{filename}: truncated or corrupt checkpoint{size} '
            f'({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""})'
        ) from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{filename}: not a checkpoint (a '
                              f'{type(checkpoint).__name__}, not a dict)')
    return checkpoint


def _model_state_dict(checkpoint: dict,
                      revise_keys=REVISE_KEYS) -> 'OrderedDict[str, object]':
    state_dict = checkpoint.get('state_dict', checkpoint)
    metadata = getattr(state_dict, '_metadata', OrderedDict())
    for pattern, repl in revise_keys:
        state_dict = OrderedDict(
            (re.sub(pattern, repl, k), v) for k, v in state_dict.items())
    state_dict._metadata = metadata
    return state_dict


@dataclass
class StateDictMismatch:
    """Keys of a checkpoint that do not fit a model."""
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    #: (key, checkpoint shape, model shape)
    shape: List[Tuple[str, tuple, tuple]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.shape)

    def describe(self) -> str:
        def listed(keys):
            more = len(keys) - _MAX_LISTED
            return ', '.join(keys[:_MAX_LISTED]) + (
                f', ... ({more} more)' if more > 0 else '')
        parts = []
        if self.missing:
            parts.append(f'{len(self.missing)} model key(s) missing from '
                         f'the checkpoint: {listed(self.missing)}')
        if self.unexpected:
            parts.append(f'{len(self.unexpected)} unexpected checkpoint '
                         f'key(s) not in the model: {listed(self.unexpected)}')
        if self.shape:
            parts.append(f'{len(self.shape)} key(s) of another shape: ' +
                         listed([f'{k} (checkpoint {tuple(c)}, model '
                                 f'{tuple(m)})' for k, c, m in self.shape]))
        return '\n  '.join(parts)


def state_dict_mismatch(model: torch.nn.Module,
                        state_dict: dict) -> StateDictMismatch:
    """Missing, unexpected and shape-mismatched keys of ``state_dict``."""
    own = model.state_dict()
    mismatch = StateDictMismatch(
        missing=[k for k in own if k not in state_dict],
        unexpected=[k for k in state_dict if k not in own])
    for k, v in state_dict.items():
        if k in own and hasattr(v, 'shape') and \
                tuple(v.shape) != tuple(own[k].shape):
            mismatch.shape.append((k, tuple(v.shape), tuple(own[k].shape)))
    return mismatch


def load_weights(model: torch.nn.Module, checkpoint: dict,
                 filename: str = 'checkpoint', strict: bool = True,
                 revise_keys=REVISE_KEYS) -> StateDictMismatch:
    """Load the weights of ``checkpoint`` (a dict from
    :func:`read_checkpoint`) into ``model``.

    Args:
        strict: every model key present, no other key, every shape equal;
            else :class:`CheckpointError` naming the file and listing the
            keys. ``False``: load the keys that fit, print the others.

    Returns:
        StateDictMismatch: what did not fit (empty when strict).
    """
    state_dict = _model_state_dict(checkpoint, revise_keys)
    mismatch = state_dict_mismatch(model, state_dict)
    if mismatch and strict:
        raise CheckpointError(
            f'{filename} does not fit the model '
            f'({type(model).__name__}):\n  {mismatch.describe()}\n'
            'Loading it would evaluate untrained weights. Use the config '
            'the checkpoint was trained with; to fine-tune from a partial '
            'checkpoint set load_partial=True in the training config.')
    if mismatch:
        print_log(f'partial load of {filename}: {mismatch.describe()}',
                  logger='current', level=30)
        skip = {k for k, _, _ in mismatch.shape}
        fitting = OrderedDict(
            (k, v) for k, v in state_dict.items() if k not in skip)
        fitting._metadata = state_dict._metadata
        state_dict = fitting
    model.load_state_dict(state_dict, strict=strict)
    return mismatch


def _checked_load_checkpoint(self, filename: str,
                             map_location: Union[str, Callable] = 'cpu',
                             strict: bool = False,
                             revise_keys=REVISE_KEYS):
    """``Runner.load_checkpoint`` with :func:`read_checkpoint` /
    :func:`load_weights` (``strict`` comes from :func:`use_checked_loading`,
    not from the caller: mmengine asks for non-strict loading)."""
    from mmengine.model import is_model_wrapper
    checkpoint = read_checkpoint(filename, map_location=map_location)
    self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
    model = self.model.module if is_model_wrapper(self.model) else self.model
    load_weights(model, checkpoint, filename, strict=self._mmakm_strict_load,
                 revise_keys=revise_keys)
    self._has_loaded = True
    self.logger.info(f'Load checkpoint from {filename}')
    return checkpoint


def use_checked_loading(runner, strict: bool = True) -> None:
    """Make ``runner`` load ``load_from`` / ``--resume`` checkpoints with
    clear errors, strictly unless ``strict=False`` (then partially, with the
    non-fitting keys printed)."""
    runner._mmakm_strict_load = strict
    runner.load_checkpoint = types.MethodType(_checked_load_checkpoint,
                                              runner)
