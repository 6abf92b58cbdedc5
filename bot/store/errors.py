"""The store's one error type, so callers never see a database driver's exceptions."""


class StoreError(Exception):
    """The database could not do what was asked (unreachable, locked too long, full, a rule it enforces)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (down, network, credentials, no free connection): try again later."""
