#!/usr/bin/env python
"""Train a recogniser (MMAction2 1.x ``tools/train.py`` command line).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]
        [--amp] [--no-validate] [--auto-scale-lr] [--seed N]
        [--diff-rank-seed] [--deterministic] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm|mpi]

Runs on CPU-only and CUDA builds of torch. Data-parallel runs go through
``tools/dist_train.sh`` (torchrun) or ``tools/slurm_train.sh``; on CPU the
gloo backend is used.
"""
import argparse
import os.path as osp
import sys

# The plugin must be imported before any config is parsed: it mends the
# stack (missing mmaction DRN module, checkpoint loading) and registers the
# mmakm components (docs/stack.md, fact 2).
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mmakm  # noqa: E402,F401
import mmakm.engine as engine  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a action recognizer')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training (needs a CUDA/NPU/'
        'MLU device; refused on CPU)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='whether not to evaluate the checkpoint during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='whether to auto scale the learning rate according to the '
        'actual batch size and the original batch size.')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--diff-rank-seed',
        action='store_true',
        help='whether or not set different seeds for different ranks')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='whether to set deterministic options for CUDNN backend.')
    engine.add_launch_args(parser)
    return engine.parse_launch_args(parser, argv)


def merge_args(cfg, args):
    """Merge CLI arguments to config."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher

    engine.set_work_dir(cfg, args.work_dir, args.config)

    # enable automatic-mixed-precision training (refused on CPU)
    if args.amp is True:
        engine.enable_amp(cfg)

    # enable auto scale learning rate
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    # set random seeds: the command line overrides cfg.randomness
    engine.apply_randomness_args(
        cfg,
        seed=args.seed,
        deterministic=args.deterministic,
        diff_rank_seed=args.diff_rank_seed)

    # checked: a key the config cannot take is refused, not ignored
    engine.merge_cfg_options(cfg, args.cfg_options)

    # resume training (after --cfg-options, which may change work_dir)
    if args.resume == 'auto':
        cfg.resume = True
        # the newest complete checkpoint, or None: start afresh
        cfg.load_from = engine.find_resume_checkpoint(cfg.work_dir)
    elif args.resume is not None:
        if '://' not in args.resume and not osp.isfile(args.resume):
            raise engine.UserInputError(
                f'--resume: checkpoint not found: {args.resume}')
        if '://' not in args.resume:
            engine.check_checkpoint_file(args.resume)
        cfg.resume = True
        cfg.load_from = args.resume

    # atomic checkpoints + exact (RNG state) resume
    engine.use_atomic_outputs(cfg)
    return cfg


def main(argv=None):
    args = parse_args(argv)

    try:
        cfg = merge_args(engine.load_config(args.config), args)
        engine.ensure_writable_dir(cfg.work_dir)
        runner = engine.build_runner(cfg, args.launcher)
        runner.train()
        del runner  # its DDP wrapper holds the process group
    except engine.USER_ERRORS as e:
        raise SystemExit(f'error: {e}')
    engine.shutdown_distributed()


if __name__ == '__main__':
    main()
