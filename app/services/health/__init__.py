"""Health data (SPEC §3), split by what it is:

* ``feeds`` — what comes in and how it is kept: the feed ingest (API and file upload),
  the sampling writer, keyed ID hashes, daily partitions, retention, vaccine products.
* ``status`` — the per-person health status: the summary and its fold (the rules,
  ``summary``; its SQL pieces, ``sql``), day bits, and the lookup the pages, lists and
  exports read (``lookup``).
* ``statistics`` — 数据统计: the tables (``tables``), of samplings and of vaccinations.

``keys`` and ``summary`` are also named here: other packages (the registry import)
reach the health package through these two.
"""
from app.services.health.feeds import keys
from app.services.health.status import summary

__all__ = ["keys", "summary"]
