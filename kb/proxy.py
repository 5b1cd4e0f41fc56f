"""Running behind a reverse proxy: whom to believe about the client, and where absolute URLs point.

Two rules hold here. The ``X-Forwarded-*`` headers are believed only for ``KB_PROXY_HOPS``
trusted proxies (0: never, so nobody picks their own rate-limit bucket). And ``KB_SITE_URL``,
when set, is the only source of absolute URLs: every ``url_for(..., _external=True)`` (mail,
feeds, sitemap, canonical links, API answers, commands run outside a request) starts with it,
whatever ``Host`` a request carried.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.globals import _cv_app, _cv_request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import MapAdapter

from kb.config import ConfigError


class SiteFlask(Flask):
    """Flask whose absolute URLs come from ``SITE_URL`` when it is set, never from the request."""

    _site_adapter: tuple[str, MapAdapter] | None = None
    _sync: dict | None = None
    _plain_urls: dict | None = None
    PLAIN_URLS = 1000  # at most this many remembered (endpoint, script root) paths

    def site_url_adapter(self) -> MapAdapter | None:
        site = self.config.get("SITE_URL")
        if not site:
            return None
        # Every request's app context asks for one: bind once per SITE_URL value.
        if self._site_adapter is None or self._site_adapter[0] != site:
            parts = urlsplit(site)
            self._site_adapter = (site, self.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                                          url_scheme=parts.scheme))
        return self._site_adapter[1]

    def ensure_sync(self, func):
        """Flask asks this of every hook and view on every request; the answer never changes for a function."""
        if self._sync is None:
            self._sync = {}
        try:
            return self._sync[func]
        except KeyError:
            wrapped = self._sync[func] = super().ensure_sync(func)
            return wrapped
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)

    def create_url_adapter(self, request) -> MapAdapter | None:
        # Outside a request (commands, the worker) URLs are built from SITE_URL instead of SERVER_NAME.
        if request is None and (adapter := self.site_url_adapter()) is not None:
            return adapter
        return super().create_url_adapter(request)

    def url_for(self, /, endpoint: str, *, _anchor=None, _method=None, _scheme=None, _external=None, **values) -> str:
        req_ctx = _cv_request.get(None)
        app_ctx = _cv_app.get(None)
        if req_ctx is None and app_ctx is not None and app_ctx.url_adapter is None:
            app_ctx.url_adapter = self.site_url_adapter()  # SITE_URL was set after the context began
        if req_ctx is not None and req_ctx.url_adapter is None:
            # The request named a Host outside TRUSTED_HOSTS (a 400 follows): its error page still needs links.
            trusted = self.config.get("TRUSTED_HOSTS") or ["localhost"]
            req_ctx.url_adapter = self.site_url_adapter() or self.url_map.bind(trusted[0].lstrip("."))
        external = _external if _external is not None else _scheme is not None
        if req_ctx is not None and not external and not values and _anchor is None and _method is None:
            return self._plain_url(endpoint, req_ctx.request)
        if req_ctx is None or not external or not self.config.get("SITE_URL"):
            return super().url_for(
                endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
            )
        # Build the path as usual (blueprint-relative endpoints, url_defaults), then put it under SITE_URL.
        path = super().url_for(endpoint, _anchor=_anchor, _method=_method, _external=False, **values)
        script_root = req_ctx.request.script_root
        if script_root and path.startswith(script_root):
            path = path[len(script_root):]
        return site_base(self, _scheme) + path

    def _plain_url(self, endpoint: str, request) -> str:
        """The path of an endpoint that takes no values (the header's and footer's links, a dozen on
        every page): built once per script root, since nothing else it depends on changes while the
        site runs (the one url_defaults hook, the static fingerprint, needs a filename)."""
        key = (endpoint, request.blueprint if endpoint.startswith(".") else None, request.script_root)
        if self._plain_urls is None or len(self._plain_urls) >= self.PLAIN_URLS:
            self._plain_urls = {}
        path = self._plain_urls.get(key)
        if path is None:
            path = self._plain_urls[key] = super().url_for(endpoint)
        return path


def site_base(app: Flask, scheme: str | None = None) -> str:
    """SITE_URL without its trailing slash, optionally with another scheme."""
    site = app.config["SITE_URL"].rstrip("/")
    if scheme:
        site = f"{scheme}://{site.split('://', 1)[1]}"
    return site


def absolute_url(path: str) -> str:
    """A root-relative URL made absolute: on SITE_URL's origin when set, else the request's."""
    if path.startswith(("http://", "https://")):
        return path
    base = current_app.config.get("SITE_URL") or request.host_url
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}{path}"


def site_host(site_url: str) -> str | None:
    return urlsplit(site_url).hostname if site_url else None


def finalize_proxy_config(config) -> None:
    """Check KB_SITE_URL and KB_PROXY_HOPS; derive Flask's TRUSTED_HOSTS from KB_TRUSTED_HOSTS."""
    site = (config.get("SITE_URL") or "").strip()
    if site:
        parts = urlsplit(site)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"KB_SITE_URL must look like https://support.example.com, not {site!r}.")
    config["SITE_URL"] = site
    try:
        hops = int(config.get("PROXY_HOPS") or 0)
    except (TypeError, ValueError):
        raise ConfigError(f"KB_PROXY_HOPS must be a whole number of proxies, not {config.get('PROXY_HOPS')!r}.") from None
    if hops < 0:
        raise ConfigError("KB_PROXY_HOPS cannot be negative.")
    config["PROXY_HOPS"] = hops
    trusted = config.get("TRUSTED_HOSTS")
    if isinstance(trusted, str):  # KB_TRUSTED_HOSTS may be a JSON list or "a.example,b.example"
        trusted = [host.strip() for host in trusted.split(",") if host.strip()]
    if not trusted and site:
        trusted = [site_host(site)]
    config["TRUSTED_HOSTS"] = list(trusted) if trusted else None


def register_proxy(app: Flask) -> None:
    """Believe X-Forwarded-* from KB_PROXY_HOPS proxies; warn when production has no KB_SITE_URL."""
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    if app.config["ENV"] == "production" and not app.testing and not app.config["SITE_URL"]:
        app.logger.warning(
            "KB_SITE_URL is not set: links in mail, feeds and the sitemap will use whatever Host a request "
            "names, so a forged Host can put a stranger's address in a password-reset mail. Set "
            "KB_SITE_URL=https://your-support-site.example."
        )
