"""The one error class of the export package."""

__all__ = ["ExportError", "ParityError"]


class ExportError(Exception):
    """Bad input to export or to the runtime helper; the message says what to fix.

    >>> str(ExportError("heads must be 1..8, got 0: pick a number of heads from 1 to 8"))
    'heads must be 1..8, got 0: pick a number of heads from 1 to 8'
    """


class ParityError(ExportError):
    """The exported ONNX model does not reproduce torch within tolerance; nothing was written."""
