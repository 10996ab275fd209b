"""Interleaved timing and peak-memory probes for ``tools/benchmark.py``.

Every case of a comparison runs once per repeat, one after the other, so
load that drifts on a shared machine hits all of them alike; ratios are
taken within a repeat and then their median is reported.
"""
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels (CUDA launches are asynchronous)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def summarize(times: Sequence[float],
              cpu_times: Optional[Sequence[float]] = None) -> dict:
    """Median and spread (min, max, relative half-range) of wall timings
    (s), and the median CPU time of this process if given."""
    med = statistics.median(times)
    lo, hi = min(times), max(times)
    out = dict(median_s=med, min_s=lo, max_s=hi,
               spread=(hi - lo) / (2 * med) if med > 0 else 0.0,
               times_s=list(times))
    if cpu_times is not None:
        out.update(cpu_median_s=statistics.median(cpu_times),
                   cpu_times_s=list(cpu_times))
    return out


def ratio(num: Sequence[float], den: Sequence[float]) -> float:
    """Median of the per-repeat ratios ``num[r] / den[r]``."""
    return statistics.median(a / b for a, b in zip(num, den))


class PeakMemory:
    """Peak memory of a block: CUDA max allocated, or CPU resident set.

    CPU: the kernel's high-water mark ``VmHWM`` is reset through
    ``/proc/self/clear_refs`` (Linux ≥ 4.0), so the value is the peak RSS of
    the whole process during the block (model, data and interpreter
    included). ``None`` where neither is available.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak_bytes: Optional[int] = None

    def __enter__(self) -> 'PeakMemory':
        if self.device.type == 'cuda':
            synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            try:
                with open('/proc/self/clear_refs', 'w') as f:
                    f.write('5')
            except OSError:
                pass
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == 'cuda':
            synchronize(self.device)
            self.peak_bytes = torch.cuda.max_memory_allocated(self.device)
        else:
            self.peak_bytes = _vm_hwm_bytes()


def _vm_hwm_bytes() -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def interleaved(cases: Dict[str, Callable[[], None]],
                repeats: int,
                device: torch.device,
                warmup: Optional[Dict[str, Callable[[], None]]] = None,
                measure_memory: bool = False) -> Dict[str, dict]:
    """Time ``cases`` round-robin ``repeats`` times.

    Args:
        cases: name → zero-argument callable doing one unit of work.
        repeats: rounds; each round runs every case once, in order.
        device: where the work runs (CUDA is synchronised around each call).
        warmup: name → callable run once before timing (default: the case
            itself), e.g. the same work on a small input.
        measure_memory: also record each case's peak memory (first round).

    Returns:
        dict: name → :func:`summarize` result (+ ``peak_bytes``). The CPU
        time of this process (all its threads, not loader workers) is
        recorded too: on an oversubscribed machine it is far steadier than
        wall time.
    """
    for name, fn in (warmup or cases).items():
        fn()
    synchronize(device)
    times: Dict[str, List[float]] = {name: [] for name in cases}
    cpu: Dict[str, List[float]] = {name: [] for name in cases}
    peaks: Dict[str, Optional[int]] = {}
    for r in range(repeats):
        for name, fn in cases.items():
            probe = PeakMemory(device) if measure_memory and r == 0 else None
            if probe is not None:
                probe.__enter__()
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            synchronize(device)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            if probe is not None:
                probe.__exit__(None, None, None)
                peaks[name] = probe.peak_bytes
    out = {name: summarize(ts, cpu[name]) for name, ts in times.items()}
    for name, peak in peaks.items():
        out[name]['peak_bytes'] = peak
    return out
