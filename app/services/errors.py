"""Errors services raise (defined in app/domain/errors.py, the one bottom module)."""
from app.domain.errors import Conflict, ServiceError, TooManyRequests, ValidationFailed  # noqa: F401
