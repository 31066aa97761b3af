"""Code written for the Descartes Labs client runs unchanged: its import paths resolve to this
package (stowage-descarteslabs-compat), and its environment variables configure it."""

import io
import os

import pytest
import requests

import stowage


def test_the_original_import_paths_are_this_package():
    import descarteslabs as dl
    from descarteslabs.client.auth import Auth
    from descarteslabs.client.exceptions import (
        BadRequestError,
        ConflictError,
        NotFoundError,
        ServerError,
    )
    from descarteslabs.client.services import Storage as ServicesStorage
    from descarteslabs.client.services.storage import Storage

    assert Storage is stowage.Storage is ServicesStorage is dl.Storage
    assert Auth is stowage.Auth is dl.Auth
    assert NotFoundError is stowage.NotFoundError
    assert (BadRequestError, ConflictError, ServerError) == (
        stowage.BadRequestError,
        stowage.ConflictError,
        stowage.ServerError,
    )
    assert Storage.TIMEOUT == (9.5, 120)


def test_a_script_written_for_the_original_client(server_url, prefix, monkeypatch, tmp_path):
    monkeypatch.setenv("DESCARTESLABS_STORAGE_URL", server_url)
    monkeypatch.setenv("DESCARTESLABS_TOKEN", os.environ["STOWAGE_TEST_TOKEN"])
    monkeypatch.delenv("STOWAGE_URL", raising=False)
    monkeypatch.delenv("STOWAGE_TOKEN", raising=False)

    from descarteslabs.client.exceptions import NotFoundError
    from descarteslabs.client.services.storage import Storage

    storage = Storage()
    storage.set(prefix + "report.csv", "a,b\n1,2\n")
    assert storage.get(prefix + "report.csv") == "a,b\n1,2\n"
    assert storage.exists(prefix + "report.csv")
    assert storage.list(prefix=prefix) == [prefix + "report.csv"]
    assert list(storage.iter_list(prefix)) == [prefix + "report.csv"]

    path = str(tmp_path / "local.csv")
    storage.get_file(prefix + "report.csv", path)
    with open(path, "rb") as file:
        storage.set_file(prefix + "copy.csv", file, storage_type="result")
    assert storage.get(prefix + "copy.csv", storage_type="result") == "a,b\n1,2\n"
    sink = io.BytesIO()
    storage.get_file(prefix + "copy.csv", sink, storage_type="result")
    assert sink.getvalue() == b"a,b\n1,2\n"

    signed = storage.get_signed_url(prefix + "report.csv")
    assert requests.get(signed, timeout=30).text == "a,b\n1,2\n"
    upload = storage.get_upload_url(prefix + "up.txt")
    assert (
        requests.put(
            upload, data=b"put", headers={"Content-Type": "application/octet-stream"}, timeout=30
        ).status_code
        == 200
    )
    assert storage.get(prefix + "up.txt") == "put"

    storage.delete(prefix + "report.csv")
    try:
        storage.get(prefix + "report.csv")
    except NotFoundError:
        pass
    else:
        pytest.fail("a deleted key was still there")
