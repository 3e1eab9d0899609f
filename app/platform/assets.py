"""Static files: compressed, cached for a year, behind content-hashed URLs (WhiteNoise).

Every static file a page can name — ours (``app/static``) and Flask-AppBuilder's
(``flask_appbuilder/static/appbuilder``) — is copied at start into a build folder
(``STATIC_BUILD_DIR``), compressed there once by WhiteNoise's own compressor (``.br``
Brotli and ``.gz`` beside each file) and served by the WhiteNoise WSGI middleware under
``/assets/<hash>/…`` with ``Cache-Control: public, max-age=31536000, immutable``.

``<hash>`` is the content hash of the file's *bundle*: Flask-AppBuilder's folder, each
vendored library (``app/static/vendor/<name>``), and the rest of ``app/static``. A
bundle keeps its folder layout, so the relative ``url()`` references inside a style
sheet (Font Awesome's fonts, Bootstrap's glyphs) resolve inside the same hashed folder
and need no rewriting; any change to a bundle's files gives all of them a new URL, and
the other bundles keep theirs (a new ``sentinel.css`` does not refetch jQuery).

Templates keep calling ``url_for('static', …)`` and ``url_for('appbuilder.static', …)``
(Flask-AppBuilder's templates do too): :class:`AssetFlask` answers those with the hashed
URL when the file is in the build, and with the plain (uncached) one otherwise. The
build is keyed by the hash of everything in it: a new release builds once (processes
starting together share one build), later starts only hash the sources.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from flask import Flask, current_app, has_request_context, request, send_from_directory

log = logging.getLogger(__name__)

URL_PREFIX = "/assets/"
CACHE_CONTROL = "public, max-age=31536000, immutable"
HASH_LENGTH = 12
STALE_BUILD_SECONDS = 7 * 24 * 3600  # older builds beside the current one are removed
# Brotli's best quality (11) costs ~3 s per MB here: kept for the style sheets and scripts
# every page loads (all small), quality 9 (~10x faster, ~5 % bigger) for the big ones
# (Swagger UI, ECharts). Fonts other than WOFF/WOFF2 are fallbacks no current browser
# fetches: copied, not compressed.
BEST_QUALITY_UP_TO = 128 * 1024
NOT_COMPRESSED = ("ttf", "eot", "otf")


@dataclass
class Bundle:
    """Files served under one hash: ``endpoint``'s files whose name starts with ``subfolder``."""

    endpoint: str  # "static" or "appbuilder.static"
    folder: Path  # the endpoint's static folder
    subfolder: str = ""  # "vendor/echarts/" for a vendored library, "" for the whole folder
    skip: Callable[[str], bool] = lambda name: False
    files: dict[str, bytes] = field(default_factory=dict)  # filename -> content hash
    digest: str = ""

    @property
    def tag(self) -> str:
        return "app" if self.endpoint == "static" else self.endpoint.split(".")[0]

    def scan(self) -> None:
        root = self.folder / self.subfolder
        total = hashlib.sha256()
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(self.folder).as_posix()
            if any(part.startswith(".") for part in name.split("/")) or self.skip(name):
                continue
            content_hash = hashlib.sha256(path.read_bytes()).digest()
            self.files[name] = content_hash
            total.update(name.encode() + b"\0" + content_hash)
        self.digest = total.hexdigest()[:HASH_LENGTH]

    def url(self, filename: str) -> str:
        return f"{URL_PREFIX}{self.digest}/{self.tag}/{filename}"

    def target(self, build: Path, filename: str) -> Path:
        return build / self.digest / self.tag / filename


def bundles(app: Flask) -> list[Bundle]:
    """Ours (each vendored library apart) and Flask-AppBuilder's."""
    ours = Path(app.static_folder)
    vendor = sorted(p.name for p in (ours / "vendor").iterdir() if p.is_dir()) if (ours / "vendor").is_dir() else []
    found = [Bundle("static", ours, skip=lambda name: name.startswith("vendor/"))]
    found += [Bundle("static", ours, f"vendor/{name}/") for name in vendor]
    fab = app.blueprints.get("appbuilder")
    if fab is not None and fab.static_folder:
        theme = app.config.get("APP_THEME") or ""
        found.append(Bundle(
            "appbuilder.static", Path(fab.static_folder),
            # the Bootswatch themes (2 MB) unless one is chosen; source maps are for debuggers
            skip=lambda name: name.endswith(".map") or (name.startswith("css/themes/") and name != f"css/themes/{theme}"),
        ))
    for bundle in found:
        bundle.scan()
    return found


def _build(build_root: Path, key: str, found: list[Bundle]) -> Path:
    """The build folder for ``key``: made (copied and compressed) unless it exists."""
    final = build_root / key
    if final.is_dir():
        return final
    build_root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    partial = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=build_root))
    try:
        compressor = _compressor()
        copied = []
        for bundle in found:
            for name in bundle.files:
                target = bundle.target(partial, name)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(bundle.folder / name, target)  # the owner's alone, like all of instance/
                if compressor.should_compress(name):
                    copied.append(str(target))
        with ThreadPoolExecutor(max_workers=2) as pool:  # Brotli lets go of the GIL
            list(pool.map(compressor.compress, copied))
        try:
            partial.rename(final)  # whole or not at all; another process may have won
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    log.info("static files built in %s (%.1f s)", final, time.monotonic() - started)
    _remove_stale(build_root, keep=key)
    return final


