from __future__ import annotations


class SurveyError(Exception):
    """A refusal the person or officer can read (``message`` is translated), with a stable ``code``."""

    def __init__(self, message, *, code: str):
        super().__init__(str(message))
        self.message = message
        self.code = code
