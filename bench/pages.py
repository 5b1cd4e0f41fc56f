"""Page speed against a bare Flask "hello world" on the same gunicorn, and a spike run.

An instance is built in a temporary folder (SQLite, the bundled articles and forum categories, a
thread with 20 replies, a case with 20 comments, the search index). gunicorn serves the site and a
bare Flask app side by side (bench/support/pages_wsgi.py); wrk (Debian's ``wrk``; the threaded
http.client generator of bench/articles.py when it is missing) loads each page in short rounds
alternating with the bare route, and prints the best page round as a ratio of the best bare round.
Targets (2 workers): anonymous pages but search >= 0.4, a repeated search >= 0.3, distinct
searches >= 0.1, signed-in thread and case pages >= 0.1, the trivial /robots.txt >= 0.7. Then the
spike: 4 workers, 200 connections for 10 s on one article and one thread: no error, p99 < 500 ms.
Rate limits are off for the load (KB_RATELIMIT_ENABLED=false).
Usage: python bench/pages.py [seconds-per-round]
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
ROUNDS = 3
CONNECTIONS = 16
SPIKE_CONNECTIONS, SPIKE_SECONDS, SPIKE_P99_MS = 200, 10, 500.0
# Sign-in and load send the same browser name: a session used from another browser is marked not
# fresh, and its cookie rewritten, on every request (Flask-Login's session protection).
USER_AGENT = "kb-bench"
WORDS = ("replication", "journal", "rpo", "bandwidth", "firewall", "ports", "vpg", "failover", "recovery",
         "checkpoint", "vm", "site", "license", "upgrade", "alarm", "network", "storage", "retention",
         "throttling", "test", "latency", "snapshot", "volume", "datastore", "agent", "certificate")


def prepare(env: dict) -> dict:
    """Build the instance; return the paths to load and the session cookies of a signed-in customer and staff."""
    os.environ.update(env)
    init = subprocess.run([str(Path(sys.executable).with_name("kb")), "init"], env={**os.environ, **env},
                          capture_output=True, text=True)
    if init.returncode:
        raise SystemExit(f"kb init failed:\n{init.stdout}\n{init.stderr}")
    from sqlalchemy import func, select

    from kb import create_app
    from kb.accounts.models import Plan, Role
    from kb.accounts.users import create_organization, create_user
    from kb.articles.models import Article, ArticleStatus
    from kb.cases import actions
    from kb.extensions import db
    from kb.forums import threads
    from kb.forums.models import ForumCategory
    from kb.search import indexing

    app = create_app()
    password = secrets.token_hex(12)
    with app.app_context():
        org = create_organization("Bench Corp", Plan.PREMIUM, "UTC")
        customer = create_user("bench@bench.example", password, role=Role.CUSTOMER, organization=org, display_name="Bench")
        staff = create_user("staff@support.example", password, role=Role.STAFF, display_name="Sam Staff")
        db.session.commit()
        category = db.session.scalars(select(ForumCategory).order_by(ForumCategory.id)).first()
        thread = threads.create_thread(category, customer, "RPO alarm after adding a VM", "What does it mean?", [])
        for number in range(20):
            threads.add_reply(thread, staff if number % 2 else customer, f"Reply {number}: grow the journal.")
        case = actions.open_case(customer, title="Replication to site B stopped", description="Since 10:00.",
                                 severity=2)
        for number in range(20):
            actions.add_comment(case, staff if number % 2 else customer, f"Comment {number}")
        db.session.commit()
        indexing.drain(app)
        article = db.session.scalar(select(Article.slug).where(Article.status == ArticleStatus.PUBLISHED)
                                    .order_by(func.length(Article.html).desc()).limit(1))
        paths = {"thread": f"/threads/{thread.id}", "case": f"/cases/{case.number}", "article": f"/articles/{article}",
                 "forum_category": f"/forums/{category.slug}/"}
        emails = {"customer": customer.email, "staff": staff.email}
        db.engine.dispose()
    cookies = {}
    for who, email in emails.items():  # outside any app context: each request gets its own g
        client = app.test_client()
        site = "http://127.0.0.1"  # the only trusted host
        browser = {"User-Agent": USER_AGENT}
        page = client.get("/login", base_url=site, headers=browser).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post("/login", base_url=site, headers=browser,
                               data={"email": email, "password": password, "csrf_token": token})
        assert response.status_code == 302, f"could not sign in {who}: {response.status_code}"
        cookies[who] = f"session={client.get_cookie('session', domain='127.0.0.1').value}"
    with app.app_context():
        db.engine.dispose()
    return {"paths": paths, "cookies": cookies}


def start(env: dict, workers: int, port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--backlog", "2048", "--pythonpath", str(ROOT / "bench" / "support"), "pages_wsgi:app"],
        cwd=ROOT, env={**os.environ, **env},
    )
    from articles import get

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited early; see its output above")
        try:
            if get(port, "/__hello") == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


DISTINCT_LUA = """
-- Every request of every wrk thread asks a query no other request asked (three words, in turn).
local words = {%s}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 100000)
end
local n = 0
function request()
  n = n + 1
  local k = n + offset
  local w = #words
  local a, b, c = words[k %% w + 1], words[math.floor(k / w) %% w + 1], words[math.floor(k / (w * w)) %% w + 1]
  return wrk.format("GET", "/search?q=" .. a .. "+" .. b .. "+" .. c)