def _compressor():
    from whitenoise.compress import Compressor

    class SizedCompressor(Compressor):
        @staticmethod
        def compress_brotli(data: bytes) -> bytes:
            import brotli

            return brotli.compress(data, quality=11 if len(data) <= BEST_QUALITY_UP_TO else 9)

    return SizedCompressor(extensions=Compressor.SKIP_COMPRESS_EXTENSIONS + NOT_COMPRESSED, quiet=True)


def _remove_stale(build_root: Path, keep: str) -> None:
    cutoff = time.time() - STALE_BUILD_SECONDS
    for entry in build_root.iterdir():
        if entry.name != keep and entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)


class Assets:
    """The hashed URL of each built file, and the middleware that serves them."""

    def __init__(self, app: Flask):
        found = bundles(app)
        key = hashlib.sha256("".join(b.digest for b in found).encode()).hexdigest()[:HASH_LENGTH]
        self.root = _build(Path(app.config["STATIC_BUILD_DIR"]), key, found)
        self.urls: dict[tuple[str, str], str] = {
            (bundle.endpoint, name): bundle.url(name) for bundle in found for name in bundle.files
        }

    def url(self, endpoint: str, filename: Optional[str]) -> Optional[str]:
        return self.urls.get((endpoint, filename or ""))

    def middleware(self, wsgi_app):
        from whitenoise import WhiteNoise

        def headers(headers, path, url):
            headers["Cache-Control"] = CACHE_CONTROL
            headers["X-Content-Type-Options"] = "nosniff"

        return WhiteNoise(wsgi_app, root=str(self.root), prefix=URL_PREFIX, max_age=None,
                          allow_all_origins=False, add_headers_function=headers)


def _favicon():
    """For browsers that ask /favicon.ico without reading the page's <link rel="icon">."""
    return send_from_directory(current_app.static_folder, "img/favicon.ico", max_age=86400)


class AssetFlask(Flask):
    """Flask whose ``url_for`` names a static file by its hashed URL once the build exists."""

    assets: Optional[Assets] = None

    def url_for(self, endpoint: str, /, *, _anchor=None, _method=None, _scheme=None, _external=None,
                **values) -> str:
        plain = _anchor is None and _scheme is None and not _external and list(values) == ["filename"]
        if self.assets is not None and plain and endpoint in ("static", "appbuilder.static"):
            url = self.assets.url(endpoint, values["filename"])
            if url:
                return url
        return super().url_for(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme,
                               _external=_external, **values)


def fab_widgets() -> frozenset:
    """What this page's Flask-AppBuilder widgets need: ``select2`` on FAB's model views (list
    filters, relationship fields) and on form views with a Select2 field, ``datepicker``
    where a form or a filter has a date. Empty on our own pages (sentinel/baselayout.html
    loads FAB's list and form scripts only when this is not empty)."""
    if not has_request_context() or not request.blueprint:
        return frozenset()
    app = current_app._get_current_object()
    needs = app.extensions.get("sentinel_fab_widgets")
    if needs is None:
        needs = app.extensions["sentinel_fab_widgets"] = {
            view.blueprint.name: _widgets_of(view)
            for view in app.appbuilder.baseviews if getattr(view, "blueprint", None) is not None
        }
    return needs.get(request.blueprint, frozenset())


def _widgets_of(view) -> frozenset:
    from flask_appbuilder.baseviews import BaseCRUDView, BaseFormView
    from flask_appbuilder.fieldwidgets import (
        DatePickerWidget, DateTimePickerWidget, Select2AJAXWidget, Select2ManyWidget, Select2SlaveAJAXWidget,
        Select2Widget,
    )

    if isinstance(view, BaseCRUDView):
        columns = {*(view.add_columns or ()), *(view.edit_columns or ()), *(view.search_columns or ())}
        dated = any(view.datamodel.is_date(c) or view.datamodel.is_datetime(c) for c in columns)
        return frozenset({"select2", "datepicker"} if dated else {"select2"})
    if isinstance(view, BaseFormView) and view.form is not None:
        widgets = [getattr(field, "kwargs", {}).get("widget") for field in vars(view.form).values()]
        select2 = (Select2Widget, Select2ManyWidget, Select2AJAXWidget, Select2SlaveAJAXWidget)
        needs = {"select2"} if any(isinstance(w, select2) for w in widgets) else set()
        if any(isinstance(w, (DatePickerWidget, DateTimePickerWidget)) for w in widgets):
            needs.add("datepicker")
        return frozenset(needs | {"forms"})
    return frozenset()


def init_app(app: AssetFlask) -> None:
    """Build (once per content) and serve the static files; HTML stays uncached."""
    app.assets = Assets(app)
    app.wsgi_app = app.assets.middleware(app.wsgi_app)
    app.jinja_env.globals["fab_widgets"] = fab_widgets
    app.add_url_rule("/favicon.ico", "favicon", _favicon)

    @app.after_request
    def _html_not_cached(response):
        # pages are personal: never kept by a shared cache, always asked again
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-cache, private")
        return response
