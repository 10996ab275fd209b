"""Micro-expression datasets, transforms and samplers (registered in
MMAction2's registries)."""
from .base import MEBaseDataset
from .casme1 import CASME1Dataset
from .casme2 import CASME2Dataset
from .casme2_sized import (CASME2SizedDataset, casme2_sized_plan,
                           render_casme2_sized)
from .casme3 import CASME3Dataset
from .class_setups import canonical_emotion, resolve_class_setup
from .device_corpus import (DeviceCorpusDataset, PackedClips, corpus_index,
                            load_corpus)
from .errors import (BadSampleError, CorpusError, MissingFileError,
                     PipelineError)
from .integrity import FrameProblem, check_clip_frames, read_image_size
from .macro import (AffectNetDataset, FaceImageDataset, FER2013Dataset,
                    RAFDBDataset)
from .loso import list_subjects, loso_folds
from .me_annotation import MEAnnotationDataset
from .megc2019 import MEGC2019Dataset
from .samm import SAMMDataset
from .samplers import ClassBalancedSampler, class_weights
from .smic import SMICDataset
from .synthetic import make_synthetic_casme2
from .transforms import (LoadFaceImage, MEFaceAlign, MEFrameDecode,
                         MEMagnify, MEPhaseMagnify,
                         MESampleFrames, METoGray)
from .transforms.pipeline_check import ME_META_KEYS

__all__ = [
    'MEBaseDataset', 'BadSampleError', 'CorpusError', 'MissingFileError',
    'PipelineError',
    'CASME2Dataset', 'SAMMDataset',
    'SMICDataset', 'CASME1Dataset', 'CASME3Dataset', 'MEGC2019Dataset',
    'MEAnnotationDataset', 'list_subjects', 'loso_folds',
    'canonical_emotion', 'resolve_class_setup', 'ClassBalancedSampler',
    'class_weights', 'MESampleFrames', 'MEFaceAlign', 'MEFrameDecode',
    'METoGray', 'MEMagnify', 'MEPhaseMagnify',
    'make_synthetic_casme2', 'ME_META_KEYS', 'FaceImageDataset',
    'AffectNetDataset', 'RAFDBDataset', 'FER2013Dataset', 'LoadFaceImage',
    'CASME2SizedDataset', 'casme2_sized_plan', 'render_casme2_sized',
    'DeviceCorpusDataset', 'PackedClips', 'corpus_index', 'load_corpus',
    'FrameProblem', 'check_clip_frames', 'read_image_size'
]
