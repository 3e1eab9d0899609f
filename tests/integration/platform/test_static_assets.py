"""Static files (issue 13, page weight; app/platform/assets.py): pages name them by
content-hashed URLs that are compressed and cached for a year; pages themselves are not
cached; ECharts only on chart pages, Select2 and the date picker only on FAB's own form
and list pages; a favicon."""
from __future__ import annotations

import re
from urllib.parse import urljoin

from tests.conftest import login

ASSET = re.compile(r'(?:href|src)="(/assets/[^"]+)"')


def asset_urls(html: str) -> list[str]:
    return ASSET.findall(html)


def test_pages_name_static_files_by_hashed_urls_cached_for_a_year(app, client):
    """Every script and style of the login page is a hashed /assets/ URL: 200, compressed
    when the browser accepts it, public, a year, immutable; none is left on plain /static/."""
    html = client.get("/login/").get_data(as_text=True)
    urls = asset_urls(html)
    assert any(u.endswith("/appbuilder/css/bootstrap.min.css") for u in urls), urls
    assert any(u.endswith("/app/css/sentinel.css") for u in urls), urls
    assert not re.search(r'(?:href|src)="/static/', html)
    for url in urls:
        response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if url.endswith((".css", ".js")) and int(response.headers["Content-Length"]) > 1024:
            assert response.headers.get("Content-Encoding") == "br", url
            assert "Accept-Encoding" in response.headers.get("Vary", ""), url
    bootstrap = next(u for u in urls if u.endswith("bootstrap.min.css"))
    gzip_only = client.get(bootstrap, headers={"Accept-Encoding": "gzip"})
    assert gzip_only.headers.get("Content-Encoding") == "gzip"
    plain = client.get(bootstrap)
    assert "Content-Encoding" not in plain.headers and plain.data.startswith(b"/*")


def test_a_changed_file_gets_a_new_url(app, tmp_path):
    """The hash in the URL is the content's: another build of other content names the file differently."""
    from app.platform.assets import Bundle

    folder = tmp_path / "static"
    (folder / "css").mkdir(parents=True)
    (folder / "css" / "a.css").write_text("a { color: red }")
    first = Bundle("static", folder)
    first.scan()
    (folder / "css" / "a.css").write_text("a { color: blue }")
    second = Bundle("static", folder)
    second.scan()
    assert first.url("css/a.css") != second.url("css/a.css")
    assert re.fullmatch(r"/assets/[0-9a-f]{12}/app/css/a\.css", second.url("css/a.css"))


def test_a_build_holds_each_file_with_its_compressed_copies(tmp_path):
    """Built once per key: the file, its Brotli and gzip copies (when they are smaller), nothing
    for a font; a second build of the same key reuses the folder."""
    import gzip

    import brotli

    from app.platform.assets import Bundle, _build

    folder = tmp_path / "static"
    (folder / "js").mkdir(parents=True)
    script = "function f(a) { return a + 1; }\n" * 200
    (folder / "js" / "a.js").write_text(script)
    (folder / "js" / "b.woff2").write_bytes(b"wOF2" + bytes(range(256)))
    bundle = Bundle("static", folder)
    bundle.scan()
    root = _build(tmp_path / "build", "key", [bundle])
    built = root / bundle.digest / "app" / "js"
    assert brotli.decompress((built / "a.js.br").read_bytes()).decode() == script
    assert gzip.decompress((built / "a.js.gz").read_bytes()).decode() == script
    assert (built / "b.woff2").exists() and not (built / "b.woff2.br").exists()
    (built / "a.js").write_text("changed")  # not rebuilt: the key names the content
    assert _build(tmp_path / "build", "key", [bundle]) == root and (built / "a.js").read_text() == "changed"


def test_style_sheet_references_resolve_inside_the_hashed_folder(client):
    """Font Awesome's fonts, named relatively by its style sheet, are served beside it."""
    html = client.get("/login/").get_data(as_text=True)
    solid = next(u for u in asset_urls(html) if u.endswith("fontawesome/solid.min.css"))
    css = client.get(solid).get_data(as_text=True)
    font = re.search(r"url\(([^)]+\.woff2)\)", css).group(1)
    response = client.get(urljoin(solid, font))
    assert response.status_code == 200 and response.headers["Cache-Control"].endswith("immutable")


def test_pages_are_not_cached_and_plain_static_urls_still_answer(client):
    """A page is personal: not kept by shared caches, asked again each time. Unhashed /static/
    URLs (anything outside the build) keep working, without the year-long cache."""
    page = client.get("/login/")
    assert "no-cache" in page.headers["Cache-Control"] or "no-store" in page.headers["Cache-Control"]
    assert "immutable" not in page.headers["Cache-Control"]
    plain = client.get("/static/css/sentinel.css")
    assert plain.status_code == 200 and "immutable" not in plain.headers.get("Cache-Control", "")


def test_favicon(client):
    """/favicon.ico answers an icon, and every page names the hashed SVG icon."""
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"
    html = client.get("/login/").get_data(as_text=True)
    assert re.search(r'<link rel="icon" type="image/svg\+xml" href="/assets/[0-9a-f]+/app/img/favicon\.svg">', html)


def test_each_page_loads_only_what_it_uses(client):
    """Our pages: no Select2, date picker, FAB list scripts, brand icons or flag sprite;
    ECharts only on the statistics pages; FAB's user form keeps Select2, its password
    form (no select, no date) FAB's form script alone."""
    login(client, "admin")
    unused = ("select2", "datepicker", "ab_filters", "ab_actions", "brands", "flags16", "echarts")
    for path in ("/", "/enterprises/", "/staff/", "/import/enterprise/"):
        urls = asset_urls(client.get(path, follow_redirects=True).get_data(as_text=True))
        assert not [u for u in urls if any(word in u for word in unused)], (path, urls)
    stats = asset_urls(client.get("/stats/tests").get_data(as_text=True))
    assert any("/vendor/echarts/echarts.min.js" in u for u in stats), stats
    user_form = asset_urls(client.get("/users/add").get_data(as_text=True))
    assert any("select2.min.js" in u for u in user_form) and any("ab.js" in u for u in user_form), user_form
    password_form = asset_urls(client.get("/resetmypassword/form").get_data(as_text=True))
    assert any("ab.js" in u for u in password_form), password_form
    assert not [u for u in password_form if "select2" in u or "datepicker" in u], password_form
