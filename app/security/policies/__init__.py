"""Scope policies, one module per product module, each declaring its own dimensions and
the scope of its own models (app.security.scope holds no module knowledge).

Importing this package registers every policy; the app factory does it once.
"""
from app.security.policies import admin, registry, rules  # noqa: F401
from app.security.policies import drivers  # noqa: F401  (after registry: its dimensions)
