"""Figures (matplotlib, Agg), written atomically (temp file + os.replace)."""
import os
import os.path as osp
import tempfile
from typing import Optional, Sequence

import numpy as np


def plot_confusion_matrix(cm, classes: Sequence[str], path: str,
                          title: Optional[str] = None,
                          normalize: bool = True) -> str:
    """Write a confusion-matrix PNG (rows: ground truth) and return path.

    With ``normalize`` cells are coloured by row share and show
    ``count`` and ``share``.
    """
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt
    cm = np.asarray(cm, np.int64)
    rows = cm.sum(1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, float),
                      where=rows > 0)
    n = len(classes)
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
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix='.png', dir=folder,
                                   prefix='.' + osp.basename(path) + '.')
        os.close(fd)
        try:
            fig.savefig(tmp, format='png', dpi=100)
            os.replace(tmp, path)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise
    finally:
        plt.close(fig)
    return path
