"""Runs ``python tools/<x>.py ...`` for the tests without paying the imports
(torch, mmengine, mmdet, mmseg, MONAI: ~7 s) at every run.

conftest starts one server per test process. The server imports the
libraries once, then forks one child per request: the child is a fresh
process as far as the tool can tell (its own pid, argv, environment,
working directory, stdin / stdout / stderr, ``__name__ == '__main__'``) and
exits with the tool's exit status, as ``python tools/<x>.py`` would. The
server runs no torch operation before it forks, so no OpenMP thread pool is
copied into a child.

Protocol, on the Unix socket named by the first argument (the server
prints ``ready`` once it listens): one connection per run; the client sends
``{"args": [...], "env": {...}, "cwd": ..., "timeout": s}`` with its three
standard file descriptors attached (``socket.send_fds``), and reads back
``{"rc": n, "timed_out": bool}``. ``tests/python_shim.py`` is such a client
that stands in for ``python`` in the docs pages' commands.
"""
import atexit
import json
import logging
import os
import runpy
import signal
import socket
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


def run_child(request, fds):
    """In the forked child: become ``python <args>`` and exit."""
    os.setpgid(0, 0)  # the server kills the group on a timeout
    for fd, received in enumerate(fds):
        os.dup2(received, fd)
        os.close(received)
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


def receive(conn):
    data, fds = b'', []
    while not data.endswith(b'\n'):
        chunk, got, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        if not chunk:
            raise ConnectionError('the client left before its request')
        data += chunk
        fds += got
    return json.loads(data), fds


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
    preload()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sys.argv[1])
    server.listen()
    print('ready', flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            try:
                request, fds = receive(conn)
            except (ConnectionError, ValueError):
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                server.close()
                conn.close()
                run_child(request, fds)
            for fd in fds:
                os.close(fd)
            rc, timed_out = wait(pid, request.get('timeout', 3600))
            try:
                conn.sendall(json.dumps(dict(
                    rc=rc, timed_out=timed_out)).encode() + b'\n')
            except OSError:
                pass


if __name__ == '__main__':
    main()
