"""The comparison table (``make evidence``): leak-free LOSO of AKMNet, its
ablations and baselines on the built-in synthetic corpus, several seeds,
written into docs/evidence.md.

    python tools/evidence.py [--work-dir work_dirs/evidence] [--jobs 2]
        [--methods AKMNet TSN-R18 ...] [--report-only] [--doc docs/evidence.md]

Every (method, seed) is one LOSO run (tools/loso.py's machinery) in
``<work-dir>/<method>/seed<k>``; a rerun reuses finished folds and resumes an
interrupted one, so the command can be killed and restarted at any time.
The tables (mean ± std over seeds of the pooled acc / UF1 / UAR, key frames
vs apex with the random-selection reference, wall time per method) are
written to ``<work-dir>/evidence.{md,json}`` and replace the generated block
of ``--doc`` (between its ``evidence:begin`` / ``evidence:end`` markers).
Extra rows: add a ``Method`` to ``METHODS`` (a config, its seeds). Rows
whose config reads a preprocessed frame cache (``cache_dir`` + its
``preprocess`` recipe) get that cache built first, by the runner of
tools/preprocess.py (reused when finished, resumed when interrupted,
refused when made with another recipe); its wall time is in the output.
"""
import argparse
import os.path as osp
import platform
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import mmakm  # noqa: E402,F401  (stack fixes before any config is parsed)

from mmakm.engine import (UserInputError, atomic_json_dump,  # noqa: E402
                          atomic_write_text, ensure_writable_dir)
from mmakm.loso.report import json_safe  # noqa: E402
from mmakm.loso.suite import (Method, aggregate,  # noqa: E402
                              cache_table, prepare_caches, report_failures,
                              run_suite, suite_tables)

SEEDS3 = (0, 1, 2)
E = 'configs/evidence/'
#: the rows, in table order and in the order they run: the three rows with
#: seeds first (the seed spread is what every comparison is judged by), the
#: costliest (TIM-64: 64 frames a clip) last
METHODS = (
    Method('AKMNet', 'configs/akm_synthetic.py', SEEDS3,
           note='s123: α, β, sparse selection, L_GS + L_MMM'),
    Method('TSN-R18', 'configs/baselines/tsn_r18_synthetic.py', SEEDS3,
           note='8 segments, same narrow ResNet-18'),
    Method('all frames', E + 'akm_allframes_synthetic.py', SEEDS3,
           note='same net, every fed frame, no mining, no mining loss'),
    Method('random key frames', E + 'akm_randomkf_synthetic.py',
           note='as many frames as mining keeps, random, no mining loss'),
    Method('s12', E + 'akm_s12_synthetic.py',
           note='α and β, features weighted by β, no selection'),
    Method('s13', E + 'akm_s13_synthetic.py',
           note='no global correlation (β = α)'),
    Method('s23', E + 'akm_s23_synthetic.py',
           note='no local attention (α ≡ 1)'),
    Method('single apex frame', E + 'apex_r18_synthetic.py',
           note='one frame (the annotated apex), same ResNet-18'),
    Method('I3D', E + 'i3d_r18_synthetic.py',
           note='3D ResNet-18 at the same narrow width, 16 frames'),
    Method('TIM-16', E + 'akm_tim16_synthetic.py',
           note='every clip resampled to 16 frames, then AKMNet'),
    Method('AKMNet without mining loss', E + 'akm_nomineloss_synthetic.py',
           note='not a paper row: mining trained by L_cls alone'),
    Method('AKMNet, BN per clip', E + 'akm_clipbn_synthetic.py',
           note='micro-batches of one clip: BN over each clip, as the '
                "authors' code"),
    # the 2x2 preprocessing design (docs/evidence.md): stabilisation x
    # magnification (linear MEMagnify online = the rows above; phase-based
    # offline), read from frame caches this command builds first
    Method('AKMNet stabilised', E + 'akm_stab_synthetic.py',
           note='AKMNet on frames stabilised to the onset (ECC), MEMagnify'),
    Method('AKMNet phase-magnified', E + 'akm_phase_synthetic.py',
           note='AKMNet, phase-based magnification α = 5 instead of '
                'MEMagnify'),
    Method('AKMNet stabilised + phase-magnified',
           E + 'akm_stab_phase_synthetic.py',
           note='AKMNet, stabilised, then phase-magnified (α = 5)'),
    Method('TSN-R18 stabilised', E + 'tsn_r18_stab_synthetic.py',
           note='TSN-R18 on frames stabilised to the onset, MEMagnify'),
    Method('TSN-R18 phase-magnified', E + 'tsn_r18_phase_synthetic.py',
           note='TSN-R18, phase-based magnification α = 5 instead of '
                'MEMagnify'),
    Method('TSN-R18 stabilised + phase-magnified',
           E + 'tsn_r18_stab_phase_synthetic.py',
           note='TSN-R18, stabilised, then phase-magnified (α = 5)'),
    Method('TIM-64', E + 'akm_tim64_synthetic.py',
           note='every clip resampled to 64 frames, then AKMNet'),
)

