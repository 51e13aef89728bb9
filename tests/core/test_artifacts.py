"""Artifact stores: local folder (atomic, hashed) and S3 (boto3 client under botocore's Stubber)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from opsforge.core.artifacts import (
    ArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    build_artifact_store,
    sha256_file,
)
from opsforge.core.config import Settings
from opsforge.core.errors import ExternalServiceError, InvalidInputError, NotFoundError


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    path = tmp_path / "grid.csv"
    path.write_bytes(b"cell,rsrp_dbm\n" + b"A,-95\n" * 300_000)  # > 1 MiB: several chunks
    return path


def test_sha256_file_streams_exactly(payload: Path) -> None:
    digest, size_bytes = sha256_file(payload)
    assert digest == hashlib.sha256(payload.read_bytes()).hexdigest()
    assert size_bytes == payload.stat().st_size


def test_local_store_round_trip_list_delete(tmp_path: Path, payload: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    assert isinstance(store, ArtifactStore)
    obj = store.put_file("runs/r1/inputs/grid/grid.csv", payload)
    assert (obj.size_bytes, obj.sha256) == (payload.stat().st_size, sha256_file(payload)[0])
    store.put_file("runs/r1/attempts/1/outputs/a.txt", payload)
    with store.open(obj.key) as handle:
        assert handle.read() == payload.read_bytes()
    dest = tmp_path / "copy" / "g.csv"
    store.download(obj.key, dest)
    assert dest.read_bytes() == payload.read_bytes()
    assert store.list("runs/r1") == [
        "runs/r1/attempts/1/outputs/a.txt",
        "runs/r1/inputs/grid/grid.csv",
    ]
    assert store.delete_prefix("runs/r1/attempts") == 1
    assert store.list("runs/r1") == ["runs/r1/inputs/grid/grid.csv"]
    assert store.delete_prefix("runs/none") == 0
    with pytest.raises(NotFoundError, match="does not exist"):
        store.open("runs/r1/attempts/1/outputs/a.txt")
    # overwriting replaces atomically and leaves no temporary files behind
    small = tmp_path / "small.txt"
    small.write_text("x")
    store.put_file(obj.key, small)
    assert store.list("") == ["runs/r1/inputs/grid/grid.csv"]
    with store.open(obj.key) as handle:
        assert handle.read() == b"x"


@pytest.mark.parametrize("key", ["", "/etc/passwd", "runs/../../x", "a\\b"])
def test_keys_may_not_escape_the_store(tmp_path: Path, payload: Path, key: str) -> None:
    with pytest.raises(InvalidInputError, match="relative path"):
        LocalArtifactStore(tmp_path).put_file(key, payload)


def _s3() -> tuple[S3ArtifactStore, Stubber]:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return S3ArtifactStore(client, "bucket", "opsforge/"), Stubber(client)


def test_s3_store_puts_gets_lists_and_deletes(tmp_path: Path) -> None:
    store, stub = _s3()
    src = tmp_path / "m.json"
    src.write_bytes(b'{"a": 1}')
    digest = hashlib.sha256(b'{"a": 1}').hexdigest()
    stub.add_response(
        "put_object",
        {"ETag": '"x"'},
        {
            "Bucket": "bucket",
            "Key": "opsforge/runs/r/m.json",
            "Body": ANY,
            "Metadata": {"sha256": digest},
        },
    )
    stub.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(b'{"a": 1}'), 8), "ContentLength": 8},
        {"Bucket": "bucket", "Key": "opsforge/runs/r/m.json"},
    )
    stub.add_response(
        "list_objects_v2",
        {
            "IsTruncated": True,
            "NextContinuationToken": "t1",
            "Contents": [{"Key": "opsforge/runs/r/a"}],
        },
        {"Bucket": "bucket", "Prefix": "opsforge/runs/r"},
    )
    stub.add_response(
        "list_objects_v2",
        {"IsTruncated": False, "Contents": [{"Key": "opsforge/runs/r/m.json"}]},
        {"Bucket": "bucket", "Prefix": "opsforge/runs/r", "ContinuationToken": "t1"},
    )
    for _ in range(2):
        stub.add_response(
            "list_objects_v2",
            {"IsTruncated": False, "Contents": [{"Key": "opsforge/runs/r/m.json"}]},
            {"Bucket": "bucket", "Prefix": "opsforge/runs/r"},
        )
    stub.add_response(
        "delete_objects",
        {"Deleted": [{"Key": "opsforge/runs/r/m.json"}]},
        {
            "Bucket": "bucket",
            "Delete": {"Objects": [{"Key": "opsforge/runs/r/m.json"}], "Quiet": True},
        },
    )
    with stub:
        obj = store.put_file("runs/r/m.json", src)
        assert (obj.sha256, obj.size_bytes) == (digest, 8)
        dest = tmp_path / "out" / "m.json"
        store.download("runs/r/m.json", dest)
        assert dest.read_bytes() == b'{"a": 1}'
        assert store.list("runs/r") == ["runs/r/a", "runs/r/m.json"]
        assert store.list("runs/r") == ["runs/r/m.json"]
        assert store.delete_prefix("runs/r") == 1
    stub.assert_no_pending_responses()


def test_s3_errors_are_translated() -> None:
    store, stub = _s3()
    stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
    stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
    with stub:
        with pytest.raises(NotFoundError, match="does not exist"):
            store.open("runs/x")
        with pytest.raises(ExternalServiceError, match="bucket 'bucket'"):
            store.open("runs/x")


def test_build_artifact_store_follows_settings(settings: Settings) -> None:
    local = build_artifact_store(settings)
    assert isinstance(local, LocalArtifactStore)
    assert local.root == settings.artifact_dir
    s3_settings = settings.model_copy(
        update={
            "artifacts": settings.artifacts.model_copy(
                update={"backend": "s3", "s3_bucket": "b", "s3_endpoint_url": "http://127.0.0.1:9"}
            )
        }
    )
    s3 = build_artifact_store(s3_settings)
    assert isinstance(s3, S3ArtifactStore)
    assert (s3.bucket, s3.prefix) == ("b", "opsforge/")
    with pytest.raises(InvalidInputError, match="s3_bucket"):
        S3ArtifactStore(object(), "")
