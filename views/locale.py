"""The language menu (FAB's ``/lang/<code>``) brings the user back to the page they were on.

FAB's view sends the browser to the last page of its own page history: a page outside
FAB's list views — a driver's booking page, a head's phone page, the scan screen — is not
in that history, so picking a language there landed on the index (for a driver, the staff
login). Here the answer goes back to the page that linked to the menu (the ``Referer``)
when it is a page of this site (``app.security.redirects``), else where FAB sends it.
"""
from __future__ import annotations

import functools
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Flask, redirect, request

from app.security.redirects import redirect_target

ENDPOINT = "LocaleView.index"


def back_to_the_page(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def index(*args: Any, **kwargs: Any) -> Any:
        answer = view(*args, **kwargs)
        page = request.referrer
        if getattr(answer, "status_code", None) != 302 or not page or urlsplit(page).path.startswith("/lang/"):
            return answer
        target = redirect_target(page)
        return redirect(target) if target == page else answer

    return index


def install(app: Flask) -> None:
    app.view_functions[ENDPOINT] = back_to_the_page(app.view_functions[ENDPOINT])
