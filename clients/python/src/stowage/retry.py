"""The retry policy every request goes through unless ``Storage(retries=...)`` says otherwise."""

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

RETRIED_STATUSES = (500, 502, 503, 504)

# The idempotent methods. POST is left out: only some POSTs may run twice (a delete by prefix or
# a batch delete, a copy that overwrites), and those add it for themselves (ApiSession).
RETRIED_METHODS = frozenset(["HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE"])


def default_retry():
    """3 tries in all: 500/502/503/504 and broken connections, 429/503 after ``Retry-After``.

    Waits grow as ``0.5 * 2 ** (n - 1)`` seconds plus up to half a second of jitter, so that
    many clients failing together do not come back together.
    """
    return Retry(
        total=3,
        connect=2,
        read=2,
        status=2,
        backoff_factor=0.5,
        backoff_jitter=0.5,
        allowed_methods=RETRIED_METHODS,
        status_forcelist=RETRIED_STATUSES,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def no_retry():
    """One attempt: for tests, and for requests whose repetition would change the outcome."""
    return Retry(total=0, connect=0, read=0, status=0, redirect=0, raise_on_status=False)


def spend(budget, method, url, error):
    """Counts one failure of a transfer against ``budget`` (a ``Retry``) and waits its backoff;
    the next budget, or ``error`` raised again once the budget is spent."""
    try:
        budget = budget.increment(method, url, error=error)
    except MaxRetryError:
        raise error from None
    budget.sleep()
    return budget
