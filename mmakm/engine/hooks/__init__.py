from .atomic_checkpoint_hook import (AtomicCheckpointHook, get_rng_state,
                                     set_rng_state)
from .deferred_runtime_info_hook import DeferredRuntimeInfoHook
from .backbone_export_hook import (BackboneExportHook, backbone_state_dict,
                                   save_backbone)

__all__ = [
    'AtomicCheckpointHook', 'get_rng_state', 'set_rng_state',
    'BackboneExportHook', 'backbone_state_dict', 'save_backbone',
    'DeferredRuntimeInfoHook'
]
