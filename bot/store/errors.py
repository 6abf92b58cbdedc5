"""The store's one error type, so callers never see a database driver's exceptions."""


class StoreError(Exception):
    """The database could not do what was asked (unreachable, locked too long, full)."""
