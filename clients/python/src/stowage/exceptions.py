"""The errors the client raises.

The class names and bases are those of the Descartes Labs client, so ``except NotFoundError``
and ``except ServerError`` written for it keep working: 400/422 are ``BadRequestError``, 404
``NotFoundError``, 409 ``ConflictError``, 429 ``RateLimitError``, and any other failure status is
a ``ServerError``. Stowage's own classes (``ForbiddenError``, ``PreconditionFailedError``, ...)
subclass the one the original raised for their status. Every error carries the server's
``status``, stable ``code`` (e.g. ``"NoSuchKey"``) and ``request_id`` when it sent them.
"""

import json


class StowageError(Exception):
    """Base of every error this package raises."""

    status = None

    def __init__(self, message, status=None, code=None, request_id=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.code = code
        self.request_id = request_id


class ClientError(StowageError):
    """The request was refused because of something the caller sent."""


class AuthError(ClientError):
    """No usable credentials: none were found, or the server refused them (401)."""

    status = 401


class OauthError(AuthError):
    """The token endpoint refused to exchange the API key for a token."""


class ServerError(StowageError):
    """Any failure status without a class of its own, and 5xx after the retries."""

    status = 500


class BadRequestError(ClientError):
    """400/422: an invalid key, storage type, argument or body."""

    status = 400


class NotFoundError(ClientError):
    """404: no value at the key (or it expired), or no bucket of that name."""

    status = 404


class ConflictError(ClientError):
    """409: e.g. ``DestinationExists`` on a copy or move."""

    status = 409


class RateLimitError(ClientError):
    """429: past the rate limit; ``retry_after`` is the server's wait in seconds."""

    status = 429

    def __init__(self, message, retry_after=None, **fields):
        super().__init__(message, **fields)
        self.retry_after = retry_after


class RetryWithError(ClientError):
    status = 449


class GatewayTimeoutError(ServerError):
    status = 504


class UnauthorizedError(AuthError, ServerError):
    """401 from the server (a ``ServerError`` too, as the original raised for 401)."""

    status = 401


class ForbiddenError(ServerError):
    """403: a tampered or expired signed URL, or nothing grants the caller that."""

    status = 403


class QuotaExceededError(ForbiddenError):
    """403 ``QuotaExceeded``: the write would pass the user's quota; nothing was stored."""


class PreconditionFailedError(ServerError):
    """412: an ``If-Match`` / ``If-None-Match`` condition was not met."""

    status = 412


class PayloadTooLargeError(ServerError):
    """413: the body is larger than the server accepts."""

    status = 413


class RangeNotSatisfiableError(ServerError):
    """416: a range read that starts past the end of the value."""

    status = 416


class UploadChangedError(StowageError):
    """A file changed while it was being uploaded; the upload was cancelled, nothing stored."""


_BY_CODE = {"QuotaExceeded": QuotaExceededError}

_BY_STATUS = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    416: RangeNotSatisfiableError,
    422: BadRequestError,
    504: GatewayTimeoutError,
}


def error_from_response(response, method=None, url=None):
    """The error for a failed ``requests.Response``: by the body's code, then by status."""
    status = response.status_code
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        body = None
    fields = body if isinstance(body, dict) else {}
    code = fields.get("code") if isinstance(fields.get("code"), str) else None
    message = fields.get("message") if isinstance(fields.get("message"), str) else None
    if not message:
        message = response.text or "{} {} {}".format(status, method or "", url or "").strip()
    request_id = fields.get("requestId") or response.headers.get("X-Request-Id")
    common = {"status": status, "code": code, "request_id": request_id}
    if status == 429:
        return RateLimitError(message, retry_after=response.headers.get("Retry-After"), **common)
    error_class = _BY_CODE.get(code) or _BY_STATUS.get(status, ServerError)
    return error_class(message, **common)
