"""The wheel is the product: the README's production recipe, run as written, serves the site from gunicorn."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, _free_port

CHECKOUT = Path(__file__).resolve().parent.parent
RECIPE_MARK = "<!-- production-recipe:"


def production_recipe() -> list[str]:
    """The shell lines of the README's production recipe (the fenced block after the marker)."""
    readme = (CHECKOUT / "README.md").read_text()
    after = readme[readme.index(RECIPE_MARK):]
    block = re.search(r"```sh\n(.*?)```", after, re.DOTALL).group(1)
    return [line for line in block.splitlines() if line.strip()]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
@pytest.mark.skipif(bool(POSTGRES_URL), reason="the recipe runs once per CI run, in the SQLite pass (about a minute)")
def test_readme_recipe_installs_the_wheel_outside_the_checkout_and_serves_the_site(tmp_path):
    port = _free_port()
    home, instance = tmp_path / "opt-kb", tmp_path / "var-lib-kb"
    # What the test changes in the recipe: where things go, and services that exist only in production.
    replacements = {
        "/opt/kb": str(home),
        "/path/to/checkout": str(CHECKOUT),
        "/var/lib/kb": str(instance),
        "postgresql+psycopg://kb@db.internal/kb": f"sqlite:///{tmp_path / 'kb.sqlite3'}",
        "redis://127.0.0.1:6379/0": "redis://127.0.0.1:6379/4",
        "https://support.example.com": f"http://127.0.0.1:{port}",
        "KB_MAIL_SERVER=smtp.internal": "KB_MAIL_SERVER=",
        "--workers 4": "--workers 2",
        "127.0.0.1:8000": f"127.0.0.1:{port}",
    }
    script = "\n".join(production_recipe())
    for old, new in replacements.items():
        assert old in script, f"the README recipe no longer contains {old!r}; update this test with it"
        script = script.replace(old, new)
    lines = script.splitlines()
    assert lines[-1].startswith(f"{home}/venv/bin/gunicorn ")
    lines[-1] = "exec " + lines[-1]  # so stopping the script stops gunicorn
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KB_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    log = tmp_path / "recipe.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, f"the recipe stopped early:\n{log.read_text()[-4000:]}"
            try:
                if _get(base + "/healthz") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"the site did not come up:\n{log.read_text()[-4000:]}"
            time.sleep(1)
        text = log.read_text()
        assert "The site is ready." in text
        site_packages = next((home / "venv" / "lib").glob("python*/site-packages"))
        assert (site_packages / "kb" / "_bundle" / "templates" / "base.html").is_file()
        for path in ("/", "/articles/network-ports-reference", "/forums/getting-started/", "/static/css/site.css"):
            assert _get(base + path) == 200, path
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
