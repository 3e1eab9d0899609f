"""Errors services raise; app/http.py and the views render them."""
from __future__ import annotations

from app.domain.errors import RuleError


class ServiceError(Exception):
    status = 400

    def __init__(self, message, errors: list[RuleError] | None = None):
        super().__init__(str(message))
        self.message = message
        self.errors = errors or []

    def as_dict(self) -> dict:
        out: dict = {"message": str(self.message)}
        if self.errors:
            out["errors"] = {e.field: str(e.message) for e in self.errors}
        return out


class ValidationFailed(ServiceError):
    status = 400

    def __init__(self, errors: list[RuleError]):
        super().__init__("；".join(str(e.message) for e in errors), errors)


class Conflict(ServiceError):
    status = 409
