"""Bring your own data: RatInABox and recorded trajectories, NWB, recorded place cells,
and the tests of the theory's assumptions (issue 7)."""

import builtins
import json
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gridform import Box, Ratemaps
from gridform.cli.app import main
from gridform.core.ratemaps import RatemapAccumulator, load_ratemaps
from gridform.data import (
    DataError,
    MissingExtraError,
    RecordedPath,
    RecordedPlaceCells,
    load_path,
    network_ratemaps,
    test_assumptions,
)
from gridform.data.assumptions import translation_invariance
from gridform.data.nwb import read_nwb, read_path, read_place_cell_maps, write_nwb
from gridform.data.synthetic import (
    heterogeneous_place_cells,
    lattice_ratemaps,
    uniform_place_cells,
)
from gridform.theory.spectrum import grid_spacing, ring_wavenumber
from gridform.training import build_task, load_config, train
from gridform.training.loop import load_params

test_assumptions.__test__ = False  # a library function, not a pytest test


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A small trained network (64 units) and its task."""
    run = tmp_path_factory.mktemp("run")
    # the tests read the network, never how well it learned: a few small batches will do
    cfg = load_config("demo", overrides=["n_hidden=64", "n_place_cells=128", "steps=10",
                                         "batch_size=20"])
    train(cfg, run)
    return build_task(cfg), load_params(run), run


@pytest.fixture(scope="module")
def agent():
    """A real RatInABox Agent driven for one simulated minute in a 2.2 m box."""
    from ratinabox.Agent import Agent
    from ratinabox.Environment import Environment

    np.random.seed(0)  # noqa: NPY002 (RatInABox draws from numpy's global generator)
    env = Environment(params={"scale": 2.2, "aspect": 1.0, "boundary_conditions": "solid"})
    ag = Agent(env, params={"dt": 0.02, "speed_mean": 0.3})
    for _ in range(3000):
        ag.update()
    return ag


def straight_path(n=101, dt=0.02, v=(0.5, -0.25), box=None):
    box = box or Box(2.2, 2.2)
    t = dt * np.arange(n)
    p = np.array([-0.9, 0.6]) + np.outer(t, v)
    return RecordedPath(t, p, box)


# --------------------------------------------------------------------------- RatInABox
def test_ratinabox_agent_imports_to_float_precision(agent):
    path = RecordedPath.from_ratinabox(agent)
    assert path.box == Box(2.2, 2.2, "walls")
    assert path.n == 3000 and abs(path.times[-1] - 60.0) < 1e-6
    hist = np.asarray(agent.history["pos"])
    # corner origin (RatInABox) -> centre origin (gridform): shift by half the box
    np.testing.assert_allclose(path.positions + 1.1, hist, rtol=0, atol=1e-12)
    assert path.uniform and abs(path.dt - 0.02) < 1e-12


def test_ratinabox_periodic_environment_becomes_a_torus():
    from ratinabox.Agent import Agent
    from ratinabox.Environment import Environment

    env = Environment(params={"scale": 1.0, "aspect": 2.0, "boundary_conditions": "periodic"})
    ag = Agent(env, params={"dt": 0.05})
    for _ in range(50):
        ag.update()
    path = RecordedPath.from_ratinabox(ag)
    assert path.box == Box(2.0, 1.0, "periodic")


@pytest.mark.slow
def test_network_ratemaps_along_ratinabox_path(small_run, agent):
    task, params, _ = small_run
    path = RecordedPath.from_ratinabox(agent)
    maps, err = network_ratemaps(task, params, path, bins=20)
    # the same numbers computed by hand: windows of the training length, each started
    # from the true place code, hidden activity binned at the true positions
    traj = path.windows(task.config.sequence_length)
    hs, _ = task.apply(params, *task.network_inputs(traj.velocities, traj.start_positions))
    acc = RatemapAccumulator(task.box, task.config.n_hidden, 20)
    acc.add(np.asarray(traj.positions).reshape(-1, 2),
            np.asarray(hs, np.float32).reshape(-1, task.config.n_hidden))
    expected = acc.result()
    assert maps.rates.shape == (64, 20, 20)
    assert maps.occupancy.sum() == traj.n_batch * task.config.sequence_length == 2980
    np.testing.assert_allclose(maps.rates, expected.rates, rtol=1e-5, atol=1e-6)
    assert np.array_equal(np.isnan(maps.rates[0]), maps.occupancy == 0)
    assert 0 < err < 2.2


def test_windows_are_the_path():
    path = straight_path()
    w = path.windows(20)
    assert w.n_batch == 5
    np.testing.assert_allclose(np.asarray(w.velocities), np.broadcast_to([0.5, -0.25],
                                                                        (5, 20, 2)), atol=1e-6)
    np.testing.assert_allclose(np.asarray(w.positions[1]), path.positions[21:41], atol=1e-6)
    np.testing.assert_allclose(np.asarray(w.start_positions[1]), path.positions[20], atol=1e-6)


def test_resample_linear_path_exactly():
    t = np.sort(np.r_[0.0, np.random.default_rng(0).uniform(0, 2, 60), 2.0])
    p = np.array([-1.0, 0.2]) + np.outer(t, [0.4, -0.3])
    r = RecordedPath(t, p, Box(2.2, 2.2)).resample(0.05)
    assert r.uniform and r.n == 41
    np.testing.assert_allclose(r.positions, np.array([-1.0, 0.2]) + np.outer(r.times, [0.4, -0.3]),
                               atol=1e-12)
    np.testing.assert_allclose(r.velocities(), np.broadcast_to([0.4, -0.3], (40, 2)), atol=1e-9)


def test_torus_path_unwraps_across_the_edge():
    box = Box(1.0, 1.0, "periodic")
    t = 0.1 * np.arange(6)
    x = np.array([0.3, 0.4, -0.5 + 0.0, -0.4, -0.3, -0.2])  # crosses x = +0.5 after sample 1
    path = RecordedPath(t, np.stack([x, np.zeros(6)], 1), box)
    np.testing.assert_allclose(path.velocities()[:, 0], 1.0, atol=1e-9)
    r = path.resample(0.05)
    assert np.all(np.abs(r.positions[:, 0]) <= 0.5 + 1e-12)
    np.testing.assert_allclose(np.diff(r.unwrapped()[:, 0]), 0.05, atol=1e-9)


# --------------------------------------------------------------------------- bad paths
@pytest.mark.parametrize("mutate, message", [
    (lambda t, p: (t, np.where(np.arange(len(t))[:, None] == 7, np.nan, p)), "index 7"),
    (lambda t, p: (t, p + np.where(np.arange(len(t))[:, None] >= 30, 0.5, 0.0)), "jumps"),
    (lambda t, p: (np.r_[t[:10], t[9], t[11:]], p), "increase strictly"),
    (lambda t, p: (t, p * 100), "outside"),
])
def test_bad_paths_are_named(mutate, message):
    base = straight_path()
    t, p = mutate(base.times.copy(), base.positions.copy())
    with pytest.raises(DataError, match=message):
        RecordedPath(t, p, base.box)


def test_units_and_origin_hints():
    box = Box(2.2, 2.2)
    t = 0.02 * np.arange(50)
    corner = np.c_[np.linspace(0.2, 2.0, 50), np.full(50, 1.9)]  # metres from a corner
    with pytest.raises(DataError, match="origin='corner'"):
        RecordedPath.from_arrays(t, corner, box)
    ok = RecordedPath.from_arrays(t, corner * 100, box, origin="corner", units="cm")
    np.testing.assert_allclose(ok.positions, corner - 1.1, atol=1e-12)
    with pytest.raises(DataError, match="cm or mm"):
        RecordedPath.from_arrays(t, (corner - 1.1) * 1000, box, max_speed=1e9)


def test_import_trajectory_cli(tmp_path, capsys):
    csv = tmp_path / "track.csv"
    rows = ["time,px,py"] + [f"{0.02 * i:.2f},{50 + i},{100}" for i in range(100)]
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "track.npz"
    args = ["import-trajectory", str(csv), "--out", str(out), "--box", "2.2", "2.2",
            "--origin", "corner", "--units", "cm", "--columns", "time,px,py"]
    assert main(args) == 0
    path = load_path(out)
    np.testing.assert_allclose(path.positions[3], [0.53 - 1.1, 1.0 - 1.1], atol=1e-12)
    before = out.read_bytes()
    assert main(args) == 2  # exists, no --force
    assert out.read_bytes() == before
    bad = tmp_path / "bad.csv"
    bad.write_text("time,px,py\n0,1,1\n0.02,,1\n0.04,1,1\n")
    bad_out = tmp_path / "bad.npz"
    assert main(["import-trajectory", str(bad), "--out", str(bad_out), "--box", "2.2", "2.2",
                 "--origin", "corner", "--units", "cm", "--columns", "time,px,py"]) == 2
    assert "NaN" in capsys.readouterr().err
    assert not bad_out.exists()
    assert main(["import-trajectory", str(csv), "--out", str(bad_out), "--box", "2.2", "2.2",
                 "--columns", "t,x,y"]) == 2
    assert "no column 't'" in capsys.readouterr().err
    assert list(tmp_path.glob(".*tmp*")) == []


# --------------------------------------------------------------------------- NWB
def _inspect_errors(path):
    """nwbinspector's critical and error messages, less the subject checks: a simulation
    has no animal to describe, and gridform invents none (such a file is not meant for
    an archive of recordings, which requires a subject's species and age)."""
    from nwbinspector import Importance, inspect_nwbfile

    bad = {Importance.CRITICAL, Importance.ERROR, Importance.PYNWB_VALIDATION}
    return [m for m in inspect_nwbfile(nwbfile_path=str(path)) if m.importance in bad
            and not m.check_function_name.startswith("check_subject")]


@pytest.mark.slow
def test_nwb_round_trip_recorded_cells(tmp_path, agent):
    path = RecordedPath.from_ratinabox(agent).resample(0.02)
    rng = np.random.default_rng(1)
    spikes = [np.sort(rng.uniform(0, 60, int(rng.integers(5, 40)))) for _ in range(6)]
    maps = uniform_place_cells(6, bins=16, kind="gaussian", noise=0.0)
    maps = Ratemaps(np.where(maps.rates > 0.5, np.nan, maps.rates), maps.occupancy,
                    maps.x_centers, maps.y_centers)
    scores = {"score_60": rng.normal(size=6), "spacing_m": rng.uniform(0.3, 1, 6)}
    f = write_nwb(tmp_path / "rec.nwb", trajectory=path, ratemaps=maps, scores=scores,
                  spike_times=spikes)
    assert _inspect_errors(f) == []
    import pynwb

    with pynwb.NWBHDF5IO(str(f), "r") as io:  # simulated data invents no animal
        nwb = io.read()
        assert nwb.subject is None and "simulated" in nwb.data_collection
    back = read_nwb(f)
    assert np.array_equal(back["trajectory"].times, path.times)
    assert np.array_equal(back["trajectory"].positions, path.positions)
    assert back["trajectory"].box == path.box
    assert np.array_equal(back["ratemaps"].rates, maps.rates, equal_nan=True)
    assert np.array_equal(back["ratemaps"].x_centers, maps.x_centers)
    assert all(np.array_equal(a, b) for a, b in zip(back["spike_times"], spikes, strict=True))
    for k, v in scores.items():
        assert np.array_equal(back["scores"][k], v)
    import pynapple as nap

    data = nap.load_file(str(f))
    try:
        assert len(data["units"]) == 6
        np.testing.assert_allclose(data["position"].values, path.positions)
        np.testing.assert_allclose(data["units"][2].index.values, spikes[2])
    finally:
        data.close()


def test_nwb_readers_refuse_another_box(tmp_path):
    path = straight_path()
    f = write_nwb(tmp_path / "walk.nwb", trajectory=path)
    other = Box(path.box.width / 2, path.box.height, path.box.boundary)
    for read in (read_path, read_nwb):
        with pytest.raises(DataError, match=f"{path.box.width} x {path.box.height} m"):
            read(f, other)
        assert read(f, path.box) is not None  # the recorded box itself is accepted
    assert read_nwb(f)["trajectory"].box == path.box


@pytest.mark.slow
def test_nwb_model_units_and_overwrite(tmp_path, small_run):
    _, _, run = small_run
    assert main(["evaluate", str(run), "--batches", "2"]) == 0
    out = tmp_path / "model.nwb"
    assert main(["export-nwb", str(run), "--out", str(out)]) == 0
    assert _inspect_errors(out) == []
    back = read_nwb(out)
    maps = load_ratemaps(run / "ratemaps.npz")
    assert np.array_equal(back["ratemaps"].rates, maps.rates, equal_nan=True)
    assert "score_60" in back["scores"] and back["spike_times"] is None
    before = out.read_bytes()
    assert main(["export-nwb", str(run), "--out", str(out)]) == 2
    assert out.read_bytes() == before


def test_ratemaps_from_spikes_and_positions(tmp_path):
    # the agent sweeps the box row by row at constant speed; the cell fires at every
    # sample with x > 0, so its rate is 1/dt there and 0 elsewhere
    box = Box(1.0, 1.0)
    dt = 0.05
    xs = np.linspace(-0.49, 0.49, 99)
    ys = np.linspace(-0.45, 0.45, 10)
    pos = np.concatenate([np.c_[xs if i % 2 == 0 else xs[::-1], np.full(99, y)]
                          for i, y in enumerate(ys)])
    t = dt * np.arange(len(pos))
    spikes = t[pos[:, 0] > 0.02]
    f = write_nwb(tmp_path / "sweep.nwb", trajectory=RecordedPath(t, pos, box),
                  spike_times=[spikes])
    maps = read_place_cell_maps(f, bins=5, min_occupancy_s=0.0)
    r = maps.rates[0]
    np.testing.assert_allclose(r[:, 3:], 1 / dt, rtol=0.02)
    np.testing.assert_allclose(r[:, :2], 0.0)


def test_malformed_nwb_is_reported(tmp_path, capsys):
    junk = tmp_path / "junk.nwb"
    junk.write_bytes(b"\x89HDF\r\n" + os.urandom(2000))
    with pytest.raises(DataError, match="not a readable NWB file"):
        read_nwb(junk)
    out = tmp_path / "A"
    assert main(["assumptions", str(junk), "--out", str(out)]) == 2
    assert "not a readable NWB" in capsys.readouterr().err
    assert not out.exists()


def _foreign_nwb(path, data, t, unit="meters", conversion=1.0):
    """An NWB file written by pynwb directly (not by gridform): it records no box."""
    import datetime as dt

    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.behavior import Position, SpatialSeries
    from pynwb.file import Subject

    f = NWBFile(session_description="tracking", identifier="x",
                session_start_time=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                subject=Subject(subject_id="r1", species="Rattus norvegicus"))
    beh = f.create_processing_module("behavior", "tracking")
    beh.add(Position(spatial_series=SpatialSeries(
        name="led", data=data, timestamps=t, unit=unit, conversion=conversion,
        reference_frame="lower-left corner"), name="Position"))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(f)
    return path


@pytest.mark.parametrize("unit", ["degrees", "volts"])
def test_wrong_position_units_in_nwb(tmp_path, capsys, unit):
    t = 0.02 * np.arange(50)
    f = _foreign_nwb(tmp_path / "bad.nwb", np.c_[np.linspace(0, 0.9, 50), np.zeros(50)], t,
                     unit=unit)
    with pytest.raises(DataError, match="not a length"):
        load_path(f, Box(2.2, 2.2))
    out = tmp_path / "walk.npz"
    assert main(["import-trajectory", str(f), "--out", str(out), "--box", "2.2", "2.2"]) == 2
    assert f"{unit!r} is not a length" in capsys.readouterr().err
    assert not out.exists()


def test_missing_extra_names_it(monkeypatch, tmp_path, capsys):
    real = builtins.__import__

    def blocked(name, *a, **k):
        if name == "pynwb" or name.startswith("pynwb."):
            raise ImportError("No module named 'pynwb'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", blocked)
    monkeypatch.delitem(__import__("sys").modules, "pynwb", raising=False)
    with pytest.raises(MissingExtraError, match=r"gridform\[nwb\]"):
        write_nwb(tmp_path / "x.nwb", trajectory=straight_path())
    maps = uniform_place_cells(4, bins=8)
    maps.save(tmp_path / "m.npz")
    assert main(["export-nwb", str(tmp_path / "m.npz"), "--out", str(tmp_path / "x.nwb")]) == 2
    assert "gridform[nwb]" in capsys.readouterr().err
    assert not (tmp_path / "x.nwb").exists()


# --------------------------------------------------------------------------- place cells
def test_recorded_place_cells_interpolate_and_normalise():
    maps = uniform_place_cells(30, bins=12, kind="gaussian", noise=0.0)
    pc = RecordedPlaceCells(maps, Box(2.2, 2.2))
    grid = Box(2.2, 2.2).grid(12, 12)
    code = np.asarray(pc.encode(grid))
    expected = maps.rates.reshape(30, -1).T
    np.testing.assert_allclose(code, expected / expected.sum(1, keepdims=True), rtol=1e-4,
                               atol=1e-6)
    mid = (grid[0] + grid[1]) / 2  # halfway between two bin centres along x
    raw = RecordedPlaceCells(maps, Box(2.2, 2.2), normalise=False)
    np.testing.assert_allclose(np.asarray(raw.encode(mid)),
                               (maps.rates[:, 0, 0] + maps.rates[:, 0, 1]) / 2, rtol=1e-5)
    peak = np.unravel_index(np.argmax(maps.rates[5]), (12, 12))
    np.testing.assert_allclose(pc.centers[5], [maps.x_centers[peak[1]],
                                               maps.y_centers[peak[0]]])
    with pytest.raises(DataError, match="nonnegative"):
        RecordedPlaceCells(uniform_place_cells(5, bins=12, kind="dog"), Box(2.2, 2.2))
    with pytest.raises(DataError, match="cover"):
        RecordedPlaceCells(maps, Box(1.0, 1.0))


def test_place_cell_file_is_read_once_until_it_changes(tmp_path, monkeypatch):
    import gridform.data.recorded as recorded

    reads = []
    monkeypatch.setattr(recorded, "load_ratemaps",
                        lambda path: reads.append(path) or load_ratemaps(path))
    path = tmp_path / "cells.npz"
    uniform_place_cells(20, bins=12, kind="dos", noise=0.0, seed=1).save(path)
    first = recorded.load_place_cell_maps(path)
    assert recorded.load_place_cell_maps(tmp_path / "." / "cells.npz") is first
    assert len(reads) == 1
    with pytest.raises(ValueError, match="read-only"):
        first.rates[0, 0, 0] = 1.0  # a shared, cached array must not be edited
    # a rewritten file (another size) is read again and gives the new cells
    uniform_place_cells(30, bins=12, kind="dos", noise=0.0, seed=2).save(path)
    assert recorded.load_place_cell_maps(path).n_cells == 30
    assert len(reads) == 2


@pytest.mark.slow
def test_train_on_recorded_targets_and_trajectory(tmp_path, agent, capsys):
    maps = uniform_place_cells(64, bins=24, kind="dos", noise=0.0, seed=3)
    data = tmp_path / "rat's data"  # quotes in a path must survive into the config
    data.mkdir()
    maps.save(data / "cells.npz")
    RecordedPath.from_ratinabox(agent).save(data / "walk.npz")
    run = tmp_path / "run"
    assert main(["train", "--preset", "demo", "--set", "n_hidden=32", "--steps", "30",
                 "--targets", str(data / "cells.npz"), "--trajectories",
                 str(data / "walk.npz"), "--out", str(run)]) == 0
    cfg = json.loads((run / "config.json").read_text())["config"]
    assert cfg["n_place_cells"] == 64
    assert cfg["place_cell_file"] == str((data / "cells.npz").resolve())
    assert cfg["trajectory_file"] == str((data / "walk.npz").resolve())
    task = build_task(load_config("demo", overrides=["n_hidden=32"], n_place_cells=64,
                                  place_cell_file=str(data / "cells.npz"),
                                  trajectory_file=str(data / "walk.npz")))
    v, p0, targets = task.training_batch(jax.random.key(5))
    walk = load_path(data / "walk.npz")
    # every training window is a piece of the recorded walk
    starts = np.asarray(p0)  # codes of the start positions
    v = np.asarray(v)  # (T, B, 2), the network's velocity input
    first = np.asarray(task._recorded_windows(jax.random.key(5), 4).start_positions)
    for s in first:
        assert np.min(np.linalg.norm(walk.positions - s, axis=1)) < 1e-6
    b = task.config.batch_size
    assert starts.shape == (b, 64) and np.asarray(targets).shape == (20, b, 64)
    np.testing.assert_allclose(np.asarray(targets).sum(-1), 1.0, rtol=1e-5)
    # the speeds are the walk's own, in the units the network is given
    speed = np.linalg.norm(v, axis=-1)
    walk_v, _ = task.network_inputs(walk.velocities(), walk.positions[:1])
    walk_speed = np.linalg.norm(np.asarray(walk_v), axis=-1)
    assert np.median(walk_speed) < np.max(speed) <= np.max(walk_speed) * (1 + 1e-4)
    assert main(["evaluate", str(run), "--batches", "2"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    # the prediction comes from the recorded code's own ring (64 DoS cells: wider fields
    # than the analytic, dense-population 0.739 m)
    from gridform.data.assumptions import covariance_spectrum

    own = covariance_spectrum(maps)["predicted_spacing_m"]
    assert summary["predicted_spacing_m"] == pytest.approx(own, rel=1e-12)
    assert 0.739 < own < 1.25 * 0.739
    # the report's spectrum marks that ring too, not the analytic one of the config's sigma
    from gridform.presentation.report import _spectrum_figure

    ring = [ln for ln in _spectrum_figure(run).axes[0].lines if ln.get_linestyle() == "--"]
    assert len(ring) == 1
    assert ring[0].get_xdata()[0] == pytest.approx(covariance_spectrum(maps)["k_star"])
    # wrong cell count: the field is named and nothing is written
    bad = tmp_path / "bad"
    assert main(["train", "--preset", "demo", "--set", "n_place_cells=10", "--set",
                 f'place_cell_file="{data / "cells.npz"}"', "--steps", "5",
                 "--out", str(bad)]) == 2
    assert "n_place_cells" in capsys.readouterr().err
    assert not bad.exists()


# --------------------------------------------------------------------------- assumptions
@pytest.fixture(scope="module")
def dog_report():
    maps = uniform_place_cells(200, bins=32, kind="dog", seed=0)
    return maps, test_assumptions(maps, shuffles=100)


@pytest.fixture(scope="module")
def het_report():
    maps = heterogeneous_place_cells(200, bins=32, seed=0)
    return maps, test_assumptions(maps, shuffles=100)


@pytest.mark.slow
def test_uniform_dog_cells_satisfy_the_assumptions(dog_report):
    _, r = dog_report
    s = r.summary
    assert s["translation_invariant"] and s["translation_invariance"]["p_value"] > 0.05
    assert s["surround_fraction"] >= 0.95 and s["centre_surround"]
    assert s["multi_field_fraction"] == 0.0
    k_star = ring_wavenumber("dog", 0.12, 2.0)
    assert s["ring"] and abs(s["k_star"] - k_star) / k_star < 0.08
    assert abs(s["predicted_spacing_m"] - grid_spacing(k_star)) / grid_spacing(k_star) < 0.08
    assert s["assumptions_hold"]


@pytest.mark.slow
def test_heterogeneous_cells_violate_both(het_report):
    _, r = het_report
    s = r.summary
    assert not s["translation_invariant"] and s["translation_invariance"]["p_value"] < 0.05
    assert s["translation_invariance"]["ratio"] > 1.5
    assert s["surround_fraction"] < 0.2 and not s["centre_surround"]
    assert s["multi_field_fraction"] > 0.4
    assert not s["ring"] and s["predicted_spacing_m"] is None
    assert not s["assumptions_hold"]


@pytest.mark.slow
def test_invariance_test_is_calibrated():
    """Uniform populations are rejected at about the nominal rate (not never, not often);
    gradient populations always."""
    rejected = [translation_invariance(uniform_place_cells(120, bins=24, seed=s),
                                       shuffles=39, seed=s)["p_value"] < 0.05
                for s in range(16)]
    assert sum(rejected) <= 3
    for s in range(3):
        r = translation_invariance(heterogeneous_place_cells(200, bins=32, seed=s + 1),
                                   shuffles=59, seed=s)
        assert r["p_value"] < 0.05


def test_invariance_is_blind_to_a_common_shift():
    """Shifting every cell by the same amount on a torus leaves Sigma(x, x + d) a function of
    d alone: the statistic does not change."""
    maps = uniform_place_cells(60, bins=20, box=Box(2.0, 2.0, "periodic"), seed=2)
    a = translation_invariance(maps, shuffles=5, periodic=True, blocks=4)
    moved = Ratemaps(np.roll(maps.rates, (5, 5), axis=(1, 2)), maps.occupancy,
                     maps.x_centers, maps.y_centers)
    b = translation_invariance(moved, shuffles=5, periodic=True, blocks=4)
    assert abs(a["statistic"] - b["statistic"]) < 1e-9


def test_centre_surround_fit_recovers_widths():
    from gridform.data.assumptions import centre_surround_fits

    box = Box(2.2, 2.2)
    x, y = box.bin_centers(40, 40)
    xx, yy = np.meshgrid(x, y)
    r2 = (xx - 0.1) ** 2 + (yy + 0.2) ** 2
    dog = np.exp(-r2 / (2 * 0.1**2)) - 0.5 * np.exp(-r2 / (2 * 0.2**2)) + 1.0
    gauss = 2.0 * np.exp(-r2 / (2 * 0.15**2)) + 0.3
    noise = 0.01 * np.random.default_rng(0).standard_normal((2, 40, 40))
    maps = Ratemaps(np.stack([dog, gauss]) + noise, np.ones((40, 40)), x, y)
    fits = centre_surround_fits(maps)
    assert fits[0]["surround"] and fits[0]["p_value"] < 1e-6
    assert abs(fits[0]["dog_sigma1_m"] - 0.1) < 0.01 and abs(fits[0]["dog_sigma2_m"] - 0.2) < 0.02
    assert not fits[1]["surround"]
    assert abs(fits[1]["gauss_sigma_m"] - 0.15) < 0.005


def test_centre_surround_fits_in_processes_equal_fits_here(monkeypatch):
    """Spread over two spawned processes in chunks, every cell's row is the one fitted in
    this process, in the cells' order."""
    import gridform.data.assumptions as A

    maps = uniform_place_cells(6, bins=16, box=Box(2.0, 2.0), seed=3)
    here = A.centre_surround_fits(maps, workers=1)
    monkeypatch.setattr(A, "_PARALLEL_FROM", 2)
    monkeypatch.setattr(A, "_FIT_CHUNK", 4)
    spread = A.centre_surround_fits(maps, workers=2)
    assert [r["cell"] for r in spread] == list(range(6))
    assert [{k: v for k, v in r.items() if v == v} for r in spread] == \
        [{k: v for k, v in r.items() if v == v} for r in here]  # NaN != NaN left out
    assert any("p_value" in r and r["p_value"] == r["p_value"] for r in here)


def test_fit_jacobians_are_the_models_derivatives():
    from scipy.optimize import approx_fprime

    from gridform.data.assumptions import _dog, _dog_jac, _gauss, _gauss_jac

    x, y = np.random.default_rng(0).normal(size=(2, 30))
    for model, jac, p in ((_gauss, _gauss_jac, [0.1, 1.2, 0.7, 0.2, -0.3]),
                          (_dog, _dog_jac, [0.1, 1.2, 0.7, 0.2, -0.3, 0.4, 1.8])):
        p = np.array(p)
        numeric = np.stack([approx_fprime(p, lambda q, i=i, f=model: f(q, x, y)[i], 1e-7)
                            for i in range(x.size)])
        assert np.abs(jac(p, x, y) - numeric).max() < 1e-5


@pytest.mark.slow
def test_assumptions_cli(tmp_path, capsys, dog_report):
    maps, _ = dog_report
    src = tmp_path / "cells.npz"
    maps.save(src)
    out = tmp_path / "A"
    assert main(["assumptions", str(src), "--out", str(out), "--shuffles", "20"]) == 0
    text = capsys.readouterr().out
    assert "translation invariant: yes" in text and "ring k*" in text
    summary = json.loads((out / "assumptions.json").read_text())
    assert summary["n_cells"] == 200 and summary["translation_invariance"]["n_lags"] > 10
    rows = (out / "cells.csv").read_text().splitlines()
    assert len(rows) == 201 and rows[0].startswith("cell,n_fields")
    assert (out / "assumptions.png").stat().st_size > 10_000
    before = (out / "assumptions.json").read_bytes()
    assert main(["assumptions", str(src), "--out", str(out)]) == 2
    assert (out / "assumptions.json").read_bytes() == before
    tiny = tmp_path / "tiny.npz"
    uniform_place_cells(5, bins=6).save(tiny)
    assert main(["assumptions", str(tiny), "--out", str(tmp_path / "B")]) == 2
    assert "too coarse" in capsys.readouterr().err
    assert not (tmp_path / "B").exists()


def test_assumptions_from_nwb_spikes(tmp_path, agent):
    """Place cells recorded as spikes: ratemaps from spikes / occupancy, then the tests."""
    path = RecordedPath.from_ratinabox(agent)
    rng = np.random.default_rng(0)
    centres = rng.uniform(-0.9, 0.9, (12, 2))
    rate = 20 * np.exp(-np.sum((path.positions[:, None] - centres) ** 2, -1) / (2 * 0.15**2))
    spikes = [path.times[rng.random(path.n) < rate[:, i] * 0.02] for i in range(12)]
    f = write_nwb(tmp_path / "cells.nwb", trajectory=path, spike_times=spikes)
    maps = read_place_cell_maps(f, bins=16, min_occupancy_s=0.0)
    assert maps.rates.shape == (12, 16, 16)
    visited = maps.occupancy > 0
    assert np.array_equal(~np.isnan(maps.rates[0]), visited)
    # rate x seconds in each bin gives back every spike: the maps conserve the counts
    for i in (0, 5, 11):
        assert np.sum(maps.rates[i][visited] * maps.occupancy[visited]) == \
            pytest.approx(len(spikes[i]), rel=1e-9)
    assert maps.occupancy.sum() == pytest.approx(path.n * 0.02, rel=1e-9)


def test_jax_encode_is_traceable():
    maps = uniform_place_cells(10, bins=10, kind="gaussian", noise=0.0)
    pc = RecordedPlaceCells(maps, Box(2.2, 2.2))
    f = jax.jit(lambda p: pc.encode(p))
    pos = jnp.array([[0.1, -0.3], [1.09, 1.09], [-1.1, 0.0]])
    np.testing.assert_allclose(np.asarray(f(pos)), np.asarray(pc.encode(pos)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(f(pos)).sum(-1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_evaluate_along_a_trajectory_cli(tmp_path, small_run, agent, capsys):
    task, params, run = small_run
    path = RecordedPath.from_ratinabox(agent)
    src = tmp_path / "walk.npz"
    path.save(src)
    out = tmp_path / "along"
    assert main(["evaluate", str(run), "--trajectory", str(src), "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    maps, err = network_ratemaps(task, params, path, bins=20)
    assert s["error_cm"] == pytest.approx(100 * err, rel=1e-6)
    assert s["duration_s"] == pytest.approx(59.98, abs=1e-6)
    got = load_ratemaps(out / "ratemaps.npz").rates
    assert np.array_equal(np.isnan(got), np.isnan(maps.rates))
    np.testing.assert_allclose(got, maps.rates, rtol=1e-5, atol=1e-7)
    before = (out / "summary.json").read_bytes()
    assert main(["evaluate", str(run), "--trajectory", str(src), "--out", str(out)]) == 2
    assert (out / "summary.json").read_bytes() == before
    # a path from another arena is refused
    other = RecordedPath(path.times, path.positions / 2.2, Box(1.0, 1.0))
    other.save(tmp_path / "small.npz")
    assert main(["evaluate", str(run), "--trajectory", str(tmp_path / "small.npz"),
                 "--out", str(tmp_path / "x")]) == 2
    assert "1.0 x 1.0 m" in capsys.readouterr().err


def test_import_trajectory_from_foreign_nwb(tmp_path):
    """An NWB file that does not record its box: positions in cm from a corner."""
    t = 0.02 * np.arange(200)
    xy_cm = np.c_[20 + 50 * t, 110 + 10 * np.sin(t)]
    src = _foreign_nwb(tmp_path / "foreign.nwb", xy_cm, t, conversion=0.01)
    out = tmp_path / "walk.npz"
    assert main(["import-trajectory", str(src), "--out", str(out)]) == 2  # no box
    assert not out.exists()
    assert main(["import-trajectory", str(src), "--out", str(out), "--box", "2.2", "2.2",
                 "--origin", "corner", "--dt", "0.04"]) == 0
    path = load_path(out)
    assert path.n == 100 and abs(path.dt - 0.04) < 1e-12
    np.testing.assert_allclose(path.positions[:, 0], 0.2 + 0.5 * path.times - 1.1, atol=1e-9)


def test_lattice_ratemaps_hold_the_lattice_they_are_asked_for():
    from gridform.analysis.scores import autocorrelogram, grid_geometry

    box = Box(2.75, 2.75)  # 55 bins of 5 cm: 0 and the phases below are bin centres
    maps = lattice_ratemaps(0.8, [0.0, 20.0, 45.0], [(0.0, 0.0), (0.25, -0.4), (0.0, 0.0)],
                            bins=55, box=box)
    assert maps.rates.shape == (3, 55, 55)
    x = maps.x_centers
    for cell, (px, py) in enumerate([(0.0, 0.0), (0.25, -0.4), (0.0, 0.0)]):
        iy, ix = np.argmin(abs(x - py)), np.argmin(abs(x - px))
        assert maps.rates[cell, iy, ix] == pytest.approx(3.0)  # three waves in phase
    assert maps.rates.min() == 0.0 and maps.rates.max() == pytest.approx(3.0)
    geometry = grid_geometry(autocorrelogram(maps.rates), maps.bin_size)
    np.testing.assert_allclose(geometry["spacing_m"], 0.8, atol=0.03)
    np.testing.assert_allclose(geometry["orientation_deg"] % 60, [0.0, 20.0, 45.0], atol=3.0)
    one = lattice_ratemaps(0.8, 20.0, (0.25, -0.4), bins=55, box=box)
    np.testing.assert_array_equal(one.rates[0], maps.rates[1])

    stripes = lattice_ratemaps(0.5, 30.0, kind="stripes", bins=55, box=box).rates[0]
    assert stripes[27, 27] == pytest.approx(1.0) and stripes.min() < -0.99
    square = lattice_ratemaps(0.5, kind="square", bins=55, box=box).rates[0]
    assert square.min() == 0.0 and square[27, 27] == pytest.approx(1.0)
    # a period along x and along y (10 bins) repeats the map; half a period does not
    np.testing.assert_allclose(square[:, 10:], square[:, :-10], atol=1e-12)
    np.testing.assert_allclose(square[10:], square[:-10], atol=1e-12)
    assert np.abs(square[:, 5:] - square[:, :-5]).max() > 0.5


@pytest.mark.parametrize("args, kwargs, message", [
    ((0.0,), {}, "spacing must be a positive"),
    ((float("nan"),), {}, "spacing must be a positive"),
    ((0.7,), {"kind": "triangles"}, "kind must be one of"),
    ((0.7,), {"bins": 1}, "bins must be an integer >= 2"),
    ((0.7, [0.0, 10.0, 20.0], [(0.0, 0.0), (0.1, 0.1)]), {}, "different numbers of cells"),
    ((0.7, 0.0, (0.0, 0.0, 0.0)), {}, "phase (2,) or (n, 2)"),
])
def test_lattice_ratemaps_name_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        lattice_ratemaps(*args, **kwargs)
