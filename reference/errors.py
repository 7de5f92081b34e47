"""Exceptions raised by the reference trainer."""

__all__ = ["MisconfigurationException", "UnsupportedByReference", "clause_message"]


class MisconfigurationException(Exception):
    """Raised when a Trainer, module or callback is configured in a way the contract forbids."""


class UnsupportedByReference(MisconfigurationException, NotImplementedError):
    """Raised when a run asks for a Lightning feature that the reference does not implement (yet).

    It derives from ``NotImplementedError`` too, so callers can tell "outside the reference" apart
    from
    "forbidden by the contract". Every place that raises it is listed in ``KNOWN_GAPS.txt``.
    """


def clause_message(clause_id: str, message: str, fix: str) -> str:
    """Format an error message as ``"<clause id>: <what is wrong>. <how to fix it>"``."""
    return f"{clause_id}: {message.rstrip('.')}. {fix}"


def unsupported(feature: str, why: str) -> UnsupportedByReference:
    """Build the error for a feature outside the reference, with the reason it is missing."""
    return UnsupportedByReference(f"{feature} is not supported by the reference trainer: {why}")
