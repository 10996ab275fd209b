"""Install mmakm: micro-expression recognition with AKMNet for MMAction2."""
import os
import os.path as osp
from importlib import metadata

from setuptools import find_packages, setup

MMCV_RANGE = '>=2.0.0rc4,<2.2.0'  # what mmaction2 1.2.0 asserts at import


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
        'opencv-python-headless',
        'openpyxl>=3.0',
        'matplotlib>=3.5',
        'setuptools<82',  # mmengine needs pkg_resources
        # complex steerable pyramid for phase-based magnification
        'plenoptic>=2.0,<3; python_version>="3.10"',
    ] + mmcv_requirement(),
    extras_require={'tests': ['pytest>=7', 'pyrtools>=1.0']},
    license='Apache-2.0',
    zip_safe=False,
)
