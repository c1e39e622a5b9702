"""An attractor experiment end to end: the files, the summary, the command line."""

import json
import math

import numpy as np
import pytest

from gridform.attractor.run import (
    ATTRACTOR_FILES,
    AttractorConfig,
    is_attractor_dir,
    read_activity,
    run_attractor,
)
from gridform.cli.app import main

SUMMARY_KEYS = ("sheet", "period_neurons", "velocity_gain", "sheet_period_predicted",
                "sheet_period_measured", "spacing_predicted_m", "spacing_measured_m",
                "frac_above_0.3", "frac_above_0.8", "orientation_spread_deg", "n_modules",
                "torus", "steps", "dt", "seconds")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A 60 s path in a 1.1 m box: a quarter of the default box, so the short path covers
    it, at bins of 9 cm (4.8 bins a period)."""
    out = tmp_path_factory.mktemp("attractor")
    config = AttractorConfig(duration=60.0, width=1.1, bins=12, record=128, seed=2)
    return out, run_attractor(config, out)


def test_the_run_writes_its_files_and_every_summary_key(small_run):
    out, summary = small_run
    for name in ATTRACTOR_FILES.values():
        assert (out / name).is_file(), name
    assert set(SUMMARY_KEYS) <= set(summary)
    assert json.loads((out / "summary.json").read_text())["kind"] == "attractor"
    assert summary["steps"] == 120_000 and summary["dt"] == 0.0005
    assert is_attractor_dir(out) and not is_attractor_dir(out / "missing")
    rates, positions, speeds = read_activity(out)
    assert rates.shape == (3000, 128) and positions.shape == (3000, 2)
    assert np.all(np.abs(positions) <= 0.55 + 1e-6)
    assert speeds.mean() == pytest.approx(0.25, rel=0.1)


def test_the_recorded_neurons_are_grid_cells_of_the_predicted_spacing(small_run):
    _, s = small_run
    assert s["sheet_period_measured"] == pytest.approx(s["sheet_period_predicted"], rel=0.02)
    assert s["frac_above_0.8"] >= 0.7
    assert s["spacing_measured_m"] == pytest.approx(s["spacing_predicted_m"], rel=0.05)
    assert s["orientation_spread_deg"] < 3
    # the sheet decodes the path it integrated to within a centimetre or two
    assert s["pi_error_median_m"] < 0.02


def test_the_path_integration_table_follows_the_path(small_run):
    out, _ = small_run
    table = np.genfromtxt(out / "path_integration.csv", delimiter=",", names=True)
    assert table["t_s"][0] == pytest.approx(0.5) and np.all(np.diff(table["t_s"]) > 0)
    err = np.hypot(table["x_m"] - table["decoded_x_m"], table["y_m"] - table["decoded_y_m"])
    assert np.allclose(err, table["error_m"], atol=2e-5)


@pytest.mark.parametrize("kwargs, word", [
    ({"record": 0}, "record"), ({"record": 64 * 64 + 1}, "record"), ({"bins": 4}, "bins"),
    ({"duration": -1.0}, "duration"), ({"sample_dt": 0.0203}, "whole number"),
    ({"sheet": 9}, "even"), ({"speed": math.nan}, "speed")])
def test_the_config_refuses_bad_values(kwargs, word):
    with pytest.raises(ValueError, match=word):
        AttractorConfig(**kwargs)


def exit_code(argv) -> int:
    """main's return code, or argparse's exit code for a malformed option."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


@pytest.mark.parametrize("argv, flag", [
    (["--sheet", "63"], "--sheet"), (["--sheet", "4"], "--sheet"),
    (["--gamma-ratio", "1.05"], "--gamma-ratio"), (["--record", "0"], "--record"),
    (["--bins", "4"], "--bins"), (["--duration", "-1"], "--duration"),
    (["--duration", "10", "--steps", "1000"], "--steps"), (["--steps", "10"], "--steps"),
    (["--velocity-gain", "0"], "--velocity-gain"), (["--sheet", "16"], "--sheet"),
    (["--trajectory", "no-such-path.npz"], "no-such-path.npz")])
def test_bad_flags_exit_2_and_name_the_flag(argv, flag, tmp_path, capsys):
    out = tmp_path / "a"
    assert exit_code(["attractor", "--out", str(out), *argv]) == 2
    assert flag in capsys.readouterr().err
    assert not (out / "summary.json").exists()


def test_an_earlier_run_is_kept_without_force(small_run, capsys):
    out, _ = small_run
    before = (out / "summary.json").read_bytes()
    assert main(["attractor", "--out", str(out), "--duration", "1"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "summary.json").read_bytes() == before


def test_a_recorded_trajectory_is_path_integrated(tmp_path, capsys):
    """A straight path from a file: the sheet decodes it, and the run is cut to the file."""
    from gridform.core.environment import Box
    from gridform.data.paths import RecordedPath

    t = np.arange(0, 4.0, 0.01)
    pos = np.stack([-0.8 + 0.3 * t, 0.1 * np.sin(t)], axis=1)
    path = RecordedPath(t, pos, Box(2.2, 2.2))
    f = tmp_path / "path.npz"
    path.save(f)
    out = tmp_path / "run"
    code = main(["attractor", "--out", str(out), "--trajectory", str(f), "--record", "8"])
    assert code == 0, capsys.readouterr().err
    s = json.loads((out / "summary.json").read_text())
    assert s["duration_s"] == pytest.approx(3.98, abs=0.021)
    assert s["pi_error_max_m"] < 0.02
    assert main(["attractor", "--out", str(tmp_path / "r2"), "--trajectory", str(f),
                 "--duration", "100"]) == 2
    assert "lasts" in capsys.readouterr().err


def test_report_reads_an_attractor_directory(small_run, tmp_path):
    out, _ = small_run
    page = tmp_path / "r.html"
    assert main(["report", str(out), "--out", str(page)]) == 0
    html = page.read_text()
    assert 'id="attractor"' in html and "Continuous-attractor network" in html
    assert html.count("data:image/png;base64") >= 5  # the run's figure and the ratemaps'


@pytest.mark.slow
def test_topology_finds_the_sheet_a_torus_from_its_activity(small_run, tmp_path):
    """The network is a torus by construction: the activity-mode test must say so (with
    128 neurons; 48 leave spurious loops, Betti (1, 4, 1))."""
    out, _ = small_run
    topo = tmp_path / "topo"
    assert main(["topology", str(out), "--out", str(topo)]) == 0
    t = json.loads((topo / "topology.json").read_text())
    assert t["n_modules"] == 1 and t["torus"] is True
    assert t["modules"][0]["betti"] == [1, 2, 1]


def test_a_sheet_that_does_not_drift_reads_back_with_nan_spacings(tmp_path):
    """Velocity gain 0: no spacing can be predicted (JSON keeps it as null); the
    directory reads back with NaN, and its report still renders."""
    from gridform.attractor.run import read_attractor

    out = tmp_path / "still"
    s = run_attractor(AttractorConfig(duration=2.0, record=8, velocity_gain=0.0), out)
    assert math.isinf(s["spacing_predicted_m"]) and s["drift_neurons_per_m"] == 0.0
    back = read_attractor(out).summary
    assert math.isnan(back["spacing_predicted_m"]) and math.isnan(back["pi_error_median_m"])
    assert main(["report", str(out)]) == 0
