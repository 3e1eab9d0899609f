"""Integration tests of the health package: feeds, per-person status, statistics."""
