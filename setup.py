import os.path as osp

from setuptools import find_packages, setup

try:  # mmkd's C++ operators need torch at build time (--no-build-isolation)
    from torch.utils.cpp_extension import BuildExtension, CppExtension
except ImportError:
    BuildExtension = CppExtension = None


def read_requirements(path='requirements/runtime.txt'):
    here = osp.dirname(osp.abspath(__file__))
    with open(osp.join(here, path)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


def extensions():
    """mmkd's CPU operators (``mmkd/ops/csrc``). ``optional``: where they do
    not build, mmkd uses mmcv's kernels (same results, slower) and says so.
    ``-ffp-contract=off``: no fused multiply-add, the arithmetic of mmcv's
    kernel exactly."""
    if CppExtension is None:
        return dict()
    flags = dict(extra_compile_args=['-O3', '-ffp-contract=off', '-fopenmp'],
                 extra_link_args=['-fopenmp'], optional=True)
    exts = [
        CppExtension('mmkd._roi_align_ext',
                     ['mmkd/ops/csrc/roi_align_cpu.cpp'], **flags),
        CppExtension('mmkd._nms_ext', ['mmkd/ops/csrc/nms_cpu.cpp'],
                     **flags),
    ]
    return dict(ext_modules=exts,
                cmdclass=dict(build_ext=BuildExtension.with_options(
                    use_ninja=False)))


version = {}
with open(osp.join(osp.dirname(osp.abspath(__file__)), 'mmkd',
                   'version.py')) as f:
    exec(f.read(), version)

setup(
    name='mmkd',
    version=version['__version__'],
    description='Semi-supervised detection and segmentation with knowledge '
    'distillation, on OpenMMLab',
    long_description=open('README.md').read() if osp.exists('README.md')
    else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'data')),
    python_requires='>=3.9',
    install_requires=read_requirements(),
    extras_require=dict(tests=read_requirements('requirements/tests.txt')),
    license='Apache License 2.0',
    zip_safe=False,
    **extensions())
