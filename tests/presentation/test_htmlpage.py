"""The page template: what it is given is what it shows, escaped, with every figure embedded."""

import base64
import re

import matplotlib.pyplot as plt
import pytest

from gridform.presentation.htmlpage import Markup, Section, figure, render_page, table, write_page

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _images(page):
    return re.findall(r'<img class="figure" alt="([^"]*)" src="data:image/png;base64,([^"]+)"',
                      page)


def test_a_page_embeds_each_figure_it_is_given_as_a_decodable_png(tmp_path):
    fig, axes = plt.subplots(1, 2)
    axes[0].set_title("left panel")
    axes[1].set_title("right panel")
    titled = plt.figure()
    titled.suptitle("the whole figure")
    png = tmp_path / "saved_plot.png"
    other = plt.figure()
    other.savefig(png)
    plt.close(other)
    sections = [Section("a", "First", [figure(fig), figure(titled)]),
                Section("b", "Second", [figure(png)])]
    page = render_page("three figures", sections)
    images = _images(page)
    assert len(images) == 3
    assert all(base64.b64decode(data)[:8] == PNG_MAGIC for _, data in images)
    # the alt text is the suptitle, else the panels' titles, else the file's name
    assert [alt for alt, _ in images] == ["left panel; right panel", "the whole figure",
                                          "figure: saved_plot"]
    assert base64.b64decode(images[2][1]) == png.read_bytes()
    # a figure is closed once it is embedded
    assert not plt.fignum_exists(fig.number) and not plt.fignum_exists(titled.number)


def test_a_given_alt_text_wins_and_an_untitled_figure_is_called_figure():
    assert _images(figure(plt.figure(), alt="my words"))[0][0] == "my words"
    assert _images(figure(plt.figure()))[0][0] == "figure"


def test_sections_appear_in_order_with_their_anchors_and_a_collapsed_one_folds():
    page = render_page("T", [Section("one", "Numbers").add("first"),
                             Section("two", "Config", collapsed=True).add("folded")])
    assert page.count("<h1>T</h1>") == 1 and "<title>T</title>" in page
    assert page.index('<h2 id="one">Numbers</h2>') < page.index('<h2 id="two">Config</h2>')
    assert '<section id="sec-one">' in page and '<section id="sec-two">' in page
    assert page.count("<details>") == 1
    assert page.index("<details>") > page.index('<h2 id="two">')
    assert page.index("<details>") < page.index("<p>folded</p>") < page.index("</details>")


def test_text_is_escaped_and_only_markup_passes_through():
    s = Section("x", "<b>title</b>").add("<script>alert(1)</script>").add(Markup("<i>ok</i>"))
    page = render_page("a < b", [s])
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<i>ok</i>" in page
    assert "&lt;b&gt;title&lt;/b&gt;" in page and "<title>a &lt; b</title>" in page


def test_a_table_shows_floats_to_four_significant_digits_and_marks_rows():
    html = table([[1.234567, float("nan"), "<x>"], [2, 1e-7, "y"]], header=["a", "b", "c"],
                 classes=["pass", None])
    assert html.count("<tr") == 3 and html.count("<th>") == 3
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert cells == ["1.235", "nan", "&lt;x&gt;", "2", "1e-07", "y"]
    assert html.count('<tr class="pass">') == 1
    with pytest.raises(ValueError):
        table([[1], [2]], classes=["pass"])  # one class per row


def test_write_page_writes_the_rendered_page_and_leaves_no_temporary(tmp_path):
    sections = [Section("s", "S").add("text")]
    path = write_page(tmp_path / "page.html", "title", sections)
    assert path == tmp_path / "page.html"
    assert path.read_text(encoding="utf-8") == render_page("title", sections)
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]
