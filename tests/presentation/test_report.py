"""The HTML report: self-contained, the promised sections, figures that render.

The browser test renders the page in headless Chromium (Debian: chromium). `.ci/run`
installs it where missing; without it the browser test is skipped with the reason.
"""

import base64
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from gridform.cli.app import main
from gridform.core.io import clean_json
from gridform.experiments.reproduce import Claim, _write_claims
from gridform.presentation.report import SECTIONS, write_report
from gridform.training import load_config, train
from gridform.training.evaluate import evaluate_run

TINY = ["n_hidden=24", "n_place_cells=32", "batch_size=8", "sequence_length=6",
        "checkpoint_every=5", "learning_rate=0.003", "init_input_scale=32.0",
        "eval_batches=3", "eval_every=5"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("report") / "run"
    train(load_config("demo", overrides=TINY, steps=10), run)
    evaluate_run(run)
    return run


@pytest.mark.slow
def test_report_of_a_run_is_self_contained(run_dir):
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    page = path.read_text()
    for sid in SECTIONS:
        assert f'<h2 id="{sid}">' in page
    imgs = re.findall(r'<img[^>]*src="([^"]+)"', page)
    # training curves, ratemaps, autocorrelograms, histograms, 2-D spectrum, code spectrum
    assert len(imgs) >= 6
    assert all(src.startswith("data:image/png;base64,") for src in imgs)
    # nothing is fetched from anywhere: no external URLs at all
    assert "http://" not in page and "https://" not in page and "src=\"/" not in page
    for src in imgs:  # every embedded figure is a decodable PNG
        data = base64.b64decode(src.split(",", 1)[1])
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # the run's config and the demo bar are in the page
    assert "n_hidden" in page and "error &lt; 8 cm" in page
    # every image says what it shows
    alts = re.findall(r'<img[^>]*alt="([^"]*)"', page)
    assert len(alts) == len(imgs) and all(a and a != "figure" for a in alts), alts
    said = " ".join(alts)
    for words in ("g = gridness score_60", "spatial autocorrelograms", "spacing of",
                  "lattice orientation", "2-D power spectrum", "gridness of"):
        assert words in said, words
    # the numbers first, the configuration last and folded
    order = [page.index(f'<h2 id="{sid}">') for sid in SECTIONS]
    assert order == sorted(order) and SECTIONS[0] == "claims" and SECTIONS[-1] == "config"
    config = page[page.index('<h2 id="config">'):]
    assert config.index("<details>") < config.index("n_hidden")


def test_report_of_a_reproduction_lists_every_claim_with_its_control(tmp_path):
    claims = [Claim("spectrum", "ring", "within 5%", "1.3%", True, control="Gaussian code",
                    control_measured="100%", control_passes=False),
              Claim("one-layer", "NMF > PCA", "+0.3", "-0.1", False),
              Claim("rnn", "diverse", "< 0.2", "0.00", True, control="untrained",
                    control_measured="0.01", control_passes=True)]
    _write_claims(tmp_path / "claims.csv", claims)
    page = write_report(tmp_path).read_text()
    assert "1 of 3 claims hold" in page
    assert page.count('<tr class="fail">') == 2 and page.count('<tr class="pass">') == 1
    assert "does not discriminate" in page and "Gaussian code: 100%" in page


def test_report_refuses_an_empty_directory(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "neither a training run" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


PROBE = """<script>
window.addEventListener('load', () => {
  const out = [];
  for (const img of document.images) {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    let sd = -1;
    if (c.width > 0 && c.height > 0) {
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0, s = 0, s2 = 0;
      for (let i = 0; i < d.length; i += 4) {
        const l = (d[i] + d[i + 1] + d[i + 2]) / 3; n++; s += l; s2 += l * l;
      }
      sd = Math.sqrt(Math.max(s2 / n - (s / n) ** 2, 0));
    }
    out.push({id: img.id || '', w: img.naturalWidth, h: img.naturalHeight, sd: sd});
  }
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _blank_png() -> str:
    from gridform.presentation.plotting import plt

    fig = plt.figure(figsize=(2, 2))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def demo_like(run_dir, tmp_path_factory):
    """A directory laid out as `gridform demo` writes it: train/ and pattern/."""
    d = tmp_path_factory.mktemp("demo-like")
    shutil.copytree(run_dir, d / "train")
    assert main(["pattern", "--n-cells", "6", "--steps", "200", "--bins", "24",
                 "--width", "2.2", "--place-cells", "256", "--out", str(d / "pattern")]) == 0
    return d


@pytest.mark.slow
def test_report_of_a_pattern_directory(demo_like, capsys):
    pattern = demo_like / "pattern"
    assert main(["report", str(pattern)]) == 0
    page = (pattern / "report.html").read_text()
    section = page[page.index('<h2 id="pattern">'):page.index('<h2 id="training">')]
    assert "theory spacing 4 pi / (sqrt(3) k*) (m)" in section and "relu dynamics" in section
    assert len(re.findall(r"<img", section)) == 4
    assert "the 6 most grid-like maps" in section and "spatial autocorrelograms" in section


@pytest.mark.slow
def test_report_renders_in_headless_chromium(demo_like, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed and could not be installed here "
                    "(.ci/run installs the Debian packages chromium and chromium-driver)")
    page = write_report(demo_like, tmp_path / "report.html").read_text()
    # the run's and the pattern's figures are both on the page
    assert page.count('alt="spatial autocorrelograms') == 2
    # a copy with a probe script and, as a negative control, one blank image
    blank = f'<img id="blank-control" src="data:image/png;base64,{_blank_png()}">'
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(page.replace("</body>", blank + PROBE + "</body>"))
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--virtual-time-budget=10000", "--dump-dom", probe_page.as_uri()],
        capture_output=True, text=True, timeout=120)
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    for sid in SECTIONS:
        assert f'id="{sid}"' in dom, sid
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, "the probe script did not run"
    images = json.loads(m.group(1).replace("&quot;", '"'))
    figures = [i for i in images if i["id"] != "blank-control"]
    control = [i for i in images if i["id"] == "blank-control"]
    assert len(figures) >= 10
    # the check can fail: the blank control decodes but has no contrast
    assert control and control[0]["w"] > 0 and control[0]["sd"] == pytest.approx(0, abs=0.5)
    for img in figures:
        assert img["w"] > 100 and img["h"] > 100, img
        assert img["sd"] > 5, img  # a real figure has contrast
    assert np.isfinite([i["sd"] for i in figures]).all()


@pytest.mark.slow
def test_reproduce_writes_figures_and_a_claims_table(quick_reproduction, tmp_path, capsys):
    out, printed = quick_reproduction  # spectrum, pattern, multicell and one-layer, quick
    assert "expected:" in printed and "measured:" in printed and "control:" in printed
    from gridform.experiments.reproduce import read_claims

    claims = [c for c in read_claims(out / "claims.csv") if c.target == "spectrum"]
    assert len(claims) == 6
    # known answers: the code's ring (torus and walled box), the Gaussian code's monotone
    # spectrum and the unnormalised DoG's peak at the lowest shells hold, and every
    # control fails its claim's check
    assert [c.holds for c in claims[:4]] == [True, True, True, True], claims
    assert all(c.control and c.control_passes is False for c in claims), claims
    assert all(c.source and c.n for c in claims)
    for ext in ("png", "svg"):
        assert (out / "figures" / f"spectrum.{ext}").stat().st_size > 1000
    assert (out / "report.html").exists()
    # an existing claims table is not overwritten without --force; unknown targets fail
    assert main(["reproduce", "spectrum", "--quick", "--out", str(out)]) == 2
    assert main(["reproduce", "bogus", "--out", str(tmp_path / "other")]) == 2
    assert "unknown target" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


@pytest.mark.slow
def test_reproduce_reuses_a_finished_run_of_the_same_config_under_any_name(run_dir, tmp_path):
    from gridform.experiments.reproduce import _Context, _train_or_reuse
    from gridform.training.loop import read_run_config

    out = tmp_path / "repro"
    shutil.copytree(run_dir, out / "runs" / "earlier")
    broken = out / "runs" / "broken"  # another run whose config cannot be read is skipped
    shutil.copytree(run_dir, broken)
    (broken / "config.json").write_text("{not json")
    fields = read_run_config(run_dir).model_dump()
    ctx = _Context(out, quick=True, run_dir=None)
    got, summary = _train_or_reuse(ctx, "new", "demo", **fields)
    assert got == out / "runs" / "earlier" and not (out / "runs" / "new").exists()
    assert clean_json(summary.to_json()) == json.loads((run_dir / "summary.json").read_text())
    # ... but the named run's own unreadable config is an error, not a silent retrain
    with pytest.raises(ValueError, match="not valid JSON"):
        _train_or_reuse(ctx, "broken", "demo", **fields)


@pytest.mark.slow
def test_a_summary_from_an_older_scorer_is_rescored_not_trusted(run_dir, tmp_path):
    from gridform.experiments.reproduce import _Context, _find_run
    from gridform.training.loop import read_run_config

    out = tmp_path / "repro"
    shutil.copytree(run_dir, out / "runs" / "old")
    path = out / "runs" / "old" / "summary.json"
    summary = json.loads(path.read_text())
    stale = {k: v for k, v in summary.items() if k != "scorer_version"} | {
        "frac_above_0.3": 0.99}
    path.write_text(json.dumps(stale))
    found = _find_run(_Context(out, quick=True, run_dir=None), read_run_config(run_dir))
    assert found is not None and found[0] == out / "runs" / "old"
    assert found[1].frac_above_0_3 == pytest.approx(summary["frac_above_0.3"])
    assert found[1].scorer_version == summary["scorer_version"]
    assert json.loads(path.read_text()) == stale  # the saved file is left as it was


def _summary(**kw):
    from gridform.training.runs import Summary

    base = {"error_cm": 5.0, "n_units": 256, "n_active": 256, "predicted_spacing_m": 0.739,
            "mean_pairwise_corr": 0.0, "frac_above_0_3": 0.5, "frac_above_0_8": 0.24,
            "median_spacing_m": 0.87}
    return Summary(**(base | kw))


def test_a_runs_bars_say_whether_its_grid_units_form_one_module_on_a_torus():
    from gridform.presentation.report import _run_claims

    def bars(summary):
        return {r[1]: (r[3], r[4]) for r in _run_claims(summary)}

    module = bars(_summary(orientation_spread_deg=3.2, n_modules=1, torus=True))
    assert module["one lattice orientation"] == ("3.2 deg", "yes")
    assert module["one module"] == ("1 module", "yes")
    assert module["a torus"] == ("yes", "yes")
    scattered = bars(_summary(orientation_spread_deg=20.8, n_modules=3, torus=False))
    assert scattered["one lattice orientation"] == ("20.8 deg", "no")
    assert scattered["one module"] == ("3 modules", "no")
    assert scattered["a torus"] == ("no", "no")
    # fewer than two units above 0.8: no spread to measure, so the bar is not met
    assert bars(_summary(orientation_spread_deg=float("nan")))["one lattice orientation"][1] \
        == "no"
    # without the topology extra the module count is unknown: no row claims it
    assert "one module" not in bars(_summary(orientation_spread_deg=3.0))


@pytest.mark.slow
def test_report_of_a_run_shows_its_modules_or_how_to_get_them(run_dir, tmp_path):
    from gridform.training.runs import RunDir

    page = write_report(run_dir).read_text()
    assert "one lattice orientation" in page and "Betti (1, 2, 1) above the roll null" in page
    assert "n_modules" in page and "orientation_spread_deg" in page
    # a summary written without the extra: the page says how to get the verdict
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    s = json.loads(RunDir(copy).summary_path.read_text())
    for key in ("n_modules", "torus"):
        s.pop(key)
    RunDir(copy).summary_path.write_text(json.dumps(s))
    page = write_report(copy).read_text()
    assert "modules and torus not computed" in page and "gridform[topology]" in page
    assert "Betti (1, 2, 1) above the roll null" not in page
