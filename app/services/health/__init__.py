"""Health data: keys, ingest, per-person status, statistics (SPEC §3)."""
