"""Input errors that reach the user as one clear line, not a traceback."""
import contextlib
import os
import os.path as osp
import sys

DEMO_HINT = ('generate the demo data with `python tools/make_demo_data.py` '
             'or point the config\'s data_root at your data set')


class DataError(ValueError):
    """Bad or missing input data; the message names the file and what was
    expected."""


def check_dir(path, what, hint=DEMO_HINT):
    """Raise a :class:`DataError` unless ``path`` is an existing directory."""
    if not path or not osp.isdir(path):
        raise DataError(f'{what} {path!r} does not exist: {hint}')


def check_file(path, what, hint=DEMO_HINT):
    if not path or not osp.isfile(path):
        raise DataError(f'{what} {path!r} does not exist: {hint}')


def _last_line(msg):
    lines = [line for line in str(msg).splitlines() if line.strip()]
    return lines[-1] if lines else repr(msg)


@contextlib.contextmanager
def report_input_errors():
    """In command-line tools: print :class:`DataError` (also when raised in a
    dataloader worker) as ``error: ...`` and exit with status 2.  Set
    ``MMKD_DEBUG=1`` to see the traceback."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 -- filtered below
        text = str(e)
        if os.environ.get('MMKD_DEBUG') or not (
                isinstance(e, DataError) or 'DataError:' in text):
            raise
        line = _last_line(text)
        if line.startswith('mmkd.utils.errors.DataError: '):
            line = line[len('mmkd.utils.errors.DataError: '):]
        print(f'error: {line}', file=sys.stderr)
        sys.exit(2)
