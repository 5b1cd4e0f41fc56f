"""Static URLs carry a content fingerprint, so nginx can cache /static/ for a year."""

from __future__ import annotations

import os
import re

from flask import url_for


def test_static_links_carry_a_fingerprint(app):
    page = app.test_client().get("/").get_data(as_text=True)
    link = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]{10})"', page)
    assert link, "the stylesheet link has no version"
    assert app.test_client().get(link.group(1)).status_code == 200


def test_the_fingerprint_changes_when_the_file_does(app, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "x.css").write_text("a{}")
    with app.test_request_context():
        first = url_for("static", filename="x.css")
        (tmp_path / "x.css").write_text("b{color:red}")
        os.utime(tmp_path / "x.css", ns=(1, 2))
        second = url_for("static", filename="x.css")
        assert url_for("static", filename="../etc/passwd") == "/static/../etc/passwd"  # nothing read outside
    assert first != second and first.startswith("/static/x.css?v=")
