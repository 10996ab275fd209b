from .me_metric import KeyFrameApexMetric, MEMetric

__all__ = ['MEMetric', 'KeyFrameApexMetric']
