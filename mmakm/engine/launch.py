"""Runner set-up shared by ``tools/train.py`` and ``tools/test.py``.

These helpers work around the stack defects listed in
``docs/stack.md`` so the MMAction2-style entry points run on CPU-only
torch builds as well as on CUDA:

* :func:`setup_cpu_distributed` -- mmengine's launchers call
  ``torch.cuda.set_device`` unconditionally (fact 6); on a CPU-only build
  the gloo process group is initialised here, before the Runner, and the
  config is switched to gloo and ``device_ids=None`` DDP.
* :func:`enable_amp` -- ``AmpOptimWrapper`` refuses CPU (fact 7); ``--amp``
  uses :class:`~mmakm.engine.AutocastOptimWrapper` instead (bf16 autocast on
  CPU and recent GPUs, fp16 + loss scaling elsewhere).
* :func:`use_atomic_outputs` -- checkpoint and dump writes become atomic.
* :func:`ensure_synthetic_corpus` -- the built-in synthetic corpus is
  generated on first use.
"""
import contextlib
import datetime
import gc
import glob
import os
import os.path as osp
import re
import subprocess
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict
from mmengine.device import (get_device, is_mlu_available, is_musa_available,
                             is_npu_available)
from mmengine.logging import print_log

__all__ = [
    'setup_cpu_distributed', 'accelerator_available', 'enable_amp',
    'use_atomic_outputs', 'ensure_synthetic_corpus', 'find_resume_checkpoint',
    'apply_randomness_args'
]

AMP_DEVICES = ('cuda', 'npu', 'mlu', 'musa')


def accelerator_available() -> bool:
    """Whether mmengine will put the model on an accelerator (not CPU/MPS).

    ``CUDA_VISIBLE_DEVICES=-1`` (or an empty value) forces CPU, as in
    mmengine.
    """
    return (torch.cuda.is_available() or is_npu_available()
            or is_mlu_available() or is_musa_available())


# --------------------------------------------------------------- distributed
def _env_int(*names: str, default: Optional[int] = None) -> int:
    for name in names:
        if os.environ.get(name, '') != '':
            return int(os.environ[name])
    if default is None:
        raise KeyError(f'none of the environment variables {names} is set; '
                       'was the job started by the matching launcher?')
    return default


