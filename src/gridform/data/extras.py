"""Optional dependencies and data errors (defined in :mod:`gridform.core.errors`)."""

from gridform.core.errors import DataError, MissingExtraError, require

__all__ = ["DataError", "MissingExtraError", "require"]
