"""Errors of employment services; ``code`` is the job platform API's error code."""

from __future__ import annotations


class EmploymentError(Exception):
    code = "employment_error"

    def __init__(self, message, *, code: str | None = None, details: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.details = details or {}
        if code:
            self.code = code
