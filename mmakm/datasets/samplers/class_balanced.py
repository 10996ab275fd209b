"""Class-balanced oversampling (the paper's training set) and class weights."""
import math
from typing import Iterator, List, Optional

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler
from mmaction.registry import DATA_SAMPLERS


def dataset_labels(dataset) -> np.ndarray:
    """Integer labels of a dataset's samples, without running the pipeline."""
    if hasattr(dataset, 'get_labels'):
        return np.asarray(dataset.get_labels(), dtype=np.int64)
    return np.array([int(dataset.get_data_info(i)['label'])
                     for i in range(len(dataset))], dtype=np.int64)


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(Sampler):
    """Oversample every class to the size of the largest one, each epoch.

    Per epoch each class present contributes ``max_c n_c`` indices: all of
    its samples as many whole times as fit, then a random subset of them
    (without repetition), so every sample is seen at least once. The list is
    shuffled and, like mmengine's DefaultSampler, padded (``round_up``) and
    sharded per rank (``indices[rank::world_size]``). Deterministic for a
    given ``seed`` and epoch (:meth:`set_epoch`).

    Args:
        dataset: a dataset whose samples have ``label``.
        shuffle (bool): shuffle the epoch's indices. Default True.
        seed (int, optional): synchronised across ranks when None.
        round_up (bool): pad so every rank gets the same number: the
            epoch's first ``-epoch_size % world_size`` draws are drawn
            twice, once more on the last ranks. Without it ranks would get
            different numbers of batches and data-parallel training would
            wait forever on the rank with more, so ``round_up=False`` is
            refused in a multi-rank run whose epoch does not divide evenly.
    """

    def __init__(self, dataset, shuffle: bool = True,
                 seed: Optional[int] = None, round_up: bool = True):
        rank, world_size = get_dist_info()
        self.rank, self.world_size = rank, world_size
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.round_up = round_up
        self.epoch = 0
        self.labels = dataset_labels(dataset)
        counts = np.bincount(self.labels) if len(self.labels) else \
            np.zeros(0, np.int64)
        self.per_class = int(counts.max()) if counts.size else 0
        self.epoch_size = self.per_class * int((counts > 0).sum())
        if round_up:
            self.num_samples = math.ceil(self.epoch_size / world_size)
            self.total_size = self.num_samples * world_size
        elif self.epoch_size % world_size:
            raise ValueError(
                f'ClassBalancedSampler(round_up=False): an epoch of '
                f'{self.epoch_size} draws does not split evenly over '
                f'{world_size} ranks, and a rank with one batch more would '
                'wait forever for the others; use round_up=True')
        else:
            self.num_samples = self.epoch_size // world_size
            self.total_size = self.epoch_size

    def epoch_indices(self) -> List[int]:
        """All ranks' indices of the current epoch (before sharding)."""
        rng = np.random.default_rng([self.seed, self.epoch])
        out = []
        for c in np.unique(self.labels):
            idx = np.flatnonzero(self.labels == c)
            reps, extra = divmod(self.per_class, len(idx))
            chosen = [idx] * reps
            if extra:
                chosen.append(rng.choice(idx, size=extra, replace=False))
            out.append(np.concatenate(chosen))
        if not out:
            return []
        indices = np.concatenate(out)
        if self.shuffle:
            indices = indices[rng.permutation(len(indices))]
        return indices.tolist()

    def __iter__(self) -> Iterator[int]:
        indices = self.epoch_indices()
        if self.round_up and indices:
            reps = self.total_size // len(indices) + 1
            indices = (indices * reps)[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.world_size])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


def class_weights(dataset_or_labels, num_classes: Optional[int] = None,
                  ) -> List[float]:
    """Inverse-frequency class weights ``N / (K * n_c)`` for
    ``CrossEntropyLoss(class_weight=...)``.

    K is the number of classes present; a class with no sample gets weight
    0.0. With balanced classes every weight is 1.

    Args:
        dataset_or_labels: a dataset (labels read from its samples) or a
            sequence of integer labels.
        num_classes: length of the result; default: from the dataset's
            ``metainfo['classes']`` or the largest label + 1.
    """
    if isinstance(dataset_or_labels, (list, tuple, np.ndarray,
                                      torch.Tensor)):
        labels = np.asarray(dataset_or_labels, dtype=np.int64)
    else:
        labels = dataset_labels(dataset_or_labels)
        if num_classes is None:
            classes = getattr(dataset_or_labels, 'metainfo', {}).get(
                'classes')
            num_classes = len(classes) if classes else None
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_classes, np.float64)
    weights[present] = labels.size / (present.sum() * counts[present])
    return weights.tolist()