def _set_dist_env(launcher: str, port: Optional[int] = None) -> None:
    """Fill RANK/WORLD_SIZE/LOCAL_RANK/MASTER_* from the launcher's env."""
    if launcher == 'pytorch':
        # torchrun (or torch.distributed.launch) sets all of them
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
        os.environ.setdefault('MASTER_PORT', '29500')
        for key in ('RANK', 'WORLD_SIZE'):
            if key not in os.environ:
                raise KeyError(
                    f'{key} is not set: start the job with torchrun '
                    '(tools/dist_train.sh) when using --launcher pytorch')
        os.environ.setdefault('LOCAL_RANK', '0')
    elif launcher == 'slurm':
        proc_id = _env_int('SLURM_PROCID')
        ntasks = _env_int('SLURM_NTASKS')
        local_rank = _env_int('SLURM_LOCALID', default=0)
        if 'MASTER_ADDR' not in os.environ:
            node_list = os.environ['SLURM_NODELIST']
            addr = subprocess.getoutput(
                f'scontrol show hostname {node_list} | head -n1').strip()
            os.environ['MASTER_ADDR'] = addr or '127.0.0.1'
        if port is not None:
            os.environ['MASTER_PORT'] = str(port)
        os.environ.setdefault('MASTER_PORT', '29500')
        os.environ['WORLD_SIZE'] = str(ntasks)
        os.environ['LOCAL_RANK'] = str(local_rank)
        os.environ['RANK'] = str(proc_id)
    elif launcher == 'mpi':
        os.environ['RANK'] = str(
            _env_int('OMPI_COMM_WORLD_RANK', 'PMI_RANK'))
        os.environ['WORLD_SIZE'] = str(
            _env_int('OMPI_COMM_WORLD_SIZE', 'PMI_SIZE'))
        os.environ['LOCAL_RANK'] = str(
            _env_int('OMPI_COMM_WORLD_LOCAL_RANK', 'MPI_LOCALRANKID',
                     default=0))
        os.environ.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in os.environ:
            raise KeyError('The environment variable MASTER_ADDR is not set')
    else:
        raise ValueError(f'unknown launcher {launcher!r}')


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare data-parallel runs on CPU-only torch (docs/stack.md, fact 6).

    With ``launcher='none'`` or an accelerator present nothing is done
    (mmengine initialises nccl/hccl/... itself). Otherwise:

    * ``cfg.env_cfg.dist_cfg.backend`` becomes ``'gloo'`` (nccl needs CUDA),
    * ``cfg.model_wrapper_cfg`` gets ``device_ids=None`` (CPU DDP),
    * the gloo process group is initialised now, so the Runner sees an
      initialised group and skips mmengine's ``init_dist``, which would call
      ``torch.cuda.set_device``.

    Args:
        cfg (Config): The config; updated in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: True if this call set up CPU distributed training.
    """
    if launcher in (None, 'none') or accelerator_available():
        return False

    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict())
    backend = dist_cfg.get('backend', 'nccl')
    if backend != 'gloo':
        if backend not in ('nccl', None):
            print_log(
                f'dist backend {backend!r} needs an accelerator; using gloo',
                logger='current')
        dist_cfg['backend'] = 'gloo'

    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None:
        wrapper = ConfigDict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper

    if torch_dist.is_available() and torch_dist.is_initialized():
        return True
    _set_dist_env(launcher, port=dist_cfg.get('port', None))
    kwargs = {}
    timeout = dist_cfg.get('timeout', None)
    if timeout is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
    torch_dist.init_process_group(
        backend='gloo',
        init_method='env://',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)
    return True


def shutdown_distributed() -> None:
    """Leave the process group together: a barrier, then destroy it.

    Call at the normal end of a distributed tool, after dropping the Runner
    (its DDP wrapper holds the process group). Without it each rank tears
    its process group down at interpreter finalisation, on its own: gloo's
    threads then outlive the interpreter and the rank aborts ("terminate
    called without an active exception", SIGABRT), failing a run whose
    results were complete. A no-op outside distributed runs.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        gc.collect()  # a dropped Runner's DDP, kept by reference cycles
        torch_dist.destroy_process_group()


# ------------------------------------------------------------------------ AMP
def enable_amp(cfg: Config, dtype: str = 'auto') -> None:
    """Train under autocast: ``AutocastOptimWrapper`` (bf16 where the device
    supports it, CPU included; fp16 + dynamic loss scaling otherwise).

    A config that already names ``AmpOptimWrapper`` keeps it where the device
    allows it (mmengine's wrapper refuses CPU) and is switched otherwise.
    """
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_wrapper == 'AmpOptimWrapper' and get_device() in AMP_DEVICES:
        return
    if optim_wrapper not in ('OptimWrapper', 'AmpOptimWrapper',
                             'AutocastOptimWrapper'):
        raise SystemExit(
            f'--amp is not supported with the custom optimizer wrapper '
            f'type {optim_wrapper!r}')
    cfg.optim_wrapper.type = 'AutocastOptimWrapper'
    cfg.optim_wrapper.setdefault('dtype', dtype)
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


# ----------------------------------------------------------- atomic outputs
def use_atomic_outputs(cfg: Config) -> None:
    """Make the checkpoint hook atomic and exactly resumable.

    A plain ``CheckpointHook`` in ``default_hooks`` (e.g. from a config
    written for MMAction2) is replaced by ``AtomicCheckpointHook`` with the
    same arguments; ``DumpResults`` metrics become ``AtomicDumpResults``.
    """
    hooks = cfg.get('default_hooks', None)
    if hooks is not None and hooks.get('checkpoint') is not None:
        if hooks.checkpoint.get('type') in ('CheckpointHook',
                                            'mmengine.CheckpointHook'):
            hooks.checkpoint.type = 'AtomicCheckpointHook'
    for key in ('val_evaluator', 'test_evaluator'):
        evaluator = cfg.get(key, None)
        metrics = evaluator if isinstance(evaluator, list) else [evaluator]
        for metric in metrics:
            if isinstance(metric, dict) and metric.get(
                    'type') == 'DumpResults':
                metric['type'] = 'AtomicDumpResults'


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The newest checkpoint of ``work_dir`` (what ``--resume`` picks).

    ``last_checkpoint`` (written atomically after every save) is used when it
    names an existing file; otherwise the ``epoch_N.pth``/``iter_N.pth`` with
    the largest N. None if there is none (the run then starts afresh).
    """
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            path = f.read().strip()
        if path and ('://' in path or osp.isfile(path)):
            return path
    best, best_key = None, None
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        m = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', osp.basename(path))
        if m:
            key = (m.group(1) == 'iter', int(m.group(2)))
            if best_key is None or key > best_key:
                best, best_key = path, key
    return best


# ------------------------------------------------------------------ seeds
def apply_randomness_args(cfg: Config,
                          seed: Optional[int] = None,
                          deterministic: bool = False,
                          diff_rank_seed: bool = False) -> None:
    """Merge ``--seed``/``--deterministic``/``--diff-rank-seed`` into
    ``cfg.randomness`` (command line wins over the config)."""
    randomness = cfg.get('randomness', None) or ConfigDict()
    if seed is not None:
        randomness['seed'] = seed
    if deterministic:
        randomness['deterministic'] = True
    if diff_rank_seed:
        randomness['diff_rank_seed'] = True
    randomness.setdefault('seed', None)
    cfg.randomness = randomness


# -------------------------------------------------------- synthetic corpus
def ensure_synthetic_corpus(cfg: Config) -> Optional[str]:
    """Generate the built-in synthetic corpus if the config uses it and it is
    absent.

    Configs built on ``configs/_base_/datasets/synthetic.py`` carry
    ``synthetic_corpus = dict(root=..., seed=..., <other arguments of
    make_synthetic_casme2>)``. ``mmakm.datasets.make_synthetic_casme2``
    writes the corpus into a temporary sibling folder renamed into place, so
    concurrent processes (ranks, parallel folds) never see a half-written
    corpus.

    Only a corpus the run reads is generated: when every dataset's
    ``data_root`` was pointed elsewhere (``--cfg-options
    *.dataset.data_root=...``), nothing is written.

    Returns:
        str | None: The corpus root, or None if the config does not use it.
    """
    spec = cfg.get('synthetic_corpus', None)
    if not spec:
        return None
    spec = dict(spec)
    root = osp.abspath(spec.pop('root'))
    if root not in _dataset_roots(cfg):
        return None
    from .consistency import ConfigMismatchError
    from mmakm.datasets.synthetic import (CorpusExistsError,
                                          make_synthetic_casme2)
    os.makedirs(osp.dirname(root), exist_ok=True)
    # one generator at a time (ranks of a job, parallel LOSO folds): the
    # others wait for it and then find the corpus in place. An existing
    # corpus made with other arguments (e.g. an older generator) raises
    # instead of being used silently.
    with _dir_lock(osp.dirname(root)):
        if not osp.isdir(root):
            print_log(f'Generating the synthetic corpus in {root} ...',
                      logger='current')
        try:
            make_synthetic_casme2(root, **spec)
        except CorpusExistsError as exc:
            raise ConfigMismatchError(_corpus_mismatch(exc)) from exc
    return root


def _corpus_mismatch(exc) -> str:
    """What to do when ``synthetic_corpus.root`` holds another corpus, in
    the config's terms (``synthetic_corpus`` keys are the generator's
    arguments)."""
    elsewhere = ("or point synthetic_corpus.root and the datasets' "
                 'data_root to a new folder (the corpus is generated there)')
    found = exc.found
    if found is None:  # never offer to overwrite what may be a real corpus
        return (f'synthetic_corpus: {exc.root} exists and is not a '
                f'synthetic corpus: {elsewhere[3:]}')
    if found.get('version') != exc.asked.get('version'):
        return (f'synthetic_corpus: {exc.root} was made by another version '
                'of the generator: remake it with python '
                f'tools/misc/make_synthetic.py {exc.root} --overwrite, '
                f'{elsewhere}')
    keys = ' '.join(f'synthetic_corpus.{k}={found.get(k)}'
                    for k in exc.asked if found.get(k) != exc.asked[k])
    return (f'synthetic_corpus: {str(exc).split(";")[0]}: to read it as it '
            f'is, add --cfg-options {keys}; {elsewhere}')


def _dataset_roots(cfg: Config) -> set:
    """Absolute ``data_root`` of every dataset of the config's dataloaders."""
    from mmakm.loso.plan import dataloader_datasets
    return {osp.abspath(leaf['data_root'])
            for _, leaves in dataloader_datasets(cfg) for leaf in leaves
            if leaf.get('data_root')}


