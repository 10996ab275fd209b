"""Leave-one-subject-out helpers.

``list_subjects(cfg)`` returns the sorted subjects (corpus-prefixed) that
have at least one sample under the config's class setup; it parses the
annotation only (no frame is read or checked). ``loso_folds(cfg)`` gives,
per subject, the train config (``exclude_subjects=[s]``) and the test config
(``subjects=[s]``).
"""
import copy
from collections import Counter
from typing import Dict, List, Union

from mmengine.config import ConfigDict


def _build_lazy(cfg):
    from mmaction.registry import DATASETS
    cfg = copy.deepcopy(dict(cfg))
    cfg['lazy_init'] = True
    cfg['pipeline'] = []
    cfg.setdefault('check_frames', False)
    return DATASETS.build(cfg)


def list_subjects(dataset: Union[dict, ConfigDict, object]) -> List[str]:
    """Sorted subjects of a dataset config or instance (cheap)."""
    return sorted(count_clips(dataset))


def count_clips(dataset: Union[dict, ConfigDict, object]) -> Dict[str, int]:
    """``{subject: number of samples}`` of a dataset config or instance,
    after its class setup and subject filters (annotation only, no frame
    read): what a LOSO fold holding that subject out must predict."""
    if isinstance(dataset, (dict, ConfigDict)):
        dataset = _build_lazy(dataset)
    if getattr(dataset, '_fully_initialized', False):
        return dict(Counter(dataset.get_data_info(i)['subject']
                            for i in range(len(dataset))))
    if hasattr(dataset, 'count_clips'):
        return dataset.count_clips()
    raise TypeError(f'{type(dataset).__name__} is not an ME dataset')


def loso_folds(dataset_cfg: Union[dict, ConfigDict]) -> List[dict]:
    """One fold per subject: ``dict(subject, train, test)`` configs.

    ``train`` adds ``exclude_subjects=[subject]`` (to those already there),
    ``test`` sets ``subjects=[subject]``; no subject is ever in both.
    """
    folds = []
    for s in list_subjects(dataset_cfg):
        train = copy.deepcopy(dict(dataset_cfg))
        train['exclude_subjects'] = list(
            train.get('exclude_subjects') or []) + [s]
        test = copy.deepcopy(dict(dataset_cfg))
        test['subjects'] = [s]
        folds.append(dict(subject=s, train=train, test=test))
    return folds
