"""Keys and storage types as they go into a URL path."""

import re
from urllib.parse import quote

from .exceptions import BadRequestError

MAX_KEY_BYTES = 1024
# C0 controls, DEL and C1 controls: the server refuses them in keys.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def check_key(key):
    """Refuse a key the server would refuse, before anything is sent."""
    if not isinstance(key, str):
        raise TypeError("key must be a str, not {}".format(type(key).__name__))
    if key == "":
        raise BadRequestError("key must not be empty", code="InvalidKey")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequestError("key contains a lone surrogate", code="InvalidKey") from None
    if size > MAX_KEY_BYTES:
        raise BadRequestError(
            "key is {} UTF-8 bytes; at most {} are allowed".format(size, MAX_KEY_BYTES),
            code="InvalidKey",
        )
    if _CONTROL.search(key):
        raise BadRequestError("key contains a control character", code="InvalidKey")
    return key


def encode_key(key):
    """The key as one path segment.

    Every character but letters, digits and ``-_~`` is percent-encoded, ``.`` included: ``/``,
    ``?``, ``#``, ``+`` and dot segments such as ``..`` would otherwise be read as URL syntax
    and the key would not round-trip.
    """
    return quote(check_key(key), safe="").replace(".", "%2E")


def encode_segment(storage_type):
    """A storage type or bucket name as a path segment."""
    if not isinstance(storage_type, str) or storage_type == "":
        raise BadRequestError("storage_type must be a non-empty str", code="InvalidStorageType")
    return quote(storage_type, safe="")
