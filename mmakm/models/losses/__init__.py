from .gs_mmm_loss import GSMMMLoss

__all__ = ['GSMMMLoss']
