#!/usr/bin/env python3
"""startup.py TARN_BIN DATA_DIR [RUNS] [PORT]

Starts TARN_BIN on 127.0.0.1:PORT with DATA_DIR, RUNS times, and reports how
long each took from spawning the process to the first answered request (a
signed-looking ListTables over a fresh connection, retried every 0.2 ms until
it answers 200). The server is stopped by its pid after each run. DATA_DIR is
kept between runs: an empty one measures a cold start, a loaded one a
restart with recovery.
"""
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

BODY = b"{}"
REQUEST = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\n"
    b"X-Amz-Target: DynamoDB_20120810.ListTables\r\n"
    b"Authorization: AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/dynamodb/aws4_request, "
    b"SignedHeaders=host, Signature=0\r\n"
    b"Content-Length: 2\r\nConnection: close\r\n\r\n" + BODY
)


def first_answer(port, deadline):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(REQUEST)
                reply = s.recv(64)
                if reply.startswith(b"HTTP/1.1 200"):
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.0002)
    raise SystemExit("no answer within the deadline")


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    binary, data = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    port = int(sys.argv[4]) if len(sys.argv) > 4 else 8797
    times = []
    for _ in range(runs):
        start = time.monotonic()
        proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", str(port), "--data-dir", data],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            times.append((first_answer(port, start + 60) - start) * 1000)
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    times.sort()
    print(
        f"{runs} starts: min {times[0]:.1f} ms, median {statistics.median(times):.1f} ms, "
        f"max {times[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
