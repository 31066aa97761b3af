"""``descarteslabs.client``: the storage client's part of it, from ``stowage``."""
