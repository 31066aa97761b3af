"""``descarteslabs.client.auth``: ``Auth`` is ``stowage.Auth``."""

from stowage.auth import Auth  # noqa: F401