end
"""


def wrk(port: int, path: str, seconds: int, connections: int, cookie: str | None = None,
        script: str | None = None) -> dict:
    """Requests/s, p99 in ms and the failed requests (socket errors, non-2xx) of one wrk run."""
    command = ["wrk", f"-t{min(4, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
               "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)] if p99 else float("nan")
    failed = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": rate, "p99_ms": p99_ms, "failed": failed + (int(non2xx.group(1)) if non2xx else 0)}


def python_load(port: int, path: str, seconds: int, connections: int, cookie: str | None = None,
                script: str | None = None) -> dict:
    """The fallback without wrk: bench/articles.py's threaded generator (no cookies, no latency percentiles)."""
    import articles

    articles.TIME_LIMIT, articles.THREADS = float(seconds), min(connections, 16)
    if cookie or script:
        return {"rate": float("nan"), "p99_ms": float("nan"), "failed": 0}
    rate, _, errors = articles.load(port, path, 10**9)
    return {"rate": rate, "p99_ms": float("nan"), "failed": errors}


def best(runs: list[dict]) -> dict:
    """The fastest round, with the failures of every round."""
    top = max(runs, key=lambda run: run["rate"])
    return {**top, "failed": sum(run["failed"] for run in runs)}


def main() -> int:
    from articles import free_port

    load = wrk if shutil.which("wrk") else python_load
    if load is python_load:
        print("wrk not found (apt-get install wrk): using the Python load generator; signed-in, distinct-search "
              "and latency figures need wrk")
    results, spike = [], []
    with tempfile.TemporaryDirectory(prefix="kb-bench-pages-") as tmp:
        env = {
            "KB_ENV": "production", "KB_SECRET_KEY": secrets.token_hex(16), "KB_INSTANCE_PATH": tmp,
            "KB_DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "KB_INDEX_DIR": f"{tmp}/index",
            "KB_SITE_URL": "http://127.0.0.1", "KB_TRUSTED_HOSTS": "127.0.0.1",
            "KB_RATELIMIT_ENABLED": "false", "KB_MAIL_SERVER": "",
        }
        setup = prepare(env)
        paths, cookies = setup["paths"], setup["cookies"]
        script = Path(tmp) / "distinct.lua"
        script.write_text(DISTINCT_LUA % ", ".join(f'"{w}"' for w in WORDS))
        pages = [
            ("robots.txt", "/robots.txt", None, None, 0.7),
            ("home", "/", None, None, 0.4),
            ("article", paths["article"], None, None, 0.4),
            ("forum index", "/forums/", None, None, 0.4),
            ("forum category", paths["forum_category"], None, None, 0.4),
            ("thread, 20 replies", paths["thread"], None, None, 0.4),
            ("severity guide", "/severity", None, None, 0.4),
            ("search, repeated query", "/search?q=replication+journal", None, None, 0.3),
            ("search, distinct queries", "/search", None, str(script), 0.1),
            ("signed-in thread", paths["thread"], cookies["customer"], None, 0.1),
            ("signed-in case (customer)", paths["case"], cookies["customer"], None, 0.1),
            ("signed-in case (staff)", paths["case"], cookies["staff"], None, 0.1),
        ]
        port = free_port()
        proc = start(env, 2, port)
        try:
            for _, path, cookie, lua, _ in pages:
                load(port, path, 1, 4, cookie, lua)  # warm every worker's caches
            for name, path, cookie, lua, target in pages:
                # Short alternating rounds, best of each: other load on the machine hits both alike.
                bare, page = [], []
                for _ in range(ROUNDS):
                    bare.append(load(port, "/__hello", SECONDS, CONNECTIONS))
                    page.append(load(port, path, SECONDS, CONNECTIONS, cookie, lua))
                results.append((name, best(bare), best(page), target))
        finally:
            stop(proc)
        proc = start(env, 4, port)
        try:
            for name, path in (("article", paths["article"]), ("thread, 20 replies", paths["thread"])):
                load(port, path, 1, 8)
                spike.append((name, load(port, path, SPIKE_SECONDS, SPIKE_CONNECTIONS)))
        finally:
            stop(proc)
    print(f"gunicorn 2 sync workers, {'wrk' if load is wrk else 'Python generator'}, {CONNECTIONS} connections; "
          f"per page {ROUNDS} rounds of {SECONDS} s of the bare Flask hello-world then {SECONDS} s of the page, "
          "best round of each; visitors send no cookie (every request a new visitor)")
    print(f"{'page':28} {'hello/s':>9} {'page/s':>9} {'ratio':>6} {'target':>7}  result   p99")
    ok = True
    for name, bare, page, target in results:
        ratio = page["rate"] / bare["rate"]
        met = ratio >= target and not page["failed"]
        ok &= met
        print(f"{name:28} {bare['rate']:9.0f} {page['rate']:9.0f} {ratio:6.2f} {target:7.2f}  "
              f"{'met' if met else 'NOT met':7} {page['p99_ms']:6.1f} ms" + (f"  {page['failed']} failed" if page["failed"] else ""))
    print(f"spike: gunicorn 4 workers, {SPIKE_CONNECTIONS} connections for {SPIKE_SECONDS} s "
          f"(target: no error, p99 < {SPIKE_P99_MS:.0f} ms)")
    for name, run in spike:
        met = not run["failed"] and run["p99_ms"] < SPIKE_P99_MS
        ok &= met
        print(f"  {name:26} {run['rate']:8.0f} requests/s  p99 {run['p99_ms']:6.1f} ms  errors {run['failed']}  "
              f"{'met' if met else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
