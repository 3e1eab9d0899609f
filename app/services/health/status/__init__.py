"""Per-person health status: the summary and daily tallies kept by the ingest's fold
(``summary``, its SQL pieces in ``sql``), the day bits (``day_bits``), and the lookup
of a person's status for pages, lists and exports (``lookup``)."""
