"""Every form of calibration data becomes feed dicts shaped like the model's inputs."""
import numpy as np
import pytest
from PIL import Image

from edgepress.convert.ir import Tensor
from edgepress.errors import UsageError
from edgepress.quantize.data import ImageOptions, samples

X = Tensor("x", (1, 3, 8, 8))
Z = Tensor("z", (1, 4))


def test_npy_stack_with_or_without_sample_axis(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((5, 1, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "a.npy", data)
    np.save(tmp_path / "b.npy", data[:, 0])  # samples stacked along the batch axis
    for name in ("a.npy", "b.npy"):
        feeds = list(samples(str(tmp_path / name), [X]))
        assert len(feeds) == 5
        np.testing.assert_array_equal(feeds[3]["x"], data[3])
    assert len(list(samples(str(tmp_path / "a.npy"), [X], limit=2))) == 2


def test_npz_keyed_by_input_name(tmp_path):
    rng = np.random.default_rng(1)
    xs, zs = rng.standard_normal((3, 1, 3, 8, 8)), rng.standard_normal((3, 1, 4))
    np.savez(tmp_path / "d.npz", x=xs, z=zs)
    feeds = list(samples(str(tmp_path / "d.npz"), [X, Z]))
    assert [sorted(f) for f in feeds] == [["x", "z"]] * 3
    np.testing.assert_allclose(feeds[2]["z"], zs[2].astype(np.float32))
    assert feeds[0]["x"].dtype == np.float32
    np.savez(tmp_path / "bad.npz", x=xs)
    with pytest.raises(UsageError, match="no array for input"):
        list(samples(str(tmp_path / "bad.npz"), [X, Z]))


def test_folder_of_images_resized_normalized_and_laid_out(tmp_path):
    Image.new("RGB", (20, 10), (255, 0, 102)).save(tmp_path / "a.png")
    Image.new("RGB", (5, 5), (0, 255, 51)).save(tmp_path / "b.jpg", quality=100)
    (tmp_path / "notes.txt").write_text("not an image")
    opts = ImageOptions(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    feeds = list(samples(str(tmp_path), [X], images=opts))
    assert len(feeds) == 2 and feeds[0]["x"].shape == (1, 3, 8, 8)
    np.testing.assert_allclose(feeds[0]["x"][0, :, 4, 4], [1.0, -1.0, 102 / 255 * 2 - 1], atol=1e-6)
    bgr = list(samples(str(tmp_path), [X], images=ImageOptions(color="BGR")))
    np.testing.assert_allclose(bgr[0]["x"][0, :, 0, 0], [0.4, 0.0, 1.0], atol=1e-6)
    nhwc = Tensor("img", (1, 6, 7, 1))
    gray = list(samples(str(tmp_path), [nhwc], images=ImageOptions(color="GRAY")))
    assert gray[0]["img"].shape == (1, 6, 7, 1)
    expected = (255 * 299 + 102 * 114) / 1000 / 255  # ITU-R 601 luma, as Pillow's "L"
    assert abs(float(gray[0]["img"][0, 3, 3, 0]) - expected) < 2 / 255


def test_iterables_and_representative_dataset():
    rng = np.random.default_rng(2)
    dicts = [{"x": rng.standard_normal((1, 3, 8, 8)), "z": rng.standard_normal((1, 4))} for _ in range(3)]
    assert len(list(samples(dicts, [X, Z]))) == 3

    def representative_dataset():  # TFLite's convention: a function yielding lists in input order
        for d in dicts:
            yield [d["x"].astype(np.float32), d["z"].astype(np.float32)]

    feeds = list(samples(representative_dataset, [X, Z]))
    np.testing.assert_allclose(feeds[1]["z"], dicts[1]["z"].astype(np.float32))
    unbatched = list(samples([rng.standard_normal((3, 8, 8))], [X]))
    assert unbatched[0]["x"].shape == (1, 3, 8, 8)


@pytest.mark.parametrize("data,match", [
    ([{"x": np.zeros((1, 3, 8, 9))}], "has shape"),
    ([{"y": np.zeros((1, 3, 8, 8))}], "no value for input"),
    ([[np.zeros((1, 3, 8, 8)), np.zeros((1, 4))]], "2 value"),
])
def test_bad_samples_are_usage_errors(data, match):
    with pytest.raises(UsageError, match=match):
        list(samples(data, [X]))


def test_bad_paths(tmp_path):
    with pytest.raises(UsageError, match="no images"):
        list(samples(str(tmp_path), [X]))
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(UsageError, match="expected a folder"):
        list(samples(str(tmp_path / "x.csv"), [X]))
