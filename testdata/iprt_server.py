"""An IPRT-style echo server written without Go, at the path
RTLocalIpcServerCreate uses for a portable name.

usage: iprt_server.py NAME SIZE

Binds /tmp/.iprt-localipc-NAME (and fails, removing nothing, if anything is
already there), prints "READY pid" once it listens, accepts one client,
echoes SIZE bytes, closes, removes the socket file it made and prints
"DONE n".
"""
import os
import socket
import sys

PREFIX = "/tmp/.iprt-localipc-"  # RTLOCALIPC_POSIX_NAME_PREFIX


def main():
    name, size = sys.argv[1], int(sys.argv[2])
    path = PREFIX + name
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        srv.bind(path)
    except OSError as e:
        print(f"BIND FAILED {e}", flush=True)
        return 2
    left = size
    try:
        srv.listen(1)
        srv.settimeout(20)
        print(f"READY {os.getpid()}", flush=True)
        conn, _ = srv.accept()
        conn.settimeout(20)
        while left > 0:
            b = conn.recv(min(65536, left))
            if not b:
                break
            conn.sendall(b)
            left -= len(b)
        conn.close()
    finally:
        srv.close()
        os.unlink(path)
    print(f"DONE {size - left}", flush=True)
    return 0 if left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
