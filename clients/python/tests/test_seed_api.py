"""Storage API v1 as the Descartes Labs client offers it, against a real server: every method
and parameter, every storage type, awkward keys, paging, files and streams, signed URLs, and
the error classes. The same checks as the TypeScript client's suite (storage.test.ts)."""

import inspect
import io
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import client_for
from stowage import TIMEOUT, AuthError, BadRequestError, NotFoundError, ServerError, Storage

SEED_SIGNATURES = {
    "__init__": "(self, url=None, auth=None, retries=None)",
    "delete": "(self, key, storage_type='data')",
    "exists": "(self, key, storage_type='data')",
    "get": "(self, key, storage_type='data')",
    "get_file": "(self, key, file_obj, storage_type='data')",
    "get_signed_url": "(self, key, storage_type='data'",
    "get_upload_url": "(self, key, storage_type='data', **kwargs)",
    "iter_list": "(self, prefix=None, storage_type='data')",
    "list": "(self, prefix=None, storage_type='data')",
    "set": "(self, key, value, storage_type='data'",
    "set_file": "(self, key, file_obj, storage_type='data'",
}


def test_every_seed_method_takes_the_seed_parameters_first_with_their_defaults():
    for name, expected in SEED_SIGNATURES.items():
        assert str(inspect.signature(getattr(Storage, name))).startswith(expected), name
    assert Storage.TIMEOUT == (9.5, 120) == TIMEOUT
    assert inspect.isgeneratorfunction(Storage.iter_list)


def test_set_and_get_strings_bytes_and_file_like_objects(storage, prefix):
    storage.set(prefix + "s", "héllo")
    assert storage.get(prefix + "s") == "héllo"
    assert isinstance(storage.get(prefix + "s"), str)
    storage.set(prefix + "b", bytes([0, 1, 2, 255]))
    assert storage.get_bytes(prefix + "b") == bytes([0, 1, 2, 255])
    storage.set(prefix + "f", io.BytesIO(b"from a file-like object"))
    assert storage.get(prefix + "f") == "from a file-like object"
    result = storage.set(prefix + "r", "xyz")
    assert sorted(result) == ["etag", "key", "sha256", "size"]
    assert result["size"] == 3 and result["key"] == prefix + "r"


def test_every_storage_type(storage, prefix):
    for storage_type in ("data", "tmp", "result"):
        storage.set(prefix + "typed", "in " + storage_type, storage_type)
        assert storage.get(prefix + "typed", storage_type=storage_type) == "in " + storage_type
        assert storage.exists(prefix + "typed", storage_type) is True
        assert storage.list(prefix + "typ", storage_type) == [prefix + "typed"]
    storage.delete(prefix + "typed", "tmp")
    assert storage.exists(prefix + "typed", "tmp") is False
    assert storage.get(prefix + "typed", "result") == "in result"


def test_content_type_is_stored_and_served(storage, prefix):
    storage.set(prefix + "page.html", "<p>", content_type="text/html")
    response = requests.get(storage.get_signed_url(prefix + "page.html"), timeout=30)
    assert response.headers["Content-Type"] == "text/html"


def test_every_legal_key_round_trips(storage, prefix):
    keys = [
        "a?b",
        "c#d",
        "e+f",
        "g%20h",
        "..",
        "x/../y",
        "/lead",
        "trail/",
        "sp ace",
        "ünï/日本/🚀",
        ".",
        "'()*!",
        "semi;colon",
        "a&b=c",
    ]
    for key in keys:
        storage.set(key, "v:" + key, "result")
        assert storage.get(key, "result") == "v:" + key, key
        assert storage.exists(key, "result"), key
    listed = list(storage.iter_list(storage_type="result"))
    for key in keys:
        assert key in listed, key
    for key in keys:
        storage.delete(key, "result")
        assert not storage.exists(key, "result"), key


