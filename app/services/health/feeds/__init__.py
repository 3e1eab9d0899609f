"""Health feeds: the ingest of sampling (nucleic-acid test) and vaccination records
through the API and file uploads, the sampling writer, keyed ID hashes, the daily
partitions of the sampling records and their retention, and the vaccine products."""
