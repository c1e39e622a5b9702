"""The command line's contract for bad input: exit 2, an error that names the flag, no
traceback, and nothing written."""

import subprocess
import sys

import pytest

from gridform.cli.app import main

BAD = [  # (argv, the words the error must contain)
    (["evaluate", "RUN", "--batches", "0"], "--batches"),
    (["evaluate", "RUN", "--batches", "x"], "--batches"),
    (["score", "MAPS.npz", "--out", "s.csv", "--null", "-1"], "--null"),
    (["assumptions", "CELLS.npz", "--out", "A", "--alpha", "2"], "--alpha"),
    (["assumptions", "CELLS.npz", "--out", "A", "--alpha", "0"], "--alpha"),
    (["assumptions", "CELLS.npz", "--out", "A", "--shuffles", "0"], "--shuffles"),
    (["report", "DIR", "--out", "report.pdf"], "--out"),
    (["theory", "--sigma", "-1"], "--sigma"),
    (["theory", "--sigma", "nan"], "--sigma"),
    (["evaluate", "RUN", "--offset", "-1"], "--offset"),
    (["evaluate", "RUN", "--step-cost", "-0.5"], "--step-cost"),
]


@pytest.mark.parametrize(("argv", "names"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_option_exits_2_naming_the_flag_and_writes_nothing(argv, names, tmp_path,
                                                               monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert names in err and "error:" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("gridform ")


def test_a_small_null_is_scored_with_a_warning(tmp_path, capsys):
    from gridform.core.environment import Box
    from gridform.data.synthetic import lattice_ratemaps

    lattice_ratemaps(0.74, [0.0, 20.0], bins=20, box=Box(2.2, 2.2, "walls")).save(
        tmp_path / "maps.npz")
    assert main(["score", str(tmp_path / "maps.npz"), "--out", str(tmp_path / "s.csv"),
                 "--null", "5"]) == 0
    assert "fewer than 20 noise maps" in capsys.readouterr().err


def test_a_closed_pipe_is_no_error():
    with subprocess.Popen([sys.executable, "-m", "gridform.cli.app", "theory", "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        proc.stdout.close()  # the reader goes away before anything is printed, like `| head`
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
    assert "Traceback" not in err and "Broken pipe" not in err and "error" not in err, err


def _checksums(root):
    import hashlib

    return {p: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from gridform.training.config import load_config
    from gridform.training.loop import train

    run = tmp_path_factory.mktemp("contract") / "run"
    train(load_config("demo", overrides=["n_hidden=16", "n_place_cells=64", "batch_size=8"],
                      steps=5), run)
    return run


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "names"), [
    (["pattern", "--bins", "100000", "--out", "P"], "--bins 100000"),
    (["evaluate", "{run}", "--bins", "50000"], "50000 x 50000 bins"),
])
def test_a_request_too_large_for_memory_is_refused_before_allocating(argv, names, tiny_run,
                                                                    tmp_path, monkeypatch,
                                                                    capsys):
    monkeypatch.chdir(tmp_path)
    before = _checksums(tiny_run)
    assert main([a.format(run=tiny_run) for a in argv]) == 2
    err = capsys.readouterr().err
    assert names in err and "GiB" in err and "Traceback" not in err
    assert _checksums(tiny_run) == before and list(tmp_path.iterdir()) == []


def test_train_into_another_programs_directory_is_refused_and_leaves_it(tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text('{"name": "not gridform"}')
    for extra in ([], ["--force"]):
        assert main(["train", "--preset", "demo", "--steps", "5", "--out", str(other),
                     *extra]) == 2
        assert "is not the config of a gridform run" in capsys.readouterr().err
    assert (other / "config.json").read_text() == '{"name": "not gridform"}'
    assert [p.name for p in other.iterdir()] == ["config.json"]


@pytest.mark.slow
def test_resume_of_a_finished_run_says_so_and_a_changed_config_names_the_values(
        tiny_run, capsys):
    base = ["train", "--preset", "demo", "--steps", "5", "--set", "n_hidden=16",
            "--set", "n_place_cells=64", "--set", "batch_size=8", "--out", str(tiny_run)]
    before = _checksums(tiny_run)
    assert main([*base, "--resume"]) == 0
    assert "already finished its 5 steps" in capsys.readouterr().out
    assert main([*base, "--set", "batch_size=4", "--resume"]) == 2
    assert "batch_size: 8 in the run, 4 now" in capsys.readouterr().err
    assert _checksums(tiny_run) == before


def test_a_bug_is_reported_as_a_bug_not_as_bad_input(monkeypatch, capsys):
    import gridform.cli.theory as cli

    def broken(args):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(cli, "cmd_theory", broken)
    assert main(["theory"]) == 1
    err = capsys.readouterr().err
    assert "internal error: TypeError: unsupported operand" in err and "--debug" in err
    assert "Traceback" not in err
    with pytest.raises(TypeError, match="unsupported operand"):
        main(["--debug", "theory"])


def _maps_file(path, bins=20, negative=False):
    from gridform.core.environment import Box
    from gridform.data.synthetic import lattice_ratemaps

    maps = lattice_ratemaps(0.74, [0.0, 20.0], bins=bins, box=Box(2.2, 2.2, "walls"))
    if negative:
        from gridform.core.ratemaps import Ratemaps

        maps = Ratemaps(maps.rates - 0.5, maps.occupancy, maps.x_centers, maps.y_centers)
    maps.save(path)
    return path


def test_maps_too_coarse_to_score_are_refused(tmp_path, capsys):
    maps = _maps_file(tmp_path / "tiny.npz", bins=4)
    assert main(["score", str(maps), "--out", str(tmp_path / "s.csv")]) == 2
    assert "4 x 4 bins are too coarse" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()


def test_negative_rates_are_scored_with_a_warning(tmp_path, capsys):
    maps = _maps_file(tmp_path / "neg.npz", negative=True)
    assert main(["score", str(maps), "--out", str(tmp_path / "s.csv")]) == 0
    assert "negative rates" in capsys.readouterr().err


def test_an_assumptions_lag_beyond_half_the_box_is_refused(tmp_path, capsys):
    maps = _maps_file(tmp_path / "cells.npz")
    assert main(["assumptions", str(maps), "--out", str(tmp_path / "A"),
                 "--max-lag", "100"]) == 2
    assert "--max-lag 100.0 m must lie in (0, 1.1] m" in capsys.readouterr().err
    assert not (tmp_path / "A").exists()


@pytest.mark.slow
def test_evaluate_out_without_a_trajectory_is_refused(tiny_run, capsys):
    before = _checksums(tiny_run)
    assert main(["evaluate", str(tiny_run), "--out", "elsewhere"]) == 2
    assert "belong to evaluate --trajectory" in capsys.readouterr().err
    assert _checksums(tiny_run) == before


@pytest.mark.slow
def test_the_spacing_law_along_a_recorded_path_is_refused(tiny_run, tmp_path, capsys):
    before = _checksums(tiny_run)
    assert main(["evaluate", str(tiny_run), "--trajectory", str(tmp_path / "path.npz"),
                 "--step-cost", "1"]) == 2
    assert "do not apply along --trajectory" in capsys.readouterr().err
    assert _checksums(tiny_run) == before


def test_export_nwb_to_a_directory_says_so(tmp_path, capsys):
    maps = _maps_file(tmp_path / "maps.npz")
    (tmp_path / "outdir").mkdir()
    assert main(["export-nwb", str(maps), "--out", str(tmp_path / "outdir"), "--force"]) == 2
    assert "is a directory; give the .nwb file" in capsys.readouterr().err


@pytest.mark.slow
def test_resume_continues_from_the_stored_config(tmp_path, capsys):
    import json

    run = tmp_path / "run"
    sets = ["--set", "n_hidden=16", "--set", "n_place_cells=64", "--set", "batch_size=8"]
    assert main(["train", "--preset", "demo", "--steps", "5", *sets, "--out", str(run)]) == 0
    # no --set again: the run's own config is used, and only the steps change
    assert main(["train", "--steps", "8", "--out", str(run), "--resume"]) == 0
    assert "done: step 8" in capsys.readouterr().out
    assert json.loads((run / "config.json").read_text())["config"]["n_hidden"] == 16
    # an explicit --set that differs is refused, naming both values
    assert main(["train", "--steps", "9", "--set", "n_hidden=32", "--out", str(run),
                 "--resume"]) == 2
    assert "n_hidden: 16 in the run, 32 now" in capsys.readouterr().err


# Every command, one or more bad inputs per option type: (argv, words the error must
# contain). "D/" is a directory of valid and invalid inputs (see `inputs`).
EDGE = [
    (["demo", "--out", "D/existing.csv"], "exists and is not a directory"),
    (["theory", "--kind", "bogus"], "--kind"),
    (["theory", "--width", "-2"], "--width"),
    (["theory", "--surround-ratio", "-1"], "--surround-ratio"),
    (["theory", "--surround-scale", "0.5"], "--surround-scale"),
    (["theory", "--surround-ratio", "0.5"], "--surround-ratio (sigma2/sigma1) must be > 1"),
    (["pattern", "--n-cells", "0", "--out", "D/P"], "--n-cells"),
    (["pattern", "--steps", "-5", "--out", "D/P"], "--steps"),
    (["pattern", "--nonlinearity", "swish", "--out", "D/P"], "--nonlinearity"),
    (["pattern", "--bins", "3", "--out", "D/P"], "--bins"),
    (["pattern", "--boundary", "mobius", "--out", "D/P"], "--boundary"),
    (["pattern", "--width", "0", "--out", "D/P"], "--width"),
    (["train", "--preset", "nope", "--out", "D/T"], "--preset"),
    (["train", "--set", "n_hidden=-3", "--out", "D/T"], "n_hidden"),
    (["train", "--set", "bogus_field=1", "--out", "D/T"], "bogus_field"),
    (["train", "--set", "n_hidden", "--out", "D/T"], "--set"),
    (["train", "--config", "D/missing.toml", "--out", "D/T"], "missing.toml"),
    (["train", "--config", "D/latin1.toml", "--out", "D/T"], "latin1.toml is not UTF-8"),
    (["train", "--config", "D/bad.toml", "--out", "D/T"], "bad.toml is not valid TOML"),
    (["train", "--steps", "0", "--out", "D/T"], "steps"),
    (["train", "--targets", "D/missing.npz", "--out", "D/T"], "missing.npz"),
    (["train", "--targets", "D/text.npz", "--out", "D/T"], "text.npz is not an .npz archive"),
    (["train", "--resume", "--force", "--out", "D/T"], "--force"),
    (["evaluate", "D/missing"], "missing"),
    (["evaluate", "D/empty"], "holds no run"),
    (["evaluate", "D/run", "--bins", "2"], "--bins"),
    (["evaluate", "D/run", "--trajectory", "D/missing.npz"], "missing.npz"),
    (["evaluate", "D/run", "--trajectory", "D/text.npz"], "text.npz is not an .npz archive"),
    (["evaluate", "D/run", "--trajectory", "D/maps.npz"], "maps.npz holds ratemaps"),
    (["score", "D/missing.npz", "--out", "D/s.csv"], "missing.npz"),
    (["score", "D/text.npz", "--out", "D/s.csv"], "text.npz is not an .npz archive"),
    (["score", "D/nokeys.npz", "--out", "D/s.csv"], "lacks the key"),
    (["score", "D/maps.npz", "--out", "D/s.txt"], "--out"),
    (["score", "D/maps.npz", "--out", "D/existing.csv"], "--force"),
    (["score", "D/maps.npz", "--out", "D/s.csv", "--width", "-1"], "--width"),
    (["topology", "D/missing", "--out", "D/TT"], "missing"),
    (["topology", "D/maps.npz", "--out", "D/TT", "--shuffles", "0"], "--shuffles"),
    (["topology", "D/maps.npz", "--out", "D/TT", "--min-units", "0"], "--min-units"),
    (["topology", "D/text.npz", "--out", "D/TT"], "text.npz is not an .npz archive"),
    (["reproduce", "bogus-target", "--out", "D/R"], "bogus-target"),
    (["reproduce", "spectrum", "--run", "D/missing", "--out", "D/R"], "--run"),
    (["reproduce", "spectrum", "--out", "D/existing.csv"], "--out"),
    (["report", "D/missing"], "missing"),
    (["report", "D/empty"], "holds neither a training run"),
    (["report", "D/run", "--out", "D/r.txt"], "--out"),
    (["sweep", "D/missing.toml", "--out", "D/S"], "missing.toml"),
    (["sweep", "D/bad.toml", "--out", "D/S"], "bad.toml is not valid TOML"),
    (["sweep", "D/latin1.toml", "--out", "D/S"], "latin1.toml is not UTF-8"),
    (["sweep", "D/missing.toml", "--out", "D/S", "--workers", "0"], "--workers"),
    (["sweep-report", "D/missing"], "results.csv"),
    (["sweep-report", "D/empty", "--threshold", "2"], "--threshold"),
    (["sweep-report", "D/sweep", "--min-fraction", "5"], "--min-fraction"),
    (["import-trajectory", "D/missing.csv", "--out", "D/p.npz"], "missing.csv"),
    (["import-trajectory", "D/path.csv", "--out", "D/p.npz", "--units", "furlongs"],
     "--units"),
    (["import-trajectory", "D/path.csv", "--out", "D/p.npz", "--box", "-1", "2"], "--box"),
    (["import-trajectory", "D/wrongcols.csv", "--out", "D/p.npz", "--box", "2", "2"],
     "--columns"),
    (["import-trajectory", "D/path.csv", "--out", "D/p.npz", "--box", "2", "2",
      "--max-speed", "0"], "--max-speed"),
    (["import-trajectory", "D/latin1.csv", "--out", "D/p.npz", "--box", "2", "2"],
     "latin1.csv is not UTF-8"),
    (["import-trajectory", "D/path.csv", "--out", "D/p.txt", "--box", "2", "2"], "--out"),
    (["import-trajectory", "D/path.csv", "--out", "D/p.npz", "--dt", "0"], "--dt"),
    (["assumptions", "D/missing.npz", "--out", "D/A"], "missing.npz"),
    (["assumptions", "D/maps.npz", "--out", "D/A", "--margin", "2"], "--margin"),
    (["assumptions", "D/maps.npz", "--out", "D/A", "--bins", "1"], "--bins"),
    (["assumptions", "D/text.npz", "--out", "D/A"], "text.npz is not an .npz archive"),
    (["export-nwb", "D/missing", "--out", "D/x.nwb"], "missing"),
    (["export-nwb", "D/maps.npz", "--out", "D/existing.nwb"], "--force"),
    (["export-nwb", "D/maps.npz", "--out", "D/x.txt"], "--out"),
    (["export-nwb", "D/empty", "--out", "D/x.nwb"], "ratemaps.npz"),
]


@pytest.fixture
def inputs(tmp_path):
    """Valid and invalid inputs side by side: maps, a run, a text file named .npz, an npz
    without ratemaps, broken and non-UTF-8 TOML and CSV, an empty directory, and files an
    error must not overwrite."""
    import shutil
    from pathlib import Path

    import numpy as np

    from gridform.core.environment import Box
    from gridform.data.synthetic import lattice_ratemaps

    d = tmp_path / "inputs"
    d.mkdir()
    lattice_ratemaps(0.74, [0.0, 20.0], bins=20, box=Box(2.2, 2.2, "walls")).save(
        d / "maps.npz")
    shutil.copytree(Path(__file__).parents[1] / "data" / "run_before_rundir", d / "run")
    (d / "text.npz").write_text("hello, not an archive")
    np.savez(d / "nokeys.npz", foo=np.zeros(3))
    (d / "bad.toml").write_text("[base\npreset = 'demo'")
    (d / "latin1.toml").write_bytes(b"[base]\npreset = '\xe9'\n")
    (d / "latin1.csv").write_bytes(b"t,x,y\n0,\xe9,1\n")
    (d / "wrongcols.csv").write_text("a,b\n1,2\n3,4\n")
    (d / "path.csv").write_text("t,x,y\n" + "".join(
        f"{0.02 * i},{0.1 * np.sin(i / 10)},{0.1 * np.cos(i / 10)}\n" for i in range(200)))
    (d / "empty").mkdir()
    (d / "sweep").mkdir()  # a finished sweep of one run
    (d / "sweep" / "results.csv").write_text("run_id,activation,frac_above_0.3,status,error\n"
                                             "r1,relu,0.5,done,\n")
    (d / "sweep" / "manifest.json").write_text('{"name": "one", "runs": []}')
    (d / "existing.csv").write_text("keep me\n")
    (d / "existing.nwb").write_text("keep me\n")
    return d


def _checksums(directory):
    import hashlib

    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(directory.rglob("*"))}


@pytest.mark.parametrize(("argv", "names"), EDGE, ids=[" ".join(a) for a, _ in EDGE])
def test_every_command_answers_bad_input_with_exit_2_and_writes_nothing(
        argv, names, inputs, monkeypatch, capsys):
    monkeypatch.chdir(inputs)
    before = _checksums(inputs)
    argv = [a.replace("D/", f"{inputs}/") for a in argv]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "error:" in err and names in err and "Traceback" not in err, err
    assert _checksums(inputs) == before


def test_a_spacing_larger_than_the_box_is_flagged(capsys):
    assert main(["theory", "--sigma", "1e6"]) == 0
    assert "box-limited: the predicted spacing is larger than the 2.2 m box" in \
        capsys.readouterr().out
    assert main(["theory", "--sigma", "1e6", "--json"]) == 0
    assert '"fits_in_box": false' in capsys.readouterr().out
    assert main(["theory", "--json"]) == 0  # the reference: 0.739 m, three periods in 2.2 m
    assert '"fits_in_box": true' in capsys.readouterr().out


@pytest.mark.slow
def test_assumptions_on_half_visited_maps_fit_every_cell(tmp_path, capsys):
    # a field spreading over the filled, unvisited half once started a fit outside its
    # bounds (SciPy: "Initial guess is outside of provided bounds")
    import json

    import numpy as np

    from gridform import Ratemaps
    from gridform.data.synthetic import uniform_place_cells

    m = uniform_place_cells(n=60, bins=24, seed=0)
    rates, occupancy = m.rates.copy(), m.occupancy.copy()
    rates[:, :, 12:] = np.nan
    occupancy[:, 12:] = 0
    Ratemaps(rates, occupancy, m.x_centers, m.y_centers).save(tmp_path / "half.npz")
    assert main(["assumptions", str(tmp_path / "half.npz"), "--out",
                 str(tmp_path / "A"), "--shuffles", "20"]) == 0
    report = json.loads((tmp_path / "A" / "assumptions.json").read_text())
    assert report["n_cells"] == 60 and "Traceback" not in capsys.readouterr().err


# Fuzz: any text for a numeric option, any bytes for an input file. Whatever comes in, the
# answer is a result (exit 0) or a usage error (exit 2): never a traceback or a bug report.
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.integers(-10**15, 10**15).map(str), st.text(max_size=8))
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _answer(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code in (0, 2), (argv, err)
    assert "Traceback" not in err and "internal error" not in err, (argv, err)
    if code == 2:
        assert "error:" in err, (argv, err)
    return code


# the JSON field each fuzzed option sets, and the smallest value it refuses above 0
ECHO = {"--sigma": ("sigma", 0.0), "--width": ("box_width_m", 0.0),
        "--surround-scale": ("surround_scale", 1.0), "--surround-ratio": ("surround_ratio", 1.0)}


@FUZZ
@given(flag=st.sampled_from(sorted(ECHO)), value=NUMBERS)
# the extremes of the float range, where sigma^2 or ratio^2 leave it
@example(flag="--sigma", value="5e-324")
@example(flag="--sigma", value="1e300")
@example(flag="--sigma", value="1.7976931348623157e308")
@example(flag="--surround-ratio", value="1e300")
@example(flag="--surround-scale", value="1e300")
def test_fuzzed_numbers_get_a_result_or_a_usage_error(flag, value, capsys):
    import json
    import math
    import sys

    field, bound = ECHO[flag]
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    valid = math.isfinite(number) and number > bound
    if flag == "--surround-ratio":  # the scale is its square, which must be a float too
        valid = valid and number < math.sqrt(sys.float_info.max)
    try:
        code = main(["theory", flag, value, "--json"])
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "internal error" not in out.err, out.err
    if valid:  # a finite number above the bound: the prediction, for that very value
        assert code == 0, out.err
        assert json.loads(out.out)[field] == pytest.approx(number, rel=1e-12)
    else:  # anything else: a usage error that names the option
        assert code == 2 and "error:" in out.err and flag in out.err, out.err


@FUZZ
@given(content=st.binary(max_size=300),
       kind=st.sampled_from(["score", "import-trajectory", "train-config"]))
def test_fuzzed_file_contents_get_a_result_or_a_usage_error(content, kind, tmp_path_factory,
                                                           capsys):
    d = tmp_path_factory.mktemp("fuzz")
    if kind == "score":
        (d / "in.npz").write_bytes(content)
        argv = ["score", str(d / "in.npz"), "--out", str(d / "s.csv")]
    elif kind == "import-trajectory":
        (d / "in.csv").write_bytes(content)
        argv = ["import-trajectory", str(d / "in.csv"), "--box", "2", "2", "--out",
                str(d / "p.npz")]
    else:  # --steps 0 makes even a valid config a usage error: nothing ever trains here
        (d / "in.toml").write_bytes(content)
        argv = ["train", "--config", str(d / "in.toml"), "--steps", "0", "--out", str(d / "T")]
    assert _answer(argv, capsys) == 2 or kind == "import-trajectory"


@pytest.mark.slow
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_every_written_file_is_as_readable_as_the_umask_allows(umask, tmp_path):
    import os
    import stat

    old = os.umask(umask)
    try:
        run, maps = tmp_path / "run", _maps_file(tmp_path / "maps.npz")
        assert main(["train", "--preset", "demo", "--steps", "4", "--out", str(run),
                     "--set", "n_hidden=12", "--set", "n_place_cells=24", "--set",
                     "batch_size=8", "--set", "sequence_length=6", "--set",
                     "checkpoint_every=2"]) == 0
        assert main(["evaluate", str(run), "--batches", "2"]) == 0
        assert main(["report", str(run)]) == 0
        assert main(["score", str(maps), "--out", str(tmp_path / "s.csv")]) == 0
        assert main(["export-nwb", str(maps), "--out", str(tmp_path / "m.nwb")]) == 0
    finally:
        os.umask(old)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != maps]
    names = {p.name for p in written}
    assert {"config.json", "checkpoint.safetensors", "checkpoint.json", "metrics.jsonl",
            "model.safetensors", "ratemaps.npz", "summary.json", "report.html", "s.csv",
            "m.nwb"} <= names, names
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in written}
    assert all(m == 0o666 & ~umask for m in modes.values()), {k: oct(v) for k, v in
                                                              modes.items()}
