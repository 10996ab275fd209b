"""Install mmakm: micro-expression recognition with AKMNet for MMAction2."""
import os
import os.path as osp
from importlib import metadata

from setuptools import find_packages, setup

MMCV_RANGE = '>=2.0.0rc4,<2.2.0'  # what mmaction2 1.2.0 asserts at import
OPENCV_RANGE = '>=4.5,<4.12'
OPENCV_CONTRIB = 'opencv-contrib-python' + OPENCV_RANGE
OPENCV_PLAIN = 'opencv-python' + OPENCV_RANGE
# Face landmarks (tools/preprocess.py, MEFaceAlign): mediapipe 0.10.21 is the
# last release whose legacy face mesh ships its tflite models in the wheel
# (later ones download them at run time); it needs protobuf < 5.
FACE_REQUIRES = ['mediapipe==0.10.21', 'protobuf<5']


def mmcv_requirement():
    """The mmcv-lite wheel unless a compiled mmcv is already installed.

    mmaction2's recognition path needs no compiled mmcv ops, and PyPI's mmcv
    2.1.0 is a source-only package that takes very long to build. Set
    ``MMAKM_MMCV=full`` to require the compiled package, ``none`` to skip.
    (Detection sees the target environment only without build isolation,
    e.g. ``pip install --no-build-isolation -e .``; the Makefile does that.)
    """
    choice = os.environ.get('MMAKM_MMCV', 'auto')
    if choice == 'none':
        return []
    if choice == 'full':
        return ['mmcv' + MMCV_RANGE]
    if choice == 'auto':
        for dist in ('mmcv', 'mmcv-full'):
            try:
                metadata.version(dist)
                return ['mmcv' + MMCV_RANGE] if dist == 'mmcv' else []
            except metadata.PackageNotFoundError:
                pass
    return ['mmcv-lite' + MMCV_RANGE]


def read_version():
    namespace = {}
    with open(osp.join('mmakm', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mmakm',
    version=read_version(),
    description='Micro-expression recognition with AKMNet (adaptive key-frame '
    'mining) for MMAction2',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmakm', 'mmakm.*']),
    python_requires='>=3.8',
    install_requires=[
        'torch>=2.0',
        'mmengine>=0.10.0,<0.11',
        'mmaction2==1.2.0',
        'importlib_metadata',  # imported by mmaction2, not declared by it
        'decord>=0.6.0',
        'numpy<2',  # mmaction2 1.2.0 still uses np.Inf / np.trapz
        # One OpenCV: mmaction2 (and mediapipe) require the contrib build,
        # mmengine the plain one; both provide the same ``cv2`` package, so
        # they are pinned to one range (the same version gets installed) that
        # keeps the Haar cascades in cv2/data (5.x wheels ship none) and
        # numpy < 2 (4.12+ wheels need numpy 2).
        OPENCV_CONTRIB,
        OPENCV_PLAIN,
        'openpyxl>=3.0',
        'matplotlib>=3.5',
        'setuptools<82',  # mmengine needs pkg_resources
        # complex steerable pyramid for phase-based magnification
        'plenoptic>=2.0,<3; python_version>="3.10"',
    ] + mmcv_requirement(),
    extras_require={
        'face': FACE_REQUIRES,
        # the walkthrough test builds a corpus from scikit-image's photograph
        'tests': ['pytest>=7', 'pyrtools>=1.0', 'scikit-image>=0.19'] +
        FACE_REQUIRES,
    },
    license='Apache-2.0',
    zip_safe=False,
)
