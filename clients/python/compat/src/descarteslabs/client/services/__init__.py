"""``descarteslabs.client.services``: the storage service only."""

from .storage import Storage  # noqa: F401
