"""Stowage's Python client: the storage API v1 ``Storage`` client, with ``Auth`` and the errors.

>>> from stowage import Storage, NotFoundError
>>> storage = Storage()  # STOWAGE_URL and STOWAGE_TOKEN from the environment
"""

from ._version import __version__
from .auth import Auth
from .exceptions import (
    AuthError,
    BadRequestError,
    ClientError,
    ConflictError,
    ForbiddenError,
    GatewayTimeoutError,
    NotFoundError,
    OauthError,
    PayloadTooLargeError,
    PreconditionFailedError,
    QuotaExceededError,
    RangeNotSatisfiableError,
    RateLimitError,
    RetryWithError,
    ServerError,
    StowageError,
    UnauthorizedError,
    UploadChangedError,
)
from .storage import Storage

TIMEOUT = Storage.TIMEOUT

__all__ = [
    "Auth",
    "AuthError",
    "BadRequestError",
    "ClientError",
    "ConflictError",
    "ForbiddenError",
    "GatewayTimeoutError",
    "NotFoundError",
    "OauthError",
    "PayloadTooLargeError",
    "PreconditionFailedError",
    "QuotaExceededError",
    "RangeNotSatisfiableError",
    "RateLimitError",
    "RetryWithError",
    "ServerError",
    "Storage",
    "StowageError",
    "TIMEOUT",
    "UnauthorizedError",
    "UploadChangedError",
    "__version__",
]
