"""Input errors that reach the user as one clear line, not a traceback."""
import contextlib
import os
import os.path as osp
import sys

DEMO_HINT = ('generate the demo data with `python tools/make_demo_data.py '
             '--out data`')
DATA_HINT = ("point the config's data_root / ann_file at your data set "
             '(docs/user_guides/own_data.md)')
COCO_SPLIT_HINT = ('write the labelled / unlabelled split with `python '
                   'tools/misc/split_coco.py --data-root <your COCO root> '
                   '--labeled-percent 10 --fold 1`')


class DataError(ValueError):
    """Bad or missing input data; the message names the file and what was
    expected."""


class ConfigError(ValueError):
    """A config names something that does not exist (a module path, an
    option); the message names the key and what to use instead."""


class TrainingError(RuntimeError):
    """Training cannot go on (a non-finite loss); the message says at which
    iteration, which term, and what to do."""


def hint_for(path) -> str:
    """What to do about a missing input file or folder: demo data are
    generated, a COCO split is written by the split tool, anything else is
    the user's data set."""
    path = str(path or '')
    if '_demo' in path:
        return DEMO_HINT
    if 'semi_anns' in path:
        return COCO_SPLIT_HINT
    return DATA_HINT


def check_dir(path, what, hint=None):
    """Raise a :class:`DataError` unless ``path`` is an existing directory."""
    if not path or not osp.isdir(path):
        raise DataError(f'{what} {path!r} does not exist: '
                        f'{hint or hint_for(path)}')


def check_file(path, what, hint=None):
    if not path or not osp.isfile(path):
        raise DataError(f'{what} {path!r} does not exist: '
                        f'{hint or hint_for(path)}')


def check_files_exist(paths, what, source, shown=3):
    """One :class:`DataError` listing the files of ``paths`` that do not
    exist (the first ``shown`` and how many), so a run does not find them
    one at a time, hours in, when its sampler first draws them."""
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        listed = ', '.join(missing[:shown])
        more = f' and {len(missing) - shown} more' if len(missing) > shown \
            else ''
        raise DataError(f'{len(missing)} of the {len(paths)} {what} listed in '
                        f'{source} do not exist: {listed}{more}')


def _last_line(msg):
    lines = [line for line in str(msg).splitlines() if line.strip()]
    return lines[-1] if lines else repr(msg)


@contextlib.contextmanager
def report_input_errors():
    """In command-line tools: print :class:`DataError`,
    :class:`ConfigError` and :class:`TrainingError` (also when raised in a
    dataloader worker or while a registry builds an object) as
    ``error: ...`` and exit with status 2.  Set ``MMKD_DEBUG=1`` to see the
    traceback."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 -- filtered below
        text = str(e)
        names = ('DataError', 'ConfigError', 'TrainingError')
        if os.environ.get('MMKD_DEBUG') or not (
                isinstance(e, (DataError, ConfigError, TrainingError))
                or any(f'{name}:' in text for name in names)):
            raise
        line = _last_line(text)
        for name in names:
            if line.startswith(f'mmkd.utils.errors.{name}: '):
                line = line[len(f'mmkd.utils.errors.{name}: '):]
        print(f'error: {line}', file=sys.stderr)
        sys.exit(2)
