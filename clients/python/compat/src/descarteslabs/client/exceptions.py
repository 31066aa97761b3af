"""``descarteslabs.client.exceptions``: the same classes as ``stowage.exceptions``."""

from stowage.exceptions import (  # noqa: F401
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
    RateLimitError,
    RetryWithError,
    ServerError,
    StowageError,
)
