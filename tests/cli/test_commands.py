import csv
import json

import numpy as np
import pytest
from conftest import lattice_map

from gridform import Ratemaps
from gridform.cli.app import main


@pytest.fixture
def maps_file(tmp_path):
    hexa, c = lattice_map(20, spacing=0.7)
    noise = np.random.default_rng(0).random((20, 20))
    path = tmp_path / "maps.npz"
    Ratemaps(np.stack([hexa, noise]), np.ones((20, 20)), c, c).save(path)
    return path


def test_score_writes_one_row_per_cell_and_prints_a_summary(maps_file, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["score", str(maps_file), "--out", str(out), "--width", "2.2"]) == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert len(rows) == 2
    assert float(rows[0]["score_60"]) > 1.4
    assert abs(float(rows[0]["spacing_m"]) - 0.7) < 0.11
    for col in ("cell", "score_60", "score_60_minmax", "score_90", "spacing_m",
                "orientation_deg"):
        assert col in rows[0]
    text = capsys.readouterr().out
    assert "frac_above_0.3" in text and "frac_above_0.8" in text


def _bad_npz(tmp_path, kind):
    path = tmp_path / f"{kind}.npz"
    c = np.linspace(0, 1, 10)
    if kind == "allnan":
        np.savez(path, rates=np.full((3, 10, 10), np.nan), occupancy=np.ones((10, 10)),
                 x_centers=c, y_centers=c)
    elif kind == "oned":
        np.savez(path, rates=np.ones(10), occupancy=np.ones(10), x_centers=c, y_centers=c)
    elif kind == "inf":
        r = np.ones((2, 10, 10))
        r[0, 1, 1] = np.inf
        np.savez(path, rates=r, occupancy=np.ones((10, 10)), x_centers=c, y_centers=c)
    elif kind == "nokeys":
        np.savez(path, something=np.ones(3))
    elif kind == "garbage":
        path.write_bytes(b"\x00garbage")
    return path


@pytest.mark.parametrize("kind, message", [
    ("allnan", "no map can be scored"),
    ("oned", "(cell, y, x)"),
    ("inf", "infinite"),
    ("nokeys", "lacks"),
    ("garbage", "not an .npz archive"),
])
def test_score_bad_files_exit_2_and_write_nothing(tmp_path, capsys, kind, message):
    out = tmp_path / "scores.csv"
    assert main(["score", str(_bad_npz(tmp_path, kind)), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_score_missing_file_and_negative_width(maps_file, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["score", str(tmp_path / "nope.npz"), "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["score", str(maps_file), "--out", str(out), "--width", "-2"])
    assert exc.value.code == 2
    assert "positive" in capsys.readouterr().err
    assert not out.exists()


def test_score_keeps_an_existing_csv_on_bad_input(tmp_path):
    out = tmp_path / "scores.csv"
    out.write_text("precious\n")
    assert main(["score", str(_bad_npz(tmp_path, "allnan")), "--out", str(out)]) == 2
    assert out.read_text() == "precious\n"


def test_theory_json(capsys):
    assert main(["theory", "--sigma", "0.12", "--surround-scale", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["k_star"] == pytest.approx(9.812, abs=1e-3)
    assert d["plane_wave_period_m"] == pytest.approx(0.640, abs=1e-3)
    assert d["grid_spacing_m"] == pytest.approx(0.739, abs=1e-3)
    assert main(["theory", "--surround-ratio", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["grid_spacing_m"] == pytest.approx(0.906,
                                                                                 abs=1e-3)


@pytest.mark.parametrize("argv, message", [
    (["theory", "--sigma", "0"], "positive"),
    (["theory", "--sigma", "nan"], "positive"),
    (["theory", "--surround-scale", "1"], "--surround-scale (sigma2^2/sigma1^2) must be > 1"),
    (["pattern", "--steps", "0", "--out", "x"], "positive"),
    (["pattern", "--nonlinearity", "softplus", "--out", "x"], "invalid choice"),
])
def test_bad_theory_and_pattern_arguments_exit_2(argv, message, capsys, tmp_path,
                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_pattern_writes_maps_scores_and_summary(tmp_path, capsys):
    out = tmp_path / "pat"
    argv = ["pattern", "--nonlinearity", "relu", "--n-cells", "6", "--steps", "300",
            "--seed", "0", "--out", str(out)]
    assert main(argv) == 0
    for name in ("ratemaps.npz", "scores.csv", "summary.json"):
        assert (out / name).exists()
    s = json.loads((out / "summary.json").read_text())
    for key in ("frac_above_0.3", "frac_above_0.8", "median_score_60", "median_spacing_m",
                "predicted_spacing_m"):
        assert key in s
    assert s["frac_above_0.8"] >= 0.5
    before = (out / "summary.json").read_text()
    assert main(argv) == 2  # refuses to overwrite without --force
    assert "--force" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == before


def test_help_describes_every_command(capsys):
    for cmd in ("score", "theory", "pattern", "train", "evaluate", "demo"):
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0
        assert "usage: gridform" in capsys.readouterr().out


def test_help_pages_and_the_package_import_no_heavy_library():
    # what keeps `gridform --help` fast: no JAX, SciPy, Dask or matplotlib until a
    # command runs (benchmarks/bench_cli_startup.py measures the time itself)
    import subprocess
    import sys

    code = ("import sys\nimport gridform\nfrom gridform.cli.app import build_parser\n"
            "build_parser()\nprint(sorted(m for m in ('jax', 'scipy', 'distributed', "
            "'matplotlib') if m in sys.modules))\nprint(gridform.Box.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "Box"  # the lazy names still resolve


def test_every_option_says_what_it_is_and_its_default():
    import argparse

    from gridform.cli.app import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing, no_default = [], []
    for name, command in sub.choices.items():
        formatter = command._get_formatter()
        for action in command._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"{name} {action.option_strings[-1]}")
            d = action.default
            if d is not None and d is not False and d is not argparse.SUPPRESS:
                if "default" not in formatter._get_help_string(action):
                    no_default.append(f"{name} {action.option_strings[-1]}")
    assert not missing and not no_default, (missing, no_default)
    assert "(default: 0)" in sub.choices["pattern"].format_help()  # --seed 0 is said too
