"""Article page speed: gunicorn (2 workers, loopback) serving an article page and a bare Flask route.

An instance with the bundled content is built in a temporary folder; then a bounded load generator
(threads + http.client, a fixed number of requests and a time limit) measures requests per second
for the bare route and for the largest bundled article, alternating so machine noise hits both.
Target: the article page reaches at least half the bare route's rate (it serves stored HTML with a
constant number of queries; a per-request Markdown render reaches about a twentieth).
Usage: python bench/articles.py [requests-per-round]
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

THREADS = 8
REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
TIME_LIMIT = 20.0  # seconds per round, whatever the request count
ROUNDS = 3
TARGET_RATIO = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env: dict) -> str:
    """Create the schema, import the bundled content and return the path of the largest article."""
    os.environ.update(env)
    from sqlalchemy import func, select

    from kb import create_app
    from kb.articles.cli import run_import
    from kb.articles.models import Article, ArticleStatus
    from kb.extensions import db

    app = create_app()
    with app.app_context():
        db.create_all()
        report = run_import(Path(app.config["CONTENT_DIR"]))
        if report.errors:
            raise SystemExit(f"bundled content has errors: {report.errors}")
        slug = db.session.scalar(
            select(Article.slug).where(Article.status == ArticleStatus.PUBLISHED)
            .order_by(func.length(Article.html).desc()).limit(1)
        )
        db.engine.dispose()
    return f"/articles/{slug}"


def get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_ready(port: int, proc: subprocess.Popen, deadline: float = 30.0) -> None:
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited early; see its output above")
        try:
            if get(port, "/__bench/bare") == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def load(port: int, path: str, total: int) -> tuple[float, int, int]:
    """Send up to ``total`` requests from THREADS threads, stopping at TIME_LIMIT; return (rate, done, errors)."""
    lock = threading.Lock()
    state = {"left": total, "done": 0, "errors": 0}
    stop_at = time.monotonic() + TIME_LIMIT

    def worker():
        while time.monotonic() < stop_at:
            with lock:
                if state["left"] <= 0:
                    return
                state["left"] -= 1
            try:
                ok = get(port, path) == 200
            except OSError:
                ok = False
            with lock:
                state["done"] += 1
                state["errors"] += 0 if ok else 1

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    return state["done"] / elapsed, state["done"], state["errors"]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kb-bench-articles-") as tmp:
        env = {
            "KB_ENV": "production",
            "KB_SECRET_KEY": secrets.token_hex(16),
            "KB_INSTANCE_PATH": tmp,
            "KB_DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "KB_INDEX_DIR": f"{tmp}/index",
            "KB_RATELIMIT_ENABLED": "false",
            "KB_MAIL_SERVER": "",
        }
        article = prepare(env)
        port = free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        proc = subprocess.Popen(
            [str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "--pythonpath", str(ROOT / "bench" / "support"), "articles_wsgi:app"],
            cwd=ROOT, env={**os.environ, **env},
        )
        try:
            wait_ready(port, proc)
            assert get(port, article) == 200, f"{article} did not answer 200"
            for path in ("/__bench/bare", article):
                load(port, path, 100)  # warm both workers
            rates = {"bare": [], "article": []}
            errors = 0
            for _ in range(ROUNDS):
                for name, path in (("bare", "/__bench/bare"), ("article", article)):
                    rate, _, failed = load(port, path, REQUESTS)
                    rates[name].append(rate)
                    errors += failed
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    bare = max(rates["bare"])
    page = max(rates["article"])
    ratio = page / bare
    print(f"gunicorn 2 workers, {THREADS} client threads, up to {REQUESTS} requests or {TIME_LIMIT:.0f} s per round, "
          f"best of {ROUNDS} rounds")
    print(f"bare Flask route      {bare:8.1f} requests/s")
    print(f"article page          {page:8.1f} requests/s   ({article})")
    print(f"ratio article / bare  {ratio:8.2f}   (target >= {TARGET_RATIO:.2f}: {'met' if ratio >= TARGET_RATIO else 'NOT met'})")
    if errors:
        print(f"{errors} requests failed")
        return 1
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
