"""Infrastructure below every module: the framework singletons (extensions), the queue
(enqueue, progress, job status), kv and the embedded Redis, the database and SQL
dialect helpers, the district clock, audit, HTTP error mapping, labels and the process
supervisor of ``python run.py``.

Nothing here imports services, security, notify, views, jobs or the factory
(``app/__init__.py``); the contracts in ``.importlinter`` check it.
"""
