#!/usr/bin/env python
"""Test (and evaluate) a checkpoint (MMAction2 1.x ``tools/test.py``).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump X.pkl]
        [--metrics-out X.json] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm|mpi]

CHECKPOINT may be ``last`` for the newest checkpoint of the work dir.
``--dump`` writes the per-sample predictions (dicts with ``pred_score``,
``gt_label`` and the ME metainfo) to a pickle for offline/LOSO pooling. The
metrics are written to ``<work_dir>/test_metrics.json`` unless
``--metrics-out`` says otherwise. Both files are written atomically.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mmakm  # noqa: E402,F401  (before Config.fromfile: docs/stack.md, fact 2)
import mmakm.engine as engine  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='MMAction2 test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file, or "last" for the newest checkpoint of the '
        'work dir')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--dump',
        type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--metrics-out',
        type=str,
        help='JSON file for the metrics (default: '
        '<work_dir>/test_metrics.json)')
    parser.add_argument(
        '--show-dir',
        help='directory where the visualization images will be saved.')
    parser.add_argument(
        '--show',
        action='store_true',
        help='whether to display the prediction results in a window.')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='visualize per interval samples.')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=2,
        help='display time of every window. (second)')
    engine.add_launch_args(parser)
    return engine.parse_launch_args(parser, argv)


def merge_args(cfg, args):
    """Merge CLI arguments to config."""
    # -------------------- visualization --------------------
    if args.show or (args.show_dir is not None):
        if 'visualization' not in cfg.default_hooks:
            raise SystemExit(
                'VisualizationHook is not set in the `default_hooks` field of '
                'the config. Please set '
                '`visualization=dict(type="VisualizationHook")`')
        cfg.default_hooks.visualization.enable = True
        cfg.default_hooks.visualization.show = args.show
        cfg.default_hooks.visualization.wait_time = args.wait_time
        cfg.default_hooks.visualization.out_dir = args.show_dir
        cfg.default_hooks.visualization.interval = args.interval

    # -------------------- Dump predictions --------------------
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise engine.UserInputError(
                f'--dump {args.dump}: the dump file must be a .pkl file')
        dump_metric = dict(type='AtomicDumpResults', out_file_path=args.dump)
        if isinstance(cfg.test_evaluator, (list, tuple)):
            cfg.test_evaluator = list(cfg.test_evaluator)
            cfg.test_evaluator.append(dump_metric)
        else:
            cfg.test_evaluator = [cfg.test_evaluator, dump_metric]

    cfg.launcher = args.launcher
    # checked: a key the config cannot take is refused, not ignored
    engine.merge_cfg_options(cfg, args.cfg_options)

    engine.set_work_dir(cfg, args.work_dir, args.config)

    checkpoint = args.checkpoint
    if checkpoint in ('last', 'latest'):
        checkpoint = engine.find_resume_checkpoint(cfg.work_dir)
        if checkpoint is None:
            raise engine.UserInputError(
                f'no checkpoint found in {cfg.work_dir}')
    if '://' not in checkpoint:
        # a missing, empty, cut or non-checkpoint file: said before the
        # runner is built (and prints hundreds of lines of set-up)
        engine.check_checkpoint_file(checkpoint)
    cfg.load_from = checkpoint
    engine.use_atomic_outputs(cfg)
    return cfg


def main(argv=None):
    args = parse_args(argv)

    try:
        cfg = merge_args(engine.load_config(args.config), args)
        metrics_out = args.metrics_out or osp.join(cfg.work_dir,
                                                   'test_metrics.json')
        for what, path in (('work dir', cfg.work_dir),
                           ('--metrics-out folder', osp.dirname(
                               osp.abspath(metrics_out))),
                           ('--dump folder', args.dump and osp.dirname(
                               osp.abspath(args.dump)))):
            if path:
                engine.ensure_writable_dir(path, what)
        # strict: a checkpoint that does not fit the model is never tested
        runner = engine.build_runner(cfg, args.launcher, strict_load=True)
        metrics = runner.test()
        del runner  # its DDP wrapper holds the process group
    except engine.USER_ERRORS as e:
        raise SystemExit(f'error: {e}')

    if is_main_process():
        engine.atomic_json_dump(
            dict(config=args.config, checkpoint=cfg.load_from,
                 metrics=metrics), metrics_out)
    engine.shutdown_distributed()
    return metrics


if __name__ == '__main__':
    main()
