"""Optional dependencies and data errors (defined in :mod:`gridform.errors`)."""

from gridform.errors import DataError, MissingExtraError, require

__all__ = ["DataError", "MissingExtraError", "require"]
