"""Checkpoints that are complete or absent, and exactly resumable.

:class:`AtomicCheckpointHook` is mmengine's ``CheckpointHook`` with three
changes that make ``kill -9`` + ``--resume`` safe and exact:

1. Writes are atomic (temp file + ``os.replace``, see
   :mod:`mmakm.engine.fileio`): ``epoch_N.pth`` and ``last_checkpoint``
   are either complete or absent, never truncated.
   So are the ``published_keys`` copies written after training.
2. Ordering: the new checkpoint is written and ``last_checkpoint`` updated
   *before* outdated checkpoints are deleted (mmengine deletes first, so a
   kill in between leaves ``last_checkpoint`` pointing at a deleted file).
3. RNG state: the states of Python's ``random``, NumPy's global generator and
   torch (CPU and CUDA) of every rank are stored in the checkpoint and
   restored on resume, just before training continues, with the private
   generators of the model's modules (those with ``get_rng_state`` /
   ``set_rng_state``, e.g. the random key frames of ``KeyFrameMining``).
   Data augmentation (crop/flip drawn from the global NumPy RNG when
   ``num_workers=0``), dropout and random key frames then draw the same
   numbers as an uninterrupted run, so a resumed run ends with the same
   weights and metrics.
"""
import hashlib
import logging
import os.path as osp
import pickle
import random
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import (all_gather_object, get_rank, get_world_size,
                           is_main_process, master_only)
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS
from ..fileio import ATOMIC_BACKEND_ARGS, atomic_write_text, is_local_path

RNG_KEY = 'rng_states'


def _stateful_modules(model: torch.nn.Module) -> dict:
    """``{name: module}`` of the modules of ``model`` (unwrapped) that draw
    from a generator of their own (``get_rng_state`` returns its state)."""
    if is_model_wrapper(model):
        model = model.module
    return {
        name: m
        for name, m in model.named_modules()
        if callable(getattr(m, 'get_rng_state', None))
        and m.get_rng_state() is not None
    }


