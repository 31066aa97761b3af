"""Stowage's operations on many keys at once: delete by prefix, batch delete, copy and move.

They run on the server: a copy or move carries no bytes over the network.
"""

from .exceptions import BadRequestError
from .keys import check_key, encode_segment
from .session import earlier_attempt_may_have_applied

MAX_DELETE_MANY_KEYS = 1000


def delete_prefix(api, prefix, storage_type, everything):
    """``POST {type}/delete_prefix``: ``{"deleted": n, "bytes": n}``."""
    if not isinstance(prefix, str):
        raise TypeError("prefix must be a str")
    if prefix == "" and not everything:
        raise BadRequestError(
            "deleting every key of a storage type or bucket needs all=True",
            code="ConfirmationRequired",
        )
    params = {"prefix": prefix, "all": "true" if everything else None}
    path = "/{}/delete_prefix".format(encode_segment(storage_type))
    # Running it again only finishes the job: retried after a lost response too.
    with api.request("POST", path, params=params, repeatable=True) as response:
        return response.json()


def delete_many(api, keys, storage_type):
    """``POST {type}/delete_many`` in batches of 1000: ``{"deleted", "bytes", "results"}`` with
    one ``{"key", "deleted", "code"?}`` per key, in order. A missing key is a result, not an error.
    """
    if isinstance(keys, str):
        raise TypeError("keys must be a list of str, not one str")
    keys = list(keys)
    results, freed = [], 0
    path = "/{}/delete_many".format(encode_segment(storage_type))
    for start in range(0, len(keys), MAX_DELETE_MANY_KEYS):
        stop = start + MAX_DELETE_MANY_KEYS
        batch = keys[start:stop]
        with api.request("POST", path, json={"keys": batch}, repeatable=True) as response:
            answer = response.json()
            retried = earlier_attempt_may_have_applied(response)
        for item in answer["results"]:
            # After a lost response, the keys the lost attempt deleted come back NoSuchKey.
            if retried and not item["deleted"] and item.get("code") == "NoSuchKey":
                item = {"key": item["key"], "deleted": True}
            results.append(item)
        freed += answer["bytes"]
    return {
        "deleted": sum(1 for item in results if item["deleted"]),
        "bytes": freed,
        "results": results,
    }


def copy_or_move(api, operation, source, destination, overwrite, if_match):
    """``POST /copy`` or ``POST /move`` between two ``{"type", "key"}`` or two
    ``{"type", "prefix"}`` locations."""
    if ("key" in source) != ("key" in destination):
        raise TypeError(
            "{} goes from a key to a key, or from a prefix to a prefix".format(operation)
        )
    for location in (source, destination):
        if "key" in location:
            check_key(location["key"])
        elif not isinstance(location.get("prefix"), str):
            raise TypeError("a prefix must be a str")
        encode_segment(location["type"])
    headers = {"If-Match": if_match} if if_match is not None else None
    body = {"source": source, "destination": destination, "overwrite": bool(overwrite)}
    # A copy that overwrites ends the same however often it runs. Any other copy, and a move,
    # would meet its own first effect (409, or a missing source): those are sent once.
    repeatable = operation == "copy" and bool(overwrite)
    with api.request(
        "POST", "/" + operation, json=body, headers=headers, repeatable=repeatable
    ) as response:
        return response.json()
