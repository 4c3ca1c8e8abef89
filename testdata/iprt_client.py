"""An IPRT-style client written without Go: it finds the server the way
RTLocalIpcSessionConnect does, from the portable name alone.

usage: iprt_client.py NAME SIZE

Connects to /tmp/.iprt-localipc-NAME, prints the server's SO_PEERCRED as
"PEERCRED pid uid gid", sends SIZE bytes of bytes(range(256)) repeated, then
reads until the server closes and prints "ECHO OK n" if it got exactly what
it sent (anything else: a diagnostic and exit status 1).
"""
import socket
import struct
import sys

PREFIX = "/tmp/.iprt-localipc-"  # RTLOCALIPC_POSIX_NAME_PREFIX


def main():
    name, size = sys.argv[1], int(sys.argv[2])
    payload = (bytes(range(256)) * (size // 256 + 1))[:size]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(PREFIX + name)
    cred = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", cred)
    print(f"PEERCRED {pid} {uid} {gid}", flush=True)
    # No half-close, as IPRT peers never do one: the server knows the size.
    s.sendall(payload)
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            break
        chunks.append(b)
    s.close()
    got = b"".join(chunks)
    if got != payload:
        first = next((i for i, (a, b) in enumerate(zip(got, payload)) if a != b), min(len(got), len(payload)))
        print(f"ECHO MISMATCH got {len(got)} bytes, sent {len(payload)}, first difference at {first}", flush=True)
        return 1
    print(f"ECHO OK {len(got)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
