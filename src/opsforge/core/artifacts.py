"""Artifact stores: where the files of runs live (a local folder, or an S3-compatible bucket).

Keys are ``/``-separated relative paths (``runs/<run_id>/inputs/grid/grid.csv``). Writes are
atomic: a reader sees the old object or the whole new one, never a partial file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

from opsforge.core.errors import ExternalServiceError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from opsforge.core.config import Settings

__all__ = [
    "ArtifactStore",
    "LocalArtifactStore",
    "S3ArtifactStore",
    "StoredObject",
    "build_artifact_store",
    "sha256_file",
]

_CHUNK_BYTES = 1024 * 1024


def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 hex digest and size of a file, read in 1 MiB chunks.

    Returns
    -------
    tuple
        ``(sha256_hex, size_bytes)``; size in [B].
    """
    digest = hashlib.sha256()
    size_bytes = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
            size_bytes += len(chunk)
    return digest.hexdigest(), size_bytes


@dataclass(frozen=True)
class StoredObject:
    """What a put returned: the key, the size [B] and the SHA-256 hex of the content."""

    key: str
    size_bytes: int
    sha256: str


def _check_key(key: str) -> str:
    pure = PurePosixPath(key)
    if not key or pure.is_absolute() or ".." in pure.parts or "\\" in key:
        raise InvalidInputError(
            f"artifact key must be a relative path without '..', got {key!r}", key=key
        )
    return str(pure)


@runtime_checkable
class ArtifactStore(Protocol):
    """Port for artifact storage; :class:`LocalArtifactStore` and :class:`S3ArtifactStore`."""

    def put_file(self, key: str, source: Path) -> StoredObject:
        """Store the file at ``source`` under ``key`` (atomically replacing an old one)."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open the object for reading. Raises ``NotFoundError`` when absent."""
        ...

    def download(self, key: str, dest: Path) -> None:
        """Copy the object to the local file ``dest`` (parents created)."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; returns how many were deleted."""
        ...


class LocalArtifactStore:
    """Artifacts as files under ``root``.

    Parameters
    ----------
    root
        Folder holding the objects (created if missing).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put_file(self, key: str, source: Path) -> StoredObject:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size_bytes = 0
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=dest.suffix)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                for chunk in iter(lambda: src.read(_CHUNK_BYTES), b""):
                    digest.update(chunk)
                    size_bytes += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, dest)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return StoredObject(key=_check_key(key), size_bytes=size_bytes, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise NotFoundError(f"artifact object {key!r} does not exist", key=key) from None

    def download(self, key: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self.open(key) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, _CHUNK_BYTES)

    def list(self, prefix: str) -> list[str]:
        base = self.root / _check_key(prefix) if prefix else self.root
        if not base.exists():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def delete_prefix(self, prefix: str) -> int:
        base = self.root / _check_key(prefix)
        if not base.exists():
            return 0
        if base.is_file():
            base.unlink()
            return 1
        count = sum(1 for p in base.rglob("*") if p.is_file())
        shutil.rmtree(base, ignore_errors=True)
        return count


class S3ArtifactStore:
    """Artifacts in an S3-compatible bucket (AWS, MinIO, Ceph) through boto3.

    Parameters
    ----------
    client
        A boto3 S3 client (``boto3.client("s3", endpoint_url=...)``).
    bucket
        Bucket name.
    prefix
        Prepended to every key (``opsforge/``).
    """

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        if not bucket:
            raise InvalidInputError("artifacts.s3_bucket must name a bucket, got ''")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _full(self, key: str) -> str:
        return f"{self.prefix}{_check_key(key)}"

    def _translate(self, exc: Exception, key: str) -> Exception:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in {"NoSuchKey", "404", "NotFound"}:
            return NotFoundError(f"artifact object {key!r} does not exist", key=key)
        return ExternalServiceError(
            f"S3 bucket {self.bucket!r} failed on {key!r}: {exc}", key=key, bucket=self.bucket
        )

    def put_file(self, key: str, source: Path) -> StoredObject:
        # Local content is hashed first; S3 PUT of a whole object is atomic.
        sha256, size_bytes = sha256_file(source)
        try:
            with source.open("rb") as body:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._full(key),
                    Body=body,
                    Metadata={"sha256": sha256},
                )
        except Exception as exc:
            raise self._translate(exc, key) from exc
        return StoredObject(key=_check_key(key), size_bytes=size_bytes, sha256=sha256)

    def open(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._full(key))
        except Exception as exc:
            raise self._translate(exc, key) from exc
        body: BinaryIO = response["Body"]
        return body

    def download(self, key: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = self.open(key)
        try:
            with dest.open("wb") as out:
                for chunk in _iter_chunks(src):
                    out.write(chunk)
        finally:
            src.close()

    def _iter_keys(self, prefix: str) -> Iterator[str]:
        token: str | None = None
        full_prefix = f"{self.prefix}{_check_key(prefix)}" if prefix else self.prefix
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix}
            if token:
                kwargs["ContinuationToken"] = token
            try:
                response = self.client.list_objects_v2(**kwargs)
            except Exception as exc:
                raise self._translate(exc, prefix) from exc
            for item in response.get("Contents", []):
                yield str(item["Key"])[len(self.prefix) :]
            if not response.get("IsTruncated"):
                return
            token = response.get("NextContinuationToken")

    def list(self, prefix: str) -> list[str]:
        return sorted(self._iter_keys(prefix))

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": f"{self.prefix}{k}"} for k in keys[start : start + 1000]]
            try:
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except Exception as exc:
                raise self._translate(exc, prefix) from exc
        return len(keys)


def _iter_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    yield from iter(lambda: handle.read(_CHUNK_BYTES), b"")


def build_artifact_store(settings: Settings) -> ArtifactStore:
    """The store ``settings.artifacts.backend`` names: ``local`` (under data_dir) or ``s3``."""
    conf = settings.artifacts
    if conf.backend == "local":
        return LocalArtifactStore(settings.artifact_dir)
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=conf.s3_endpoint_url or None,
        aws_access_key_id=conf.s3_access_key_id or None,
        aws_secret_access_key=conf.s3_secret_access_key.get_secret_value() or None,
    )
    return S3ArtifactStore(client, conf.s3_bucket, conf.s3_prefix)