BEGIN, END = '<!-- evidence:begin -->', '<!-- evidence:end -->'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--work-dir', default=osp.join('work_dirs', 'evidence'))
    p.add_argument('--jobs', type=int, default=2,
                   help='LOSO folds in parallel (default 2)')
    p.add_argument('--methods', nargs='+', metavar='NAME',
                   help='run only these rows (names as in the table)')
    p.add_argument('--report-only', action='store_true',
                   help='run nothing; tabulate the finished runs')
    p.add_argument('--doc', default=osp.join(ROOT, 'docs', 'evidence.md'),
                   help='markdown file whose generated block is replaced '
                        "('' to skip)")
    return p.parse_args(argv)


def select(names):
    if not names:
        return METHODS
    known = {m.name: m for m in METHODS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f'unknown method(s) {unknown}; known: '
                         f'{list(known)}')
    return tuple(known[n] for n in names)


def corpus_truth(methods):
    """The generator's ground truth of the synthetic corpus the methods
    use (None if it is absent)."""
    from mmengine.config import Config
    from mmakm.datasets.synthetic import TRUTH, load_truth
    cfg = Config.fromfile(osp.join(ROOT, methods[0].config))
    root = cfg.get('synthetic_corpus', {}).get('root')
    if root and osp.isfile(osp.join(root, TRUTH)):
        return load_truth(root)
    return None


def replace_block(path: str, block: str) -> None:
    """Replace the text between the markers of ``path`` (atomically)."""
    text = open(path).read() if osp.isfile(path) else f'{BEGIN}\n{END}\n'
    if BEGIN not in text or END not in text:
        raise ValueError(f'{path}: no {BEGIN} ... {END} block to replace')
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    atomic_write_text(f'{head}{BEGIN}\n{block}\n{END}{tail}', path)


def main(argv=None) -> int:
    args = parse_args(argv)
    methods = select(args.methods)
    try:  # before the caches and runs, not after them
        ensure_writable_dir(args.work_dir)
    except UserInputError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    t0 = time.time()
    # the frame caches first (resumable; a finished cache is reused)
    caches = prepare_caches(methods, ROOT, build=not args.report_only)
    results = run_suite(methods, args.work_dir, ROOT, jobs=args.jobs,
                        report_only=args.report_only)
    records = aggregate(results, corpus_truth(methods))
    spent = time.time() - t0
    total = sum(r['wall_s_total'] for r in records)
    prep = sum(c['wall_s'] for c in caches if c['complete'])
    block = '\n'.join([
        suite_tables(records), ''] + ([
            'Frame caches (preprocessing, made once by this command before '
            'the rows that read them):', '', cache_table(caches, ROOT), '']
            if caches else []) + [
        f'Produced by `python tools/evidence.py` (`make evidence`), jobs '
        f'{args.jobs}, on {platform.machine()} with {osp.basename(sys.executable)} '
        f'{platform.python_version()}; the wall times of all runs add up '
        f'to {total / 60:.1f} min' + (
            f', the preprocessing to {prep / 60:.1f} min' if caches else '') +
        f' (this invocation: {spent / 60:.1f} min).'])
    atomic_write_text(block + '\n', osp.join(args.work_dir, 'evidence.md'))
    atomic_json_dump(json_safe(records),
                     osp.join(args.work_dir, 'evidence.json'))
    if args.doc:
        replace_block(args.doc, block)
    print('\n' + block, flush=True)
    return report_failures(results)


if __name__ == '__main__':
    sys.exit(main())
