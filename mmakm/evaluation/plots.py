"""Figures (matplotlib, Agg), written atomically (complete or absent)."""
from typing import Optional, Sequence

import numpy as np


def plot_confusion_matrix(cm, classes: Sequence[str], path: str,
                          title: Optional[str] = None,
                          normalize: bool = True) -> str:
    """Write a confusion-matrix PNG and return ``path``.

    Args:
        cm: ``(K, K)`` counts, rows = ground truth, columns = prediction,
            in the order of ``classes``.
        classes: the K class names (the class setup's order).
        normalize: colour cells by row share and show ``count`` and
            ``share``.

    Raises:
        ValueError: ``cm`` is not ``(K, K)`` for the K ``classes``.
    """
    from mmakm.visualization import savefig_atomic
    import matplotlib.pyplot as plt
    cm = np.asarray(cm, np.int64)
    n = len(classes)
    if cm.shape != (n, n):
        raise ValueError(f'a confusion matrix of shape {cm.shape} for '
                         f'{n} classes {list(classes)}')
    rows = cm.sum(1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, float),
                      where=rows > 0)
    fig, ax = plt.subplots(figsize=(1.2 * n + 2, 1.1 * n + 1.5))
    try:
        ax.imshow(share if normalize else cm, cmap='Blues',
                  vmin=0, vmax=1 if normalize else None)
        ax.set_xticks(range(n), labels=list(classes), rotation=45,
                      ha='right')
        ax.set_yticks(range(n), labels=list(classes))
        ax.set_xlabel('predicted')
        ax.set_ylabel('ground truth')
        for i in range(n):
            for j in range(n):
                text = f'{cm[i, j]}\n{share[i, j]:.2f}' if normalize \
                    else str(cm[i, j])
                ax.text(j, i, text, ha='center', va='center', fontsize=8,
                        color='white' if share[i, j] > 0.5 else 'black')
        if title:
            ax.set_title(title)
        fig.tight_layout()
        savefig_atomic(fig, path, dpi=100)
    finally:
        plt.close(fig)
    return path
