"""Runs ``python tools/<x>.py ...`` for the tests without paying the imports
(torch, mmengine, mmdet, mmseg, MONAI: ~7 s) at every run.

conftest.run_tool starts one server per test process. The server imports
the libraries once, then forks one child per request: the child is a fresh
process as far as the tool can tell (its own pid, argv, environment,
working directory, stdout and stderr files, ``__name__ == '__main__'``) and
exits with the tool's exit status, as ``python tools/<x>.py`` would. The
server runs no torch operation before it forks, so no OpenMP thread pool is
copied into a child.

Protocol: one JSON request per line on stdin
``{"args": [...], "env": {...}, "cwd": ..., "stdout": path, "stderr": path,
"timeout": s}``, one JSON answer per line ``{"rc": n, "timed_out": bool}``.
"""
import atexit
import json
import logging
import os
import runpy
import signal
import sys
import time
import traceback


def preload():
    import cv2  # noqa: F401
    import mmdet.models  # noqa: F401
    import mmengine.runner  # noqa: F401
    import mmseg.models  # noqa: F401
    import monai.transforms  # noqa: F401
    import nibabel  # noqa: F401
    import pycocotools.coco  # noqa: F401
    import torch  # noqa: F401

    import mmkd  # noqa: F401


def exit_code(exc):
    """The status ``python script.py`` exits with after ``SystemExit``."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_child(request):
    """In the forked child: become ``python <args>`` and exit."""
    os.setpgid(0, 0)  # the server kills the group on a timeout
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for fd, key in ((1, 'stdout'), (2, 'stderr')):
        target = os.open(request[key], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    os.chdir(request['cwd'])
    os.environ.clear()
    os.environ.update(request['env'])
    script = request['args'][0]
    sys.argv = list(request['args'])
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    code = 0
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit as e:
        code = exit_code(e)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:  # what the interpreter does at exit: atexit handlers, log files
        atexit._run_exitfuncs()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def wait(pid, timeout):
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), False
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status), True
        time.sleep(delay)
        delay = min(0.1, delay * 2)


def main():
    answers = os.fdopen(os.dup(1), 'w')
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # nothing the libraries print reaches the answers
    preload()
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            answers.close()
            run_child(request)
        rc, timed_out = wait(pid, request['timeout'])
        answers.write(json.dumps(dict(rc=rc, timed_out=timed_out)) + '\n')
        answers.flush()


if __name__ == '__main__':
    main()
