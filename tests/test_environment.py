"""The environment holds the library versions the README's tables were
measured with (``requirements/constraints.txt``, applied by
``tools/setup_env.sh``): a newer opencv changes the unlabelled images'
augmentation and with it every semi-supervised number."""
import os.path as osp
from importlib.metadata import version

from conftest import ROOT


def _constraints():
    pins = {}
    for line in open(osp.join(ROOT, 'requirements', 'constraints.txt')):
        line = line.split('#')[0].strip()
        if line:
            name, _, pinned = line.partition('==')
            pins[name.strip()] = pinned.strip()
    return pins


def test_installed_versions_are_the_constraints():
    pins = _constraints()
    assert {'opencv-python', 'numpy'} <= set(pins)
    installed = {name: version(name) for name in pins}
    assert installed == pins, (
        f'installed {installed}, the tables need {pins}: run '
        '`bash tools/setup_env.sh` (or pip install -c '
        'requirements/constraints.txt)')
