"""Downloads that survive a cut connection: the rest is asked for with ``Range``, on condition
(``If-Match``) that the value is still the one whose first bytes were written."""

import requests

from .exceptions import StowageError
from .retry import spend

PIECE = 1024 * 1024
# What a connection that breaks in the middle of a body raises through requests.
_BROKEN = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def download(api, path, file_obj, retries):
    """Writes the value at ``path`` to ``file_obj`` piece by piece. ``retries`` counts breaks in a
    row; the count starts over whenever bytes arrived. A value replaced in between raises
    ``PreconditionFailedError``: the file never mixes two versions."""
    response = api.request("GET", path, stream=True)
    # A large read may be sent on to the object store (read offload): the object's ETag is on the
    # server's redirect, the first answer, not on the store's.
    etag = (response.history[0] if response.history else response).headers.get("ETag")
    written = 0
    budget = retries.new()
    while True:
        progressed = False
        try:
            with response:
                for piece in response.iter_content(chunk_size=PIECE):
                    file_obj.write(piece)
                    written += len(piece)
                    progressed = True
            return
        except _BROKEN as error:
            if progressed:
                budget = retries.new()
            budget = spend(budget, "GET", path, error)
        headers = {"Range": "bytes={}-".format(written)}
        if etag:
            headers["If-Match"] = etag
        response = api.request("GET", path, stream=True, headers=headers)
        if response.status_code != 206:
            response.close()
            raise StowageError(
                "the server answered a resumed download with {}".format(response.status_code),
                status=response.status_code,
            )