def test_exists_delete_and_not_found_error(storage, prefix):
    storage.set(prefix + "gone", "x")
    assert storage.exists(prefix + "gone") is True
    assert storage.delete(prefix + "gone") is None
    assert storage.exists(prefix + "gone") is False
    with pytest.raises(NotFoundError):
        storage.get(prefix + "gone")
    with pytest.raises(NotFoundError) as caught:
        storage.delete(prefix + "gone")
    assert caught.value.code == "NoSuchKey" and caught.value.status == 404


def test_list_returns_at_most_1000_and_iter_list_walks_every_key_once_in_order(storage, prefix):
    keys = ["{}bulk/{:04d}".format(prefix, i) for i in range(2500)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: storage.set(key, ".", "tmp"), keys))
    page = storage.list(prefix + "bulk/", "tmp")
    assert page == keys[:1000]
    assert list(storage.iter_list(prefix + "bulk/", "tmp")) == keys
    assert storage.list(prefix + "nothing-here/", "tmp") == []


def test_get_file_and_set_file_with_names_and_file_objects(storage, prefix, tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(bytes([9]) * 300_000)
    storage.set_file(prefix + "file", str(source))
    target = tmp_path / "target.bin"
    storage.get_file(prefix + "file", str(target))
    assert target.read_bytes() == source.read_bytes()
    sink = io.BytesIO()
    storage.get_file(prefix + "file", sink)
    assert len(sink.getvalue()) == 300_000
    with open(source, "rb") as file:
        storage.set_file(prefix + "file-object", file)
    assert storage.get_bytes(prefix + "file-object") == source.read_bytes()
    storage.set_file(prefix + "path-like", source)
    assert storage.info(prefix + "path-like")["size"] == 300_000


def test_get_file_of_a_missing_key_raises_and_leaves_no_file(storage, prefix, tmp_path):
    with pytest.raises(NotFoundError):
        storage.get_file(prefix + "missing", str(tmp_path / "never.bin"))
    assert os.listdir(tmp_path) == []


def test_signed_url_works_with_plain_requests_and_upload_url_takes_a_plain_put(storage, prefix):
    storage.set(prefix + "share me", "shared")
    url = storage.get_signed_url(prefix + "share me", expires_in=120)
    assert isinstance(url, str)
    assert requests.get(url, timeout=30).text == "shared"
    upload_url = storage.get_upload_url(prefix + "uploaded", content_type="text/plain")
    put = requests.put(upload_url, data=b"via upload url", timeout=30)
    assert put.status_code == 200
    assert storage.get(prefix + "uploaded") == "via upload url"
    assert storage.info(prefix + "uploaded")["content_type"] == "text/plain"
    with pytest.raises(NotFoundError):
        storage.get_signed_url(prefix + "missing")


def test_errors_map_to_the_original_classes_with_the_server_code(storage, server_url, prefix):
    with pytest.raises(BadRequestError) as caught:
        storage.get("x" * 1025)
    assert caught.value.code == "InvalidKey"
    with pytest.raises(BadRequestError) as caught:
        storage.get("x", "Not_A_Type")
    assert caught.value.code == "InvalidStorageType" and caught.value.status == 400
    # A name of the right form is a bucket's, and none of that name exists.
    with pytest.raises(NotFoundError) as caught:
        storage.get("x", "bogus")
    assert caught.value.code == "NoSuchBucket"
    stranger = client_for(server_url, "not-a-token")
    with pytest.raises(AuthError) as caught:
        stranger.get("x")
    assert caught.value.status == 401 and caught.value.code == "InvalidToken"
    assert isinstance(caught.value, ServerError)  # what the original raised for a 401
    storage.set(prefix + "s", "signed")
    tampered = storage.get_signed_url(prefix + "s").replace("signature=", "signature=x")
    assert requests.get(tampered, timeout=30).status_code == 403


def test_tenants_are_isolated(storage, bob, prefix):
    storage.set(prefix + "private", "alice's")
    assert bob.exists(prefix + "private") is False
    assert bob.list(prefix) == []
    with pytest.raises(NotFoundError):
        bob.delete(prefix + "private")
    assert storage.get(prefix + "private") == "alice's"
