"""Infrastructure below every module: extensions, queue, kv, database helpers, the
district clock, audit, HTTP error mapping, operations. Never imports services,
security, notify, views, jobs or the factory."""
