"""Runner-side helpers shared by ``tools/train.py`` and ``tools/test.py``.

Importing this package registers ``AtomicCheckpointHook``,
``BackboneExportHook`` and ``DeferredRuntimeInfoHook`` (HOOKS), ``AtomicDumpResults`` (METRICS),
``AutocastOptimWrapper`` (OPTIM_WRAPPERS) and the ``'atomic_local'``
mmengine file backend.
"""
from mmakm.datasets.errors import CorpusError, PipelineError

from .checkpoint import (CheckpointError, MissingCheckpointError,
                         check_checkpoint_file, load_weights,
                         read_checkpoint, use_checked_loading)
from .consistency import (ConfigMismatchError, check_clip_batching,
                          check_frame_cache, check_num_classes,
                          check_pretrained_backbone)
from .dump_results import AtomicDumpResults
from .fileio import (ATOMIC_BACKEND_ARGS, AtomicLocalBackend,
                     atomic_directory, atomic_json_dump, atomic_path,
                     atomic_torch_save,
                     atomic_write_bytes, atomic_write_text)
from .hooks import (AtomicCheckpointHook, BackboneExportHook,
                    DeferredRuntimeInfoHook,
                    backbone_state_dict, get_rng_state, save_backbone,
                    set_rng_state)
from .launch import (accelerator_available, add_launch_args,
                     apply_randomness_args, parse_launch_args,
                     build_runner, enable_amp, ensure_synthetic_corpus,
                     find_resume_checkpoint, set_work_dir,
                     setup_cpu_distributed, shutdown_distributed,
                     use_atomic_outputs)
from .optim_wrappers import AutocastOptimWrapper, resolve_amp_dtype
from .user_input import (CfgOptionsAction, UserInputError,
                         check_cfg_options,
                         ensure_writable_dir, load_config,
                         merge_cfg_options)

#: errors of the user's input (files, configs, arguments, corpora) that the
#: tools print as a message alone, without a traceback
USER_ERRORS = (CheckpointError, ConfigMismatchError, UserInputError,
               CorpusError, PipelineError)

__all__ = [
    'CheckpointError', 'MissingCheckpointError', 'check_checkpoint_file',
    'load_weights',
    'read_checkpoint',
    'use_checked_loading', 'ConfigMismatchError', 'check_num_classes',
    'check_frame_cache', 'check_pretrained_backbone', 'check_clip_batching',
    'USER_ERRORS', 'UserInputError', 'CfgOptionsAction', 'check_cfg_options',
    'ensure_writable_dir', 'load_config', 'merge_cfg_options',
    'AtomicDumpResults', 'ATOMIC_BACKEND_ARGS', 'AtomicLocalBackend',
    'atomic_directory', 'atomic_json_dump', 'atomic_path',
    'atomic_torch_save',
    'atomic_write_bytes',
    'atomic_write_text', 'AtomicCheckpointHook', 'get_rng_state',
    'set_rng_state', 'BackboneExportHook', 'DeferredRuntimeInfoHook', 'backbone_state_dict',
    'save_backbone', 'accelerator_available', 'apply_randomness_args',
    'enable_amp', 'ensure_synthetic_corpus', 'find_resume_checkpoint',
    'setup_cpu_distributed', 'shutdown_distributed', 'use_atomic_outputs',
    'build_runner',
    'set_work_dir', 'add_launch_args', 'parse_launch_args',
    'AutocastOptimWrapper', 'resolve_amp_dtype'
]
