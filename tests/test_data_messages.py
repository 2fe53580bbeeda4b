"""A run that needs a data set the machine does not have stops with a message that says how to get it."""

import pytest

from minidsn.data.errors import DataError
from minidsn.data.mnist import load_mnist


@pytest.mark.parametrize("kind", ["mnist", "fashion-mnist"])
def test_missing_files_name_the_place_and_the_fix(tmp_path, kind):
    with pytest.raises(DataError) as err:
        load_mnist(tmp_path, "train", kind)
    msg = str(err.value)
    assert str(tmp_path) in msg and "train-images-idx3-ubyte" in msg
    assert f"minidsn data fetch {kind}" in msg and "MINIDSN_DATA" in msg
