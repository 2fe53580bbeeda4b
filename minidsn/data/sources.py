"""Canonical download locations and checksums of the real data sets (`minidsn data fetch`).

sha256 of MNIST / Fashion-MNIST are those of the *uncompressed* IDX files (../shared/data/README.md, checked there
against the files); the downloads are gzip'd and verified after decompression.  CIFAR-10's archive is verified as
downloaded: its MD5 is the one published on the CIFAR page (https://www.cs.toronto.edu/~kriz/cifar.html); its sha256
and size are as recorded by others who checked the official archive (not verified here: no copy was available
offline).  Both must match.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RemoteFile", "Dataset", "DATASETS"]


@dataclass(frozen=True)
class RemoteFile:
    remote: str                   # file name at base_url
    sha256: str                   # of the file after gunzip (when gunzip) or as downloaded
    gunzip: bool = False          # remote is .gz: store the decompressed file under remote minus ".gz"
    md5: str | None = None        # extra check of the download, when the publisher gives an MD5
    size: int | None = None       # bytes of the download, when known
    extract: tuple = ()           # tar members (path in the archive) to extract next to it, as their base names

    @property
    def local(self) -> str:
        return self.remote[:-3] if self.gunzip and self.remote.endswith(".gz") else self.remote


@dataclass(frozen=True)
class Dataset:
    name: str
    base_url: str
    files: tuple[RemoteFile, ...] = field(default_factory=tuple)


_MNIST_SHA = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_FASHION_SHA = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

DATASETS: dict[str, Dataset] = {
    "mnist": Dataset(
        "mnist",
        # The torchvision mirror of Y. LeCun's files (the original host often refuses scripted downloads).
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        tuple(RemoteFile(f"{n}.gz", s, gunzip=True) for n, s in _MNIST_SHA.items()),
    ),
    "fashion-mnist": Dataset(
        "fashion-mnist",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        tuple(RemoteFile(f"{n}.gz", s, gunzip=True) for n, s in _FASHION_SHA.items()),
    ),
    "cifar10": Dataset(
        "cifar10",
        "https://www.cs.toronto.edu/~kriz/",
        (RemoteFile(
            "cifar-10-binary.tar.gz",
            sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
            md5="c32a1d4ab5d03f1284b67883e8d87530",
            size=170052171,
            extract=tuple(f"cifar-10-batches-bin/{n}" for n in
                          ("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                           "data_batch_5.bin", "test_batch.bin", "batches.meta.txt")),
        ),),
    ),
}
