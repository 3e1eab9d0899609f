"""Entry point.

``flask --app run …`` finds ``create_app`` here (nothing is built at import time);
``python run.py`` starts the web server, an RQ worker and ``rq cron`` together and
stops them all on Ctrl-C or SIGTERM (see app/platform/supervisor.py).
"""
from __future__ import annotations

from app import create_app  # noqa: F401  (the factory flask --app run uses)

if __name__ == "__main__":
    from app.platform.supervisor import main

    main()
