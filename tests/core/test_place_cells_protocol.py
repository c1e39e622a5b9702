"""PlaceCode: simulated and recorded place cells answer the task's questions alike."""

import numpy as np

from gridform.core.environment import Box
from gridform.core.place_cells import PlaceCells, PlaceCode
from gridform.data.recorded import RecordedPlaceCells


def _both():
    box = Box(1.0, 1.0)
    simulated = PlaceCells.lattice(16, box, kind="gaussian", sigma=0.1)
    grid = box.grid(10, 10)
    rates = np.asarray(simulated.encode(grid)).T.reshape(16, 10, 10)
    from gridform.core.ratemaps import Ratemaps

    x, y = box.bin_centers(10, 10)
    recorded = RecordedPlaceCells(Ratemaps(rates, np.ones((10, 10)), x, y), box)
    return simulated, recorded


def test_simulated_and_recorded_cells_are_place_codes():
    for code in _both():
        assert isinstance(code, PlaceCode)
        assert code.centers.shape == (code.n_cells, 2) and code.box == Box(1.0, 1.0)
    assert not isinstance(object(), PlaceCode)


def test_a_recorded_copy_of_a_code_encodes_like_it_at_its_bin_centres():
    simulated, recorded = _both()
    grid = simulated.box.grid(10, 10)
    np.testing.assert_allclose(np.asarray(recorded.encode(grid)),
                               np.asarray(simulated.encode(grid)), atol=1e-6)
    # a recorded cell's centre is its peak bin: within a bin of the peak of its code
    peak = np.asarray(grid)[np.argmax(np.asarray(simulated.encode(grid)), axis=0)]
    np.testing.assert_allclose(recorded.centers, peak, atol=1e-9)