def get_rng_state(model: Optional[torch.nn.Module] = None) -> dict:
    """The global RNG states of this process, in checkpoint-safe types,
    and (``modules``) those of ``model``'s modules with a generator of
    their own.

    Only lists, ints, floats, strings and tensors are used, so the state
    loads with ``torch.load(weights_only=True)``.
    """
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state = dict(
        python=[py_version, list(py_state), py_gauss],
        numpy=[
            str(np_name), [int(k) for k in np_keys],
            int(np_pos),
            int(np_has_gauss),
            float(np_gauss)
        ],
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    if model is not None:
        state['modules'] = {
            name: m.get_rng_state()
            for name, m in _stateful_modules(model).items()
        }
    return state


def set_rng_state(state: dict,
                  model: Optional[torch.nn.Module] = None) -> None:
    """Restore a state produced by :func:`get_rng_state` (with ``model``:
    its modules' generators too)."""
    py_version, py_state, py_gauss = state['python']
    random.setstate((py_version, tuple(py_state), py_gauss))
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = state['numpy']
    np.random.set_state((np_name, np.asarray(np_keys, dtype=np.uint32),
                         np_pos, np_has_gauss, np_gauss))
    torch.set_rng_state(state['torch'].cpu())
    if 'cuda' in state and torch.cuda.is_available():
        cuda_states = state['cuda']
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
    if model is None:
        return
    modules = _stateful_modules(model)
    saved = state.get('modules') or {}
    missing = sorted(set(modules) - set(saved))
    if missing:  # a checkpoint of an older mmakm, or of another model
        print_log(
            f'The checkpoint holds no state of the generators of {missing}: '
            'they continue from their seed, the resumed run will not repeat '
            'the random draws of an uninterrupted one.', logger='current',
            level=logging.WARNING)
    for name, module in modules.items():
        if name in saved:
            module.set_rng_state(saved[name])


def mid_epoch_resume(loop) -> Optional[str]:
    """Why training cannot continue exactly from where ``loop`` stands (None:
    it can).

    mmengine's ``EpochBasedTrainLoop`` has no mid-epoch resume: from a
    checkpoint saved inside an epoch (``CheckpointHook(by_epoch=False)``)
    it runs that epoch again from its first batch, on top of the
    iterations already done, so the run trains more iterations than asked
    and every iteration-based schedule is shifted, without a word.
    """
    from mmengine.runner import EpochBasedTrainLoop
    if not isinstance(loop, EpochBasedTrainLoop):
        return None
    per_epoch = len(loop.dataloader)
    if loop.iter == loop.epoch * per_epoch:
        return None
    return (f'the checkpoint was saved at iteration {loop.iter}, inside epoch '
            f'{loop.epoch + 1} ({loop.epoch} epochs of {per_epoch} '
            f'iterations = {loop.epoch * per_epoch}); EpochBasedTrainLoop '
            'would run that epoch again from its start and train more '
            'iterations than an uninterrupted run. Resume from a checkpoint '
            'saved at the end of an epoch (epoch_N.pth, '
            'default_hooks.checkpoint.by_epoch=True), with the same '
            'train_dataloader')


def persistent_worker_rng(loader) -> Optional[str]:
    """Why a resumed run cannot repeat the random draws of the
    uninterrupted one with this train dataloader (None: it can).

    Persistent data workers are seeded once and carry their RNG states
    (random crops, flips, segment offsets) from epoch to epoch, in other
    processes: the checkpoint cannot hold them, so resumed workers start
    again from the first epoch's seeds. Non-persistent workers are seeded
    afresh every epoch (mmengine's ``worker_init_fn``), and ``num_workers=0``
    draws from the main process' checkpointed RNG.
    """
    if not (getattr(loader, 'persistent_workers', False)
            and getattr(loader, 'num_workers', 0) > 0):
        return None
    return ('train_dataloader has persistent_workers=True: its '
            f'{loader.num_workers} data workers carry their RNG states '
            'across epochs and the checkpoint cannot hold them, so this '
            'resumed run draws other augmentations than an uninterrupted '
            'one (other final weights). For an exact resume train with '
            'train_dataloader.persistent_workers=False (or num_workers=0).')


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` with atomic writes and exact (RNG-state) resume.

    Accepts every argument of :class:`mmengine.hooks.CheckpointHook`.

    Args:
        save_rng_state (bool): Store/restore the global RNG states of all
            ranks. Defaults to True.
        **kwargs: Passed to ``CheckpointHook``. ``backend_args`` defaults to
            the atomic local backend when ``out_dir`` is a local path.
    """

    def __init__(self, *args, save_rng_state: bool = True, **kwargs):
        out_dir = kwargs.get('out_dir', None)
        if (kwargs.get('backend_args') is None
                and kwargs.get('file_client_args') is None
                and is_local_path(out_dir)):
            kwargs['backend_args'] = dict(ATOMIC_BACKEND_ARGS)
        super().__init__(*args, **kwargs)
        self.save_rng_state = save_rng_state
        self._rng_to_save: Optional[List[dict]] = None
        self._rng_to_restore: Optional[dict] = None

    # ------------------------------------------------------------- RNG state
    def _gather_rng_states(self, runner) -> None:
        """Collect every rank's RNG state (collective: all ranks call it)."""
        if not self.save_rng_state:
            return
        state = get_rng_state(runner.model)
        if get_world_size() > 1:
            self._rng_to_save = all_gather_object(state)
        else:
            self._rng_to_save = [state]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.save_rng_state and self._rng_to_save is not None:
            checkpoint[RNG_KEY] = self._rng_to_save

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Only stash: the runner may still re-seed after loading (seed
        # mismatch), so the state is applied in ``before_train``.
        states = checkpoint.get(RNG_KEY) if self.save_rng_state else None
        if not states:
            return
        if len(states) != get_world_size():
            print_log(
                f'The checkpoint holds RNG states of {len(states)} '
                f'process(es) but {get_world_size()} are running: RNG '
                'states are not restored, the resumed run will not repeat '
                'the random draws of an uninterrupted one.',
                logger='current')
            return
        self._rng_to_restore = states[get_rank()]

    def before_train(self, runner) -> None:
        super().before_train(runner)
        why = mid_epoch_resume(getattr(runner, 'train_loop', None))
        if why:
            from ..consistency import ConfigMismatchError
            raise ConfigMismatchError(f'--resume: {why}')
        if self._rng_to_restore is not None:
            set_rng_state(self._rng_to_restore,
                          getattr(runner, 'model', None))
            self._rng_to_restore = None
            print_log('Restored the RNG states saved in the checkpoint.',
                      logger='current')
            why = persistent_worker_rng(runner.train_dataloader)
            if why:
                print_log(why, logger='current', level=logging.WARNING)

    # ------------------------------------------------------------ checkpoint
    def _save_checkpoint_with_step(self, runner, step, meta):
        self._gather_rng_states(runner)

        outdated = None
        if self.max_keep_ckpts > 0:
            # _save_checkpoint and _save_best_checkpoint may both call this
            # in one epoch
            if not (len(self.keep_ckpt_ids) > 0
                    and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    outdated = self.keep_ckpt_ids.popleft()
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids',
                                               list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)

        if not is_main_process():
            return

        atomic_write_text(
            str(self.last_ckpt), osp.join(runner.work_dir, 'last_checkpoint'))

        # only now that the new checkpoint is in place
        if outdated is not None:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    @master_only
    def _publish_model(self, runner, ckpt_path: str) -> None:
        """mmengine's ``published_keys`` copy ``<name>-<sha256[:8]>.pth``,
        written atomically (mmengine writes it with a plain ``open``)."""
        from mmengine.runner.checkpoint import (_load_checkpoint,
                                                save_checkpoint)
        checkpoint = _load_checkpoint(ckpt_path)
        removed = [k for k in checkpoint if k not in self.published_keys]
        for key in removed:
            checkpoint.pop(key)
        if removed:
            print_log(
                f'Key {removed} will be removed because they are not '
                'found in published_keys. If you want to keep them, '
                f'please set `{removed}` in published_keys',
                logger='current')
        sha = hashlib.sha256(pickle.dumps(checkpoint)).hexdigest()
        final_path = osp.splitext(ckpt_path)[0] + f'-{sha[:8]}.pth'
        save_checkpoint(
            checkpoint, final_path,
            backend_args=dict(ATOMIC_BACKEND_ARGS)
            if is_local_path(final_path) else None)
        print_log(f'The checkpoint ({ckpt_path}) is published to '
                  f'{final_path}.', logger='current')
