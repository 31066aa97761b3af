"""``descarteslabs.client.services.storage``: ``Storage`` is ``stowage.Storage``."""

from stowage.storage import Storage  # noqa: F401
