"""``python`` for the docs pages' commands (tests/test_docs_commands.py):
``python tools/<x>.py ...`` runs as a child of the test process's tool
server (tests/tool_server.py: the libraries imported once), anything else
runs in the real interpreter, named by ``MMKD_REAL_PYTHON``."""
import json
import os
import socket
import sys


def main():
    args = sys.argv[1:]
    server = os.environ.get('MMKD_TOOL_SERVER')
    if not (server and args and args[0].startswith('tools/')
            and args[0].endswith('.py')):
        real = os.environ['MMKD_REAL_PYTHON']
        os.execv(real, [real, *args])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(server)
        request = dict(args=args, env=dict(os.environ), cwd=os.getcwd(),
                       timeout=3600)
        socket.send_fds(conn, [json.dumps(request).encode() + b'\n'],
                        [0, 1, 2])
        answer = b''
        while not answer.endswith(b'\n'):
            chunk = conn.recv(4096)
            if not chunk:
                sys.exit('the tool server stopped')
            answer += chunk
    rc = json.loads(answer)['rc']
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == '__main__':
    main()
