"""Frames per second of a training data pipeline (data loading only).

Used to compare reading the preprocessed frame cache with decoding the
shipped JPEGs (``tools/benchmarks/bench_cache_throughput.py``).
"""
import time
from typing import Optional

import torch
from mmengine.dataset import pseudo_collate


def pipeline_fps(dataset, num_workers: int = 0, batch_size: int = 8,
                 passes: int = 2, seed: Optional[int] = 0) -> dict:
    """Frames/s of iterating ``dataset`` (its pipeline) through a loader.

    Every sample is loaded ``passes`` times (the first pass warms the OS
    file cache for both sources alike); the best pass counts. A frame is
    one row of a sample's ``inputs`` ((T, C, H, W) per sample).

    Returns:
        dict: ``fps``, ``frames`` (per pass), ``seconds`` (best pass),
        ``num_workers``.
    """
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    best, frames = float('inf'), 0
    for _ in range(passes):
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=batch_size, shuffle=False,
            num_workers=num_workers, collate_fn=pseudo_collate,
            generator=gen)
        start, frames = time.perf_counter(), 0
        for batch in loader:
            frames += sum(int(x.shape[0]) for x in batch['inputs'])
        best = min(best, time.perf_counter() - start)
    return dict(fps=frames / best, frames=frames, seconds=best,
                num_workers=num_workers)
