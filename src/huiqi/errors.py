"""The one exception hierarchy of huiqi.

::

    HuiqiError                     every error huiqi raises on purpose
    ├── PolicyError                a policy file or the fact catalogue is malformed (file:line, field)
    ├── ExpressionError            a rule expression cannot be parsed or type-checked
    ├── ProfileError               an input profile is wrong (unknown fact, bad unit, bad code …)
    ├── InputFileError             a user's file cannot be read (directory, binary, encoding, YAML/JSON syntax)
    ├── EvaluationError            evaluation cannot proceed (an unknown document, reading …)
    └── WorkflowError              an illegal state change in the administration platform

Every message says where (a file and line, or a field path) and what to do, in Chinese first.
"""

from __future__ import annotations


class HuiqiError(Exception):
    """Base class of all errors raised on purpose by huiqi."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class PolicyError(HuiqiError):
    """A policy file or the fact catalogue is malformed."""


class ExpressionError(HuiqiError):
    """A rule expression cannot be parsed or type-checked."""


class ProfileError(HuiqiError):
    """An input profile (facts of one entity) is wrong."""


class InputFileError(HuiqiError):
    """A file a user gave cannot be read: missing, a directory, binary, an unknown encoding, bad syntax."""


class EvaluationError(HuiqiError):
    """An evaluation request cannot be carried out."""


class WorkflowError(HuiqiError):
    """An illegal state change or operation in the administration platform."""
