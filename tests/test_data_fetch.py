"""`minidsn data fetch` against a small HTTP server on 127.0.0.1 serving files the test writes (no internet)."""

import gzip
import hashlib
import http.server
import io
import tarfile
import threading

import numpy as np
import pytest

from minidsn.data import DataError, load_cifar10, load_mnist
from minidsn.data import sources
from minidsn.data.fetch import fetch_dataset
from minidsn.data.sources import Dataset, RemoteFile


def idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file (uint8) for ``arr``: zero bytes, type 0x08, ndim, big-endian sizes, data."""
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


class Server:
    """Serves ``files`` (name -> bytes) with Range support; ``cut[name] = n`` sends only n bytes then hangs up."""

    def __init__(self):
        self.files, self.cut, self.requests = {}, {}, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                outer.requests.append((name, self.headers.get("Range")))
                if name not in outer.files:
                    self.send_error(404)
                    return
                data = outer.files[name]
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                n = outer.cut.pop(name, None)
                self.wfile.write(body if n is None else body[:n])
                self.wfile.flush()
                if n is not None:
                    self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def fake_mnist(rng, n=50):
    imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labs = rng.integers(0, 10, n, dtype=np.uint8)
    raw = {"train-images-idx3-ubyte": idx_bytes(imgs), "train-labels-idx1-ubyte": idx_bytes(labs),
           "t10k-images-idx3-ubyte": idx_bytes(imgs[:5]), "t10k-labels-idx1-ubyte": idx_bytes(labs[:5])}
    return imgs, labs, raw


@pytest.fixture
def server():
    with Server() as s:
        yield s


def install_fake_mnist(monkeypatch, server, raw):
    files = []
    for name, data in raw.items():
        server.files[f"{name}.gz"] = gzip.compress(data)
        files.append(RemoteFile(f"{name}.gz", hashlib.sha256(data).hexdigest(), gunzip=True))
    monkeypatch.setitem(sources.DATASETS, "mnist", Dataset("mnist", server.url, tuple(files)))
    import minidsn.data.fetch as fetch

    monkeypatch.setitem(fetch.DATASETS, "mnist", sources.DATASETS["mnist"])


def test_fetch_verify_load_and_skip_when_present(tmp_path, monkeypatch, server):
    imgs, labs, raw = fake_mnist(np.random.default_rng(0))
    install_fake_mnist(monkeypatch, server, raw)
    paths = fetch_dataset("mnist", tmp_path)
    assert sorted(p.name for p in paths) == sorted(raw)
    x, y = load_mnist(tmp_path, "train")
    assert np.array_equal(x, imgs) and np.array_equal(y, labs)
    assert not list((tmp_path / "mnist").glob("*.part")) and not list((tmp_path / "mnist").glob("*.gz"))
    n = len(server.requests)
    fetch_dataset("mnist", tmp_path)  # all present and verified: no download
    assert len(server.requests) == n


def test_fetch_resumes_a_cut_download(tmp_path, monkeypatch, server):
    _, _, raw = fake_mnist(np.random.default_rng(1), n=400)
    install_fake_mnist(monkeypatch, server, raw)
    big = "train-images-idx3-ubyte.gz"
    server.cut[big] = 5000
    with pytest.raises(DataError, match="cut off.*run the fetch again"):
        fetch_dataset("mnist", tmp_path)
    part = tmp_path / "mnist" / f"{big}.part"
    assert part.stat().st_size == 5000
    assert not (tmp_path / "mnist" / "train-images-idx3-ubyte").exists()  # nothing half-written in place
    fetch_dataset("mnist", tmp_path)
    assert (big, "bytes=5000-") in server.requests
    assert hashlib.sha256((tmp_path / "mnist" / "train-images-idx3-ubyte").read_bytes()).hexdigest() == \
        hashlib.sha256(raw["train-images-idx3-ubyte"]).hexdigest()


def test_fetch_checksum_mismatch_leaves_nothing(tmp_path, monkeypatch, server):
    _, _, raw = fake_mnist(np.random.default_rng(2))
    install_fake_mnist(monkeypatch, server, raw)
    server.files["train-labels-idx1-ubyte.gz"] = gzip.compress(b"tampered")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte: sha256 .* expected"):
        fetch_dataset("mnist", tmp_path)
    d = tmp_path / "mnist"
    assert not (d / "train-labels-idx1-ubyte").exists()
    assert not list(d.glob("*.part")) and not list(d.glob(".tmp-*"))


def test_fetch_http_error_and_unknown(tmp_path, monkeypatch, server):
    _, _, raw = fake_mnist(np.random.default_rng(3))
    install_fake_mnist(monkeypatch, server, raw)
    del server.files["t10k-images-idx3-ubyte.gz"]
    with pytest.raises(DataError, match="HTTP 404"):
        fetch_dataset("mnist", tmp_path)
    with pytest.raises(DataError, match="unknown data set"):
        fetch_dataset("imagenet", tmp_path)


def test_fetch_cifar_archive(tmp_path, monkeypatch, server):
    rng = np.random.default_rng(4)
    members = {}
    for name in ("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                 "data_batch_5.bin", "test_batch.bin"):
        lab = rng.integers(0, 10, (2, 1), dtype=np.uint8)
        members[name] = np.concatenate([lab, rng.integers(0, 256, (2, 3072), dtype=np.uint8)], 1).tobytes()
    members["batches.meta.txt"] = b"airplane\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        evil = tarfile.TarInfo("../../evil.txt")  # never extracted: only listed names are
        evil.size = 1
        tar.addfile(evil, io.BytesIO(b"x"))
    blob = buf.getvalue()
    server.files["cifar-10-binary.tar.gz"] = blob
    real = sources.DATASETS["cifar10"].files[0]
    fake = RemoteFile(real.remote, hashlib.sha256(blob).hexdigest(), md5=hashlib.md5(blob).hexdigest(),
                      size=len(blob), extract=real.extract)
    import minidsn.data.fetch as fetch

    monkeypatch.setitem(fetch.DATASETS, "cifar10", Dataset("cifar10", server.url, (fake,)))
    fetch_dataset("cifar10", tmp_path)
    assert not (tmp_path.parent / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    x, y = load_cifar10(tmp_path, "test")
    assert x.shape == (2, 3, 32, 32)
    # a wrong md5 is caught
    monkeypatch.setitem(fetch.DATASETS, "cifar10", Dataset("cifar10", server.url, (
        RemoteFile(real.remote, fake.sha256, md5="0" * 32, size=len(blob), extract=real.extract),)))
    with pytest.raises(DataError, match="md5"):
        fetch_dataset("cifar10", tmp_path / "other")


def test_cli_data_fetch(tmp_path, monkeypatch, server, capsys):
    _, _, raw = fake_mnist(np.random.default_rng(5))
    install_fake_mnist(monkeypatch, server, raw)
    from minidsn.cli import main

    assert main(["data", "fetch", "mnist", "--dir", str(tmp_path)]) == 0
    assert "train-images-idx3-ubyte" in capsys.readouterr().out
    server.files["train-labels-idx1-ubyte.gz"] = b"junk"
    (tmp_path / "mnist" / "train-labels-idx1-ubyte").unlink()
    assert main(["data", "fetch", "mnist", "--dir", str(tmp_path)]) == 1
    assert "error:" in capsys.readouterr().err


def test_canonical_table_is_complete():
    for name, ds in sources.DATASETS.items():
        assert ds.base_url.startswith("http")
        for f in ds.files:
            assert len(f.sha256) == 64 and all(c in "0123456789abcdef" for c in f.sha256)
    assert len(sources.DATASETS["mnist"].files) == 4 and len(sources.DATASETS["fashion-mnist"].files) == 4
