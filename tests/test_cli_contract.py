"""The command line's contract for bad input: exit 2, an error that names the flag, no
traceback, and nothing written."""

import subprocess
import sys

import pytest

from gridform.cli import main

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
    from gridform.data.synthetic import lattice_ratemaps
    from gridform.environment import Box

    lattice_ratemaps(0.74, [0.0, 20.0], bins=20, box=Box(2.2, 2.2, "walls")).save(
        tmp_path / "maps.npz")
    assert main(["score", str(tmp_path / "maps.npz"), "--out", str(tmp_path / "s.csv"),
                 "--null", "5"]) == 0
    assert "fewer than 20 noise maps" in capsys.readouterr().err


def test_a_closed_pipe_is_no_error():
    with subprocess.Popen([sys.executable, "-m", "gridform.cli", "theory", "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        proc.stdout.close()  # the reader goes away before anything is printed, like `| head`
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
    assert "Traceback" not in err and "Broken pipe" not in err and "error" not in err, err
