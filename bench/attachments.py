"""Upload and download a 200 MiB file through a real server process, streamed, on each storage backend.

Starts gunicorn (one sync worker) on a free port with a fresh SQLite site, sends the file to
``POST /api/v1/cases/<n>/attachments`` as multipart in 1 MiB pieces, downloads it again from the
file's API address, checks its SHA-256 both ways, and samples the worker's resident memory (VmRSS)
every 20 ms. Prints the throughput each way and the worker's peak RSS growth over its warmed-up
size. Target: growth < 64 MiB.
Usage: python bench/attachments.py [size in MiB, default 200]
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
TARGET_GROWTH_MIB = 64
BOUNDARY = "benchboundary7d1f3a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_of(master: int, deadline: float) -> int:
    while time.time() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise RuntimeError("gunicorn started no worker")


class PeakSampler(threading.Thread):
    """The largest VmRSS of one process seen since start (or the last reset)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)


def seed(env: dict) -> tuple[int, str]:
    """A site with one organisation, one customer, one case and an API token; returns (case number, token)."""
    os.environ.update(env)
    from kb import create_app
    from kb.accounts.models import Plan, Role
    from kb.accounts.tokens import create_api_token
    from kb.accounts.users import create_organization, create_user
    from kb.cases.actions import open_case
    from kb.extensions import db

    app = create_app()
    with app.app_context():
        db.create_all()
        org = create_organization("Bench Corp", Plan("standard"), "UTC")
        user = create_user("ops@bench.example", "correct horse battery staple", display_name="Bench Ops",
                           role=Role.CUSTOMER, organization=org)
        db.session.commit()
        case = open_case(user, title="Log bundle", description="Attached.", severity=3)
        _, token = create_api_token(user, "bench")
        db.session.commit()
        number = case.number
        db.engine.dispose()
    for key in env:
        os.environ.pop(key, None)
    return number, token


def upload(port: int, number: int, token: str, size: int, block: bytes) -> tuple[dict, str, float]:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"bundle.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.putrequest("POST", f"/api/v1/cases/{number}/attachments")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    digest = hashlib.sha256()
    started = time.perf_counter()
    conn.send(head)
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        digest.update(piece)
        conn.send(piece)
        sent += len(piece)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 201:
        raise RuntimeError(f"upload answered {response.status}: {body[:300]!r}")
    return json.loads(body)["attachments"][0], digest.hexdigest(), elapsed


def download(port: int, url: str, token: str) -> tuple[int, str, float]:
    path = url.split("://", 1)[-1]
    path = path[path.index("/"):]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"download answered {response.status}")
    digest, received = hashlib.sha256(), 0
    while True:
        piece = response.read(MIB)
        if not piece:
            break
        digest.update(piece)
        received += len(piece)
    elapsed = time.perf_counter() - started
    conn.close()
    return received, digest.hexdigest(), elapsed


def run(storage: str, size: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="kb-bench-attach-") as folder:
        env = {
            "KB_ENV": "development", "KB_SECRET_KEY": "bench", "KB_INSTANCE_PATH": folder,
            "KB_DATABASE_URL": f"sqlite:///{folder}/kb.sqlite3", "KB_INDEX_DIR": f"{folder}/index",
            "KB_ATTACHMENT_STORAGE": storage, "KB_RATELIMIT_ENABLED": "false", "KB_LOG_FORMAT": "text",
        }
        number, token = seed(env)
        port = free_port()
        server_env = {**os.environ, **env, "TMPDIR": folder}  # Werkzeug spools uploads to TMPDIR
        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen(
            [str(gunicorn), "--workers", "1", "--bind", f"127.0.0.1:{port}", "--timeout", "600",
             "--log-level", "warning", "kb:create_app()"],
            cwd=str(ROOT), env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            worker = worker_of(server.pid, time.time() + 30)
            for _ in range(200):  # warm up: the app is imported and the first request served
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.request("GET", f"/api/v1/cases/{number}", headers={"Authorization": f"Bearer {token}"})
                    conn.getresponse().read()
                    conn.close()
                    break
                except OSError:
                    time.sleep(0.1)
            baseline = rss_kib(worker)
            sampler = PeakSampler(worker)
            sampler.start()
            block = os.urandom(MIB)
            made, sent_hash, up_seconds = upload(port, number, token, size, block)
            up_peak = sampler.peak
            sampler.peak = 0
            received, got_hash, down_seconds = download(port, made["url"], token)
            down_peak = sampler.peak
            sampler.running = False
        finally:
            server.terminate()
            server.wait(timeout=30)
    ok = made["sha256"] == sent_hash == got_hash and received == size
    growth = (max(up_peak, down_peak) - baseline) / 1024
    mib = size / MIB
    print(f"{storage:>10}: upload {mib:.0f} MiB in {up_seconds:.1f} s ({mib / up_seconds:.0f} MiB/s), "
          f"download in {down_seconds:.1f} s ({mib / down_seconds:.0f} MiB/s); worker RSS {baseline / 1024:.0f} MiB "
          f"at rest, peak growth {(up_peak - baseline) / 1024:.1f} MiB uploading, "
          f"{(down_peak - baseline) / 1024:.1f} MiB downloading; SHA-256 {'matches' if ok else 'DIFFERS'}")
    return ok and growth < TARGET_GROWTH_MIB


def main() -> int:
    size = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 200 * MIB
    results = [run(storage, size) for storage in ("filesystem", "database")]
    print(f"target: peak RSS growth < {TARGET_GROWTH_MIB} MiB per worker -> {'met' if all(results) else 'NOT met'}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
