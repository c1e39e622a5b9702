"""Long jobs say how far they are: a tqdm bar on a terminal, plain lines elsewhere."""

import io
import re

import pytest

from gridform.core.io import PlainProgress, progress_bar


def _run(total, initial=0, steps=None, **postfix):
    out = io.StringIO()
    bar = PlainProgress(total, initial, desc="train", out=out)
    for i in range(initial, total if steps is None else initial + steps):
        if postfix and i == initial:
            bar.set_postfix(**postfix)
        bar.update(1)
    bar.close()
    return out.getvalue().splitlines()


def test_a_line_every_tenth_and_one_at_the_end():
    lines = _run(6000, loss="0.0412")
    assert len(lines) == 10
    assert [int(re.search(r"\((\d+)%\)", ln).group(1)) for ln in lines] == \
        list(range(10, 101, 10))
    assert lines[0].startswith("train: 600/6000 steps (10%), ")
    assert "loss 0.0412" in lines[0] and "left" in lines[0]
    assert lines[-1].startswith("train: 6000/6000 steps (100%)") and "left" not in lines[-1]


@pytest.mark.parametrize("total, initial, counts", [
    (15, 0, [2, 4, 6, 8, 10, 12, 14, 15]),  # tenths rounded up to whole steps, then the end
    (50, 23, [25, 30, 35, 40, 45, 50]),      # a resumed run: the marks after where it was
    (3, 0, [1, 2, 3]),
])
def test_the_marks_fall_on_tenths_of_the_total(total, initial, counts):
    lines = _run(total, initial)
    assert [int(ln.split()[1].split("/")[0]) for ln in lines] == counts


def test_a_job_stopped_early_has_printed_only_what_it_passed():
    assert len(_run(100, steps=35)) == 3


def test_a_terminal_gets_tqdm_and_anything_else_plain_lines(capsys):
    from tqdm import tqdm

    bar = progress_bar(10, tty=True)
    assert isinstance(bar, tqdm)
    bar.close()
    bar = progress_bar(10, unit="map", tty=False)
    assert isinstance(bar, PlainProgress)
    bar.update(10)
    assert capsys.readouterr().out.startswith("10/10 maps (100%)")
    with pytest.raises(ValueError, match="total must be a count of at least 1, got 0"):
        PlainProgress(0)
