"""The ``descarteslabs`` import paths of the storage client, served by the ``stowage`` package.

Only the storage client's modules are here (and ``descarteslabs.Storage`` and
``descarteslabs.Auth``, as ``import descarteslabs as dl; dl.Storage()`` used them); code that
imports other Descartes Labs services needs the real ``descarteslabs`` package, which this one
must not be installed beside.
"""

from stowage import Auth, Storage  # noqa: F401