@contextlib.contextmanager
def _dir_lock(dirname: str):
    """An exclusive advisory lock on the directory ``dirname`` (flock on the
    directory itself, so no lock file is left behind; no-op where
    unsupported)."""
    try:
        import fcntl
        fd = os.open(dirname, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def set_work_dir(cfg: Config, work_dir: Optional[str], config: str) -> None:
    """work_dir priority: command line > config file > config name."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])


def build_runner(cfg: Config, launcher: str,
                 strict_load: Optional[bool] = None):
    """The Runner of a merged config, on CPU-only and CUDA torch alike.

    Sets up gloo + CPU DDP before the Runner where torch has no accelerator
    (:func:`setup_cpu_distributed`), generates the built-in synthetic
    corpus on first use (:func:`ensure_synthetic_corpus`), checks
    ``cls_head.num_classes`` against the data (:func:`check_num_classes`),
    the data preprocessor against the clips the pipelines give
    (:func:`check_clip_batching`) and the frame cache against the config's
    recipe (:func:`check_frame_cache`)
    and makes checkpoint loading strict (:func:`use_checked_loading`).

    Args:
        strict_load: load ``load_from``/``--resume`` checkpoints strictly.
            None: strictly unless the config sets ``load_partial=True``
            (fine-tuning from a partial checkpoint, the non-fitting keys
            printed).
    """
    from mmengine.runner import Runner

    from mmaction.registry import RUNNERS
    from .checkpoint import use_checked_loading
    from .consistency import (check_clip_batching, check_frame_cache,
                              check_num_classes)
    setup_cpu_distributed(cfg, launcher)
    ensure_synthetic_corpus(cfg)
    check_num_classes(cfg)
    check_clip_batching(cfg)
    check_frame_cache(cfg)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if strict_load is None:
        strict_load = not cfg.get('load_partial', False)
    use_checked_loading(runner, strict=strict_load)
    return runner


def add_launch_args(parser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local-rank`` of the tools."""
    from .user_input import CfgOptionsAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='key=value settings merged into the config (a key it cannot '
        'take is refused). A single value keeps its spaces '
        '("train_dataloader.dataset.data_root=/data/my corpus"); a list is key="[a,b]" or key=a,b, '
        'nested key="[(a,b),(c,d)]"; key="dict(...)" replaces the '
        "config's value with that dict.")
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launch_args(parser, argv=None):
    """Parse; export ``LOCAL_RANK`` for launchers that pass ``--local-rank``."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
