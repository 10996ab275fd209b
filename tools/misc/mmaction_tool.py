"""Run one of MMAction2's own tools with mmakm imported first.

The mmaction2 package ships its tools (``mmaction/.mim/tools``); run as
they are, those that build models (``analysis_tools/confusion_matrix.py``,
``get_flops.py``, ...) fail on the module missing from the mmaction2 1.2.0
wheel (``No module named 'mmaction.models.localizers.drn'``) and know no
mmakm dataset, metric or model. This runs the tool by its path under that
folder, with its own arguments, after ``import mmakm``::

    python tools/misc/mmaction_tool.py analysis_tools/confusion_matrix.py CONFIG preds.pkl --show-path cm.png
    python tools/misc/mmaction_tool.py analysis_tools/eval_metric.py CONFIG preds.pkl
"""
import argparse
import glob
import os.path as osp
import runpy
import sys


def tools_dir() -> str:
    """The tools folder of the installed mmaction2 package."""
    import importlib.util
    spec = importlib.util.find_spec('mmaction')
    return osp.join(osp.dirname(spec.origin), '.mim', 'tools')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('tool', help="the tool's path under mmaction's tools "
                   'folder, e.g. analysis_tools/confusion_matrix.py')
    p.add_argument('args', nargs=argparse.REMAINDER,
                   help="the tool's own arguments")
    args = p.parse_args(argv)
    root = tools_dir()
    path = osp.normpath(osp.join(root, args.tool))
    if not path.startswith(root + osp.sep) or not osp.isfile(path):
        found = sorted(osp.relpath(f, root) for f in glob.glob(
            osp.join(root, '*', '*.py')) if not f.endswith('__init__.py'))
        p.error(f'{args.tool!r} is not a tool of mmaction2 ({root}); '
                f'its tools: {", ".join(found)}')
    return path, args.args


def main(argv=None):
    path, rest = parse_args(argv)
    import mmakm  # noqa: F401  (stack fixes, mmakm's registered parts)
    sys.argv = [path] + list(rest)
    runpy.run_path(path, run_name='__main__')


if __name__ == '__main__':
    main()
