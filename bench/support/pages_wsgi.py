"""The page bench's WSGI app: the real site, and beside it a bare Flask "hello world" app.

Only bench/pages.py uses this module. ``/__hello`` goes to a separate, bare Flask app (no hooks,
no session, no extensions), so the ratio of a site page to it is the site's whole cost per request
on the same gunicorn and interpreter; everything else goes to the site.
"""

from __future__ import annotations

from flask import Flask

from kb import create_app

site = create_app()
hello = Flask("hello")


@hello.route("/__hello")
def hello_world():
    return "Hello, World!"


def app(environ, start_response):
    target = hello if environ.get("PATH_INFO") == "/__hello" else site
    return target.wsgi_app(environ, start_response)
