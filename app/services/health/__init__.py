"""Health data (SPEC §3), split by what it is:

* ``feeds`` — what comes in and how it is kept: the feed ingest (API and file upload),
  the sampling writer, keyed ID hashes, daily partitions, retention, vaccine products.
* ``status`` — the per-person health status: the summary and its fold (the rules,
  ``summary``; its SQL pieces, ``sql``), day bits, and the lookup the pages, lists and
  exports read (``lookup``).
* ``statistics`` — 数据统计: the tables (``tables``), of samplings and of vaccinations.
* ``follow_up`` — the health side of a staff import (keys of the rows, matching the new
  people to their records): the registry import's one way into the health package.
"""
