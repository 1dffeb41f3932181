"""The one error class of nwcore."""

__all__ = ["NWError"]


class NWError(ValueError):
    """Bad input to nwcore; the message says how to fix it."""
