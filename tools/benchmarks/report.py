"""The text report of ``tools/benchmark.py``: one table, then the ratios."""
from typing import List

_MIB = 1024.0**2


def _fmt(x, spec: str) -> str:
    return '—' if x is None else format(x, spec)


def render(result: dict) -> str:
    """Markdown: header, one measurement table, ratio table, linear fits."""
    m, s = result['machine'], result['settings']
    lines: List[str] = [
        f"command: {result['command']}",
        f"machine: {m.get('cpu')} ×{m.get('cpu_count')}, "
        f"{m.get('gpu', 'no GPU used')}; torch {m['torch']}, device "
        f"{m['device']}, threads {m['threads']}, load avg "
        f"{_fmt_load(m.get('load_avg'))}",
        f"clips: {len(s['lengths'])} × {s['size']}², lengths "
        f"{s['lengths']} (ΣT {s['frames']}); median of {s['repeats']} "
        f"interleaved repeats; amp {s['amp']}, channels_last "
        f"{s['channels_last']}, cudnn.benchmark {s['cudnn_benchmark']}",
        '',
        '| section | case | median ms | spread ± | CPU ms | clips/s | '
        'frames/s | peak MiB |',
        '|---|---|---:|---:|---:|---:|---:|---:|',
    ]
    ratios, fits, notes = [], [], []
    for name, sec in result['sections'].items():
        if not sec['ok']:
            lines.append(f"| {name} | FAILED: {sec['error']} | | | | | | |")
            continue
        for case, c in sec['cases'].items():
            peak = c.get('peak_bytes')
            lines.append(
                f"| {name} | {case} | {c['median_s'] * 1e3:.1f} | "
                f"{c['spread'] * 100:.1f} % | "
                f"{_fmt(_ms(c.get('cpu_median_s')), '.1f')} | "
                f"{_fmt(c.get('clips_per_s'), '.2f')} | "
                f"{_fmt(c.get('frames_per_s'), '.1f')} | "
                f"{_fmt(None if peak is None else peak / _MIB, '.0f')} |")
        for rname, r in sec.get('ratios', {}).items():
            ratios.append((name, rname, r))
        for mode, f in sec.get('fits', {}).items():
            fits.append(
                f"{name} {mode}: time ≈ {f['slope_ms_per_frame']:.2f} ms × T "
                f"+ {f['intercept_ms']:.1f} ms (R² {f['r2']:.3f}; T "
                f"{f['lengths']})")
        if sec.get('note'):
            notes.append(f"{name}: {sec['note']}")
    if ratios:
        lines += ['', '| section | ratio (median of per-repeat ratios) | '
                  'wall | CPU time | target | met |',
                  '|---|---|---:|---:|---|---|']
        for name, rname, r in ratios:
            target = (f"{r['target_op']} {r['target']:g}"
                      if 'target' in r else
                      f"(frames {r['frames_ratio']:.3f})"
                      if 'frames_ratio' in r else '')
            met = '' if 'met' not in r else ('yes' if r['met'] else 'NO')
            lines.append(f"| {name} | {rname} | {r['value']:.3f} | "
                         f"{_fmt(r.get('cpu_value'), '.3f')} | "
                         f'{target} | {met} |')
    if fits:
        lines += [''] + fits
    if notes:
        lines += [''] + notes
    lines += ['', f"total wall time {result['wall_s']:.0f} s"]
    return '\n'.join(lines)


def _ms(seconds):
    return None if seconds is None else seconds * 1e3


def _fmt_load(load) -> str:
    return '—' if not load else '/'.join(f'{x:.1f}' for x in load)
