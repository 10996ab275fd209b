from collections import Counter

import numpy as np
import pytest

import mmakm  # noqa: F401
from mmaction.registry import DATA_SAMPLERS
from mmakm.datasets import ClassBalancedSampler, class_weights


class Labels:
    def __init__(self, labels, classes=None):
        self.labels = list(labels)
        self.metainfo = dict(classes=classes) if classes else {}

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, i):
        return dict(label=self.labels[i])


LABELS = [0] * 7 + [1] * 3 + [2] * 1 + [3] * 2


def test_balanced_epoch():
    s = ClassBalancedSampler(Labels(LABELS), seed=1)
    idx = list(s)
    assert len(idx) == len(s) == 7 * 4
    counts = Counter(LABELS[i] for i in idx)
    assert counts == {0: 7, 1: 7, 2: 7, 3: 7}
    assert set(idx) == set(range(len(LABELS)))  # every sample seen
    # minority class 1 (3 samples, 7 slots): each sample 2 or 3 times
    c1 = Counter(i for i in idx if LABELS[i] == 1)
    assert sorted(c1.values()) == [2, 2, 3]


def test_deterministic_and_epochs():
    a = ClassBalancedSampler(Labels(LABELS), seed=3)
    b = ClassBalancedSampler(Labels(LABELS), seed=3)
    assert list(a) == list(b)
    e0 = list(a)
    a.set_epoch(1)
    assert list(a) != e0


def test_sharding(monkeypatch):
    import mmakm.datasets.samplers.class_balanced as cb
    shards = []
    for rank in range(3):
        monkeypatch.setattr(cb, 'get_dist_info', lambda r=rank: (r, 3))
        s = ClassBalancedSampler(Labels(LABELS), seed=5)
        shards.append(list(s))
        assert len(s) == 10
    flat = [i for shard in zip(*shards) for i in shard]
    ref = ClassBalancedSampler.__new__(ClassBalancedSampler)
    monkeypatch.setattr(cb, 'get_dist_info', lambda: (0, 1))
    single = ClassBalancedSampler(Labels(LABELS), seed=5, round_up=False)
    assert flat[:28] == list(single)
    assert len(flat) == 30


def test_uneven_shards_without_round_up_are_refused(monkeypatch):
    """Ranks with different numbers of batches hang data-parallel
    training: refused with a message, even splits allowed."""
    import mmakm.datasets.samplers.class_balanced as cb
    monkeypatch.setattr(cb, 'get_dist_info', lambda: (1, 3))
    with pytest.raises(ValueError, match='28 draws does not split evenly '
                       'over 3 ranks'):
        ClassBalancedSampler(Labels(LABELS), seed=5, round_up=False)
    monkeypatch.setattr(cb, 'get_dist_info', lambda: (1, 2))
    s = ClassBalancedSampler(Labels(LABELS), seed=5, round_up=False)
    assert len(s) == len(list(s)) == 14


def test_registered():
    assert DATA_SAMPLERS.get('ClassBalancedSampler') is ClassBalancedSampler


def test_class_weights():
    w = class_weights(Labels(LABELS, classes=('a', 'b', 'c', 'd', 'e')))
    n, k = len(LABELS), 4
    assert w == pytest.approx([n / (k * 7), n / (k * 3), n / (k * 1),
                               n / (k * 2), 0.0])
    assert class_weights([0, 1, 0, 1]) == [1.0, 1.0]
