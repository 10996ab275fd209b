from .class_balanced import ClassBalancedSampler, class_weights, dataset_labels

__all__ = ['ClassBalancedSampler', 'class_weights', 'dataset_labels']
