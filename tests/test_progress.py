"""progress= on uploads and downloads: a plain callback and a tqdm bar, sync and async."""

from __future__ import annotations

import io

import anyio
import pytest

import flame_hub
from flame_hub.testing import FakeHub

DATA = bytes(range(256)) * 1000  # 256,000 bytes: several 64 KiB chunks


@pytest.fixture(scope="module")
def hub():
    with FakeHub() as fake, flame_hub.Hub(fake.url, username="admin", password="start123") as hub:
        yield hub


@pytest.fixture
def bucket(hub):
    bucket = hub.storage.create_bucket(name="progress")
    yield bucket
    hub.storage.delete_bucket(bucket)


def test_upload_progress_with_a_callback(hub, bucket, tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(DATA)
    calls = []
    stored = hub.storage.upload_to_bucket(bucket, path, ("small.txt", b"hello"),
                                          ("stream.bin", io.BytesIO(DATA[:1000])),
                                          progress=lambda done, total: calls.append((done, total)))
    assert sorted(f.name for f in stored) == ["big.bin", "small.txt", "stream.bin"]
    total = len(DATA) + 5 + 1000
    assert calls[-1] == (total, total)
    assert len(calls) >= 4 and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert {t for _, t in calls} == {total}
    by_name = {f.name: f for f in stored}
    assert b"".join(hub.storage.stream_bucket_file(by_name["big.bin"])) == DATA


def test_upload_of_an_unsized_stream_reports_no_total(hub, bucket):
    class Unsized:
        """A file object that can only be read (no tell/seek/fileno)."""

        name = "pipe.bin"

        def __init__(self):
            self._buf = io.BytesIO(DATA[:5000])

        def read(self, n=-1):
            return self._buf.read(n)

    calls = []
    hub.storage.upload_to_bucket(bucket, Unsized(), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (5000, None)


def test_download_and_upload_drive_a_tqdm_bar(hub, bucket, tmp_path):
    tqdm = pytest.importorskip("tqdm").tqdm
    with tqdm(unit="B", unit_scale=True, file=io.StringIO()) as bar:
        (stored,) = hub.storage.upload_to_bucket(bucket, ("data.bin", DATA), progress=bar)
        assert (bar.n, bar.total) == (len(DATA), len(DATA))
    with tqdm(unit="B", unit_scale=True, file=io.StringIO()) as bar:
        hub.storage.download_bucket_file(stored, tmp_path / "copy.bin", progress=bar)
        assert (bar.n, bar.total) == (len(DATA), len(DATA))
    assert (tmp_path / "copy.bin").read_bytes() == DATA


def test_async_upload_progress(hub, bucket):
    calls = []

    async def main():
        async with flame_hub.AsyncHub(hub.url, username="admin", password="start123") as ahub:
            return await ahub.storage.upload_to_bucket(bucket, ("a.bin", DATA),
                                                       progress=lambda d, t: calls.append((d, t)))

    (stored,) = anyio.run(main)
    assert stored.name == "a.bin" and calls[-1] == (len(DATA), len(DATA)) and len(calls) >= 3


def test_bad_progress_is_refused_before_sending(hub, bucket):
    with pytest.raises(ValueError, match="progress must be"):
        hub.storage.upload_to_bucket(bucket, ("a.txt", b"x"), progress="yes")
    with pytest.raises(ValueError, match="progress must be"):
        hub.storage.download_bucket_file(bucket.id, "x", progress=42)


def test_tarball_download_with_progress(hub, bucket, tmp_path):
    import tarfile

    hub.storage.upload_to_bucket(bucket, ("a.bin", DATA), ("b.txt", b"hello"))
    calls = []
    path = hub.storage.download_bucket_tarball(bucket, tmp_path / "all.tar",
                                               progress=lambda d, t: calls.append((d, t)))
    assert path == tmp_path / "all.tar" and calls[-1][0] == path.stat().st_size > len(DATA)
    with tarfile.open(path) as tar:
        assert sorted(m.name.rsplit("/", 1)[-1] for m in tar.getmembers() if m.isfile()) == ["a.bin", "b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["all.tar"]      # no temporary file left
