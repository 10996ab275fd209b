"""tools/benchmarks/sync_points.py counts what would make the host wait for
a GPU, by call site, only while active, and leaves torch as it was."""
import torch

from tools.benchmarks.sync_points import SyncCounter


def _ops(counter):
    return {op: n for (op, _), n in counter.counts.items()}


def test_counts_sync_points_by_call_site():
    x = torch.arange(6.)
    lengths = torch.tensor([2, 4])
    item = torch.Tensor.item
    counter = SyncCounter()
    with counter.patched():
        x.sum().item()  # not active: not counted
        with counter.active():
            x.sum().item()
            bool((x > 2).any())
            x[x > 2]  # boolean mask: data-dependent size
            x[1:3]  # plain slice: not a sync
            torch.repeat_interleave(torch.arange(2), lengths)
            torch.repeat_interleave(torch.arange(2), lengths, output_size=6)
            x.tolist()
    assert torch.Tensor.item is item  # restored
    assert _ops(counter) == {'item': 1, '__bool__': 1, 'mask index': 1,
                             'repeat_interleave': 1, 'tolist': 1}
    sites = {site for _, site in counter.counts}
    assert all('test_sync_points.py' in s for s in sites)
    assert counter.per_iter(5) == 1.0
    assert counter.table(5)[0]['per_iter'] == 0.2
