import numpy as np
import pytest

from gridform import Box, RatemapAccumulator, Ratemaps, compute_ratemaps, load_ratemaps


def test_ratemaps_recover_a_known_tuning_and_nan_unvisited(rng):
    box = Box(2.0, 1.0)
    pos = np.stack([rng.uniform(-1, 0.5, 20000), rng.uniform(-0.5, 0.5, 20000)], -1)
    act = np.stack([pos[:, 0] + 2, np.ones(len(pos))], -1)
    maps = compute_ratemaps(pos, act, box, bins=(8, 4))
    assert maps.rates.shape == (2, 4, 8)
    # x in [0.5, 1] never visited: the last two columns are NaN
    assert np.isnan(maps.rates[:, :, 6:]).all()
    np.testing.assert_allclose(maps.rates[1, :, :6], 1.0)
    np.testing.assert_allclose(maps.rates[0, 0, :6], maps.x_centers[:6] + 2, atol=0.01)
    assert maps.occupancy.sum() == 20000
    np.testing.assert_allclose(maps.x_centers, np.linspace(-0.875, 0.875, 8))


def test_batched_and_streamed_inputs_agree(rng):
    box = Box()
    pos = rng.uniform(-1.1, 1.1, (10, 50, 2))
    act = rng.random((10, 50, 3))
    a = compute_ratemaps(pos, act, box, bins=10)
    acc = RatemapAccumulator(box, 3, 10)
    for i in range(10):
        acc.add(pos[i], act[i])
    b = acc.result()
    np.testing.assert_allclose(a.rates, b.rates)
    np.testing.assert_array_equal(a.occupancy, b.occupancy)


def test_save_load_round_trip(tmp_path, rng):
    maps = Ratemaps(rng.random((3, 5, 6)), np.ones((5, 6)), np.arange(6) * 0.1,
                    np.arange(5) * 0.1)
    path = maps.save(tmp_path / "maps.npz")
    with np.load(path) as f:
        assert set(f.files) == {"rates", "occupancy", "x_centers", "y_centers"}
    back = load_ratemaps(path)
    np.testing.assert_allclose(back.rates, maps.rates, rtol=1e-6)
    np.testing.assert_array_equal(back.x_centers, maps.x_centers)


@pytest.mark.parametrize("make, match", [
    (lambda: Ratemaps(np.zeros(5), np.zeros(5), np.arange(5.0), np.arange(1.0)), "shape"),
    (lambda: Ratemaps(np.full((1, 2, 2), np.inf), np.ones((2, 2)), [0, 1.0], [0, 1.0]),
     "infinite"),
    (lambda: Ratemaps(np.zeros((1, 2, 3)), np.ones((2, 3)), [0, 1.0], [0, 1.0]),
     "does not match"),
    (lambda: Ratemaps(np.zeros((1, 2, 2)), np.ones((2, 2)), [1.0, 0.0], [0, 1.0]),
     "increasing"),
])
def test_malformed_ratemaps_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mismatched_or_bad_samples_are_rejected(rng):
    box = Box()
    with pytest.raises(ValueError, match="disagree"):
        compute_ratemaps(rng.random((10, 2)), rng.random((9, 3)), box)
    with pytest.raises(ValueError, match="NaN"):
        compute_ratemaps(np.full((10, 2), np.nan), rng.random((10, 3)), box)
    with pytest.raises(ValueError, match="activity"):
        compute_ratemaps(rng.random((10, 2)), rng.random(10), box)


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_ratemaps(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    # never numpy's advice to unpickle: the file is simply not an archive
    with pytest.raises(ValueError, match=r"not an \.npz archive \(not a zip file\)"):
        load_ratemaps(bad)
    corrupt = tmp_path / "corrupt.npz"  # a zip whose member is damaged
    np.savez(corrupt, rates=np.arange(2 * 8 * 8.0).reshape(2, 8, 8))
    raw = bytearray(corrupt.read_bytes())
    raw[200:260] = b"\xff" * 60
    corrupt.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="not a readable"):
        load_ratemaps(corrupt)
    nokeys = tmp_path / "nokeys.npz"
    np.savez(nokeys, foo=np.zeros(3))
    with pytest.raises(ValueError, match="lacks"):
        load_ratemaps(nokeys)
