"""Do the HTML feedback pages show each student everything about their grade, safely, in one offline file?"""
from __future__ import annotations

import argparse
import base64
import io
import re
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from grader.gradebook import FigureRecord, Gradebook, SubmissionRecord
from grader.gradebook import TestRecord as Verdict  # pytest would try to collect a class named Test*
from grader.html_report import (
    PNG_SIGNATURE,
    add_report_parser,
    cmd_report,
    common_mistakes,
    is_grader_error,
    named_mistakes,
    page_name,
    write_reports,
)
from tests.browser import browser, images, loaded_urls  # noqa: F401 (browser is a fixture)
from tests.conftest import SMALL_ASSIGNMENT, small_course

ASSIGNMENT = SMALL_ASSIGNMENT  # tasks sigmoid (2), relu (1), softmax (3) in a small course of the tests' own
INJECTION = '<script>document.title = "pwned"; window.pwned = true;</script><img src="x" onerror="window.pwned = true">'
WRONG_AXIS = "`softmax(x)` is wrong: it looks like a softmax over the wrong axis. Normalise each row (dim=-1)."
NO_MAX = "`softmax(x)` contains 3 NaN or infinite value(s): it looks like the max not subtracted (exp overflows)."
SIGMOID_MISTAKE = "`sigmoid(x)` is wrong: it looks like exp(x) / (1 + exp(x)) without clipping (overflow). Try again"
GRADER_ERROR = "the grader itself failed on this test (KeyError: 'W'); tell your instructor"
HIDDEN_TITLE = "softmax is stable for logits near 1000"
TESTS = [  # (test, task, title, visibility, max points)
    ("test_sigmoid_values", "sigmoid", "sigmoid matches σ(x) = 1 / (1 + e^-x)", "public", 1.0),
    ("test_sigmoid_is_stable", "sigmoid", "sigmoid does not overflow for x = ±1000", "hidden", 1.0),
    ("test_relu_values", "relu", "relu(x) = max(0, x)", "public", 1.0),
    ("test_softmax_rows_sum_to_one", "softmax", "softmax rows sum to one", "public", 1.0),
    ("test_softmax_is_stable", "softmax", HIDDEN_TITLE, "hidden", 2.0),
]


def tiny_png(color: str = "tab:purple") -> bytes:
    fig = Figure(figsize=(1.5, 1.0))
    fig.add_subplot().imshow([[0, 1], [1, 0]], cmap="viridis")
    fig.patch.set_facecolor(color)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    return buf.getvalue()


def submission(student: str, *, status: str = "graded", score: float = 0.0, reason: str = "",
               problems: list[str] | None = None, output: str = "") -> SubmissionRecord:
    return SubmissionRecord(
        assignment=ASSIGNMENT, student=student, status=status, score=score, max_score=6.0, submission_hash="h" + student,
        grader_version="test-1", path=f"submissions/{student}.ipynb", started_at=1_790_000_000.0,
        finished_at=1_790_000_002.5, reason=reason, problems=problems or [], output=output,
    )


def verdicts(failures: dict[str, tuple[str, str]]) -> list[Verdict]:
    """Every test of TESTS: passed with full points unless `failures` gives it (status, feedback) and 0 points."""
    out = []
    for test, task, title, visibility, points in TESTS:
        status, feedback = failures.get(test, ("passed", ""))
        out.append(Verdict(test=test, task=task, title=title, visibility=visibility, status=status,
                              score=points if status == "passed" else 0.0, max_score=points, feedback=feedback,
                              grader_error=feedback == GRADER_ERROR and status == "error"))
    return out


def record(gb: Gradebook, student: str, failures: dict[str, tuple[str, str]], figures: list[FigureRecord] = (),
           **kw) -> None:
    tests = verdicts(failures)
    gb.record(submission(student, score=sum(t.score for t in tests), **kw), tests, figures)


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory: pytest.TempPathFactory) -> Gradebook:
    """A class of six: full marks, two wrong-axis softmaxes, a failed run, a grader error, injected markup.

    Shared by the module's tests (drawing the pages takes a while), so no test may record into it.
    """
    with Gradebook(tmp_path_factory.mktemp("class") / "gradebook.sqlite") as gb:
        record(gb, "alice", {}, output="epoch 1 loss 0.5\nepoch 2 loss 0.25\n",
               figures=[FigureRecord("your attention heatmap", tiny_png(), test="test_softmax_rows_sum_to_one")])
        record(gb, "bob", {"test_softmax_rows_sum_to_one": ("failed", WRONG_AXIS),
                           "test_softmax_is_stable": ("failed", WRONG_AXIS)},
               figures=[FigureRecord("your softmax <b>plot</b>", tiny_png("tab:orange"))],
               output=f"debugging...\n{INJECTION}\n", problems=["`plt.show()` at the top level was skipped <i>"])
        record(gb, "dave", {"test_softmax_is_stable": ("failed", WRONG_AXIS),
                            "test_sigmoid_is_stable": ("failed", SIGMOID_MISTAKE)})
        record(gb, "erin", {"test_softmax_is_stable": ("failed", NO_MAX),
                            "test_relu_values": ("error", GRADER_ERROR)})
        record(gb, "mallory<script>", {"test_relu_values": ("failed", f"relu returned {INJECTION}")})
        gb.record(submission("carol", status="failed", reason="SyntaxError: invalid syntax <cell 3> (line 2)"), [])
        yield gb


@pytest.fixture(scope="module")
def course():
    return small_course()  # not course.yaml: the pages' numbers stay what they are when a real assignment changes


@pytest.fixture(scope="module")
def written(gradebook: Gradebook, course, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """What write_reports returned for the class, in its own folder."""
    return write_reports(gradebook, course, ASSIGNMENT, tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def pages(written: list[Path]) -> dict[str, Path]:
    """The written pages by file stem: "alice", "index", ..."""
    return {p.stem: p for p in written}


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------- named mistakes
def test_a_named_mistake_is_the_text_between_it_looks_like_and_the_full_stop():
    assert named_mistakes(WRONG_AXIS) == ["a softmax over the wrong axis"]


def test_a_full_stop_inside_parentheses_or_code_does_not_end_the_mistake():
    feedback = "`n` is wrong: it looks like the padding counted once (it is added on both sides. twice) and `x.T` used. Hint."
    assert named_mistakes(feedback) == ["the padding counted once (it is added on both sides. twice) and `x.T` used"]


def test_a_full_stop_inside_a_word_does_not_end_the_mistake():
    assert named_mistakes("It looks like nn.Linear's weight transposed.") == ["nn.Linear's weight transposed"]


def test_feedback_without_the_wording_or_its_full_stop_names_no_mistake():
    assert named_mistakes("`relu(x)` has shape (3,); expected (3, 4)") == []
    assert named_mistakes("it looks like something, but the sentence never ends") == []
    assert named_mistakes("") == []


def test_common_mistakes_counts_students_per_test_and_mistake_most_frequent_first(gradebook: Gradebook):
    counts = common_mistakes(gradebook.results(ASSIGNMENT))
    top = counts[0]
    assert (top.test, top.mistake, top.students) == ("test_softmax_is_stable", "a softmax over the wrong axis", 2)
    assert {(c.test, c.mistake): c.students for c in counts} == {
        ("test_softmax_is_stable", "a softmax over the wrong axis"): 2,
        ("test_softmax_rows_sum_to_one", "a softmax over the wrong axis"): 1,
        ("test_softmax_is_stable", "the max not subtracted (exp overflows)"): 1,
        ("test_sigmoid_is_stable", "exp(x) / (1 + exp(x)) without clipping (overflow)"): 1,
    }


def test_common_mistakes_keeps_only_the_top_ones_and_ignores_passed_tests():
    rows = [{"student": f"s{i}", "test": f"t{i % 12}", "title": "T", "task": "x", "status": "failed",
             "feedback": f"it looks like mistake {i % 12}."} for i in range(40)]
    rows.append({"student": "z", "test": "t0", "title": "T", "task": "x", "status": "passed",
                 "feedback": "it looks like a passed test's note."})
    counts = common_mistakes(rows, top=10)
    assert len(counts) == 10
    assert "a passed test's note" not in {c.mistake for c in counts}


def test_only_the_graders_own_failures_count_as_grader_errors():
    """The stored flag decides, not the text: a student's exception that quotes the grader's words is the student's."""
    assert is_grader_error({"status": "error", "feedback": GRADER_ERROR, "grader_error": 1})
    assert not is_grader_error({"status": "error", "feedback": GRADER_ERROR, "grader_error": 0})
    assert not is_grader_error({"status": "error", "feedback": "your code raised ZeroDivisionError", "grader_error": 0})


# ------------------------------------------------------------------------------------------- files and escaping
def test_write_reports_writes_one_page_per_student_and_the_class_index_last(written):
    folder = written[-1].parent
    assert folder.name == ASSIGNMENT and written[-1].name == "index.html"
    assert [p.name for p in written[:-1]] == [page_name(s) for s in
                                              ["alice", "bob", "carol", "dave", "erin", "mallory<script>"]]
    assert all(p.parent == folder and p.is_file() for p in written)


def test_a_student_id_that_is_not_a_safe_file_name_gets_a_distinct_safe_one():
    assert page_name("alice") == "alice.html"
    odd = [page_name(s) for s in ("../etc/passwd", "mallory<script>", "a b", "a_b", "index")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+\.html", name) and not name.startswith(".") for name in odd)
    assert len(set(odd)) == len(odd) and "a_b.html" in odd and "index.html" not in odd


def test_student_output_and_feedback_are_escaped_not_markup(pages):
    html = text(pages["bob"])
    assert "<script>" not in html and "onerror=\"window" not in html
    assert "&lt;script&gt;document.title = &#34;pwned&#34;" in html
    assert "&lt;i&gt;" in html and "your softmax &lt;b&gt;plot&lt;/b&gt;" in html
    assert "<script>" not in text(pages[page_name("mallory<script>")[:-5]])
    assert "mallory&lt;script&gt;" in text(pages["index"])


def test_every_page_is_self_contained_and_small(pages):
    for path in pages.values():
        html = text(path)
        assert path.stat().st_size < 300_000, f"{path.name} is {path.stat().st_size} bytes"
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html), path.name
        assert not re.search(r"""<link\b|url\(""", html), path.name
        for uri in re.findall(r'src="([^"]+)"', html):
            assert uri.startswith("data:image/png;base64,"), f"{path.name} loads {uri[:40]}"


def test_a_student_page_shows_every_test_with_points_status_and_feedback(pages):
    html = text(pages["bob"])
    for _, _, title, _, points in TESTS:
        assert title.replace("<", "&lt;") in html
    assert "a softmax over the wrong axis" in html and "0/2" in html and "✗ failed" in html
    assert html.count('class="badge hidden"') == 2 and "test_softmax_is_stable" not in html


def test_a_long_output_of_markup_is_cut_in_the_middle_so_the_page_stays_small(course, tmp_path):
    log = "".join(f"<{i}>" for i in range(20_000))  # 128 KB, 6 bytes a character once escaped
    with Gradebook(tmp_path / "one.sqlite") as gb:
        record(gb, "loud", {}, output=log)
        page = write_reports(gb, course, ASSIGNMENT, tmp_path / "out")[0]
    html = text(page)
    assert page.stat().st_size < 300_000
    assert "&lt;0&gt;&lt;1&gt;" in html and "&lt;19999&gt;" in html and "characters left out" in html


def test_a_failed_submission_page_says_why_and_scores_zero(pages):
    html = text(pages["carol"])
    assert "could not be graded" in html and "SyntaxError: invalid syntax &lt;cell 3&gt; (line 2)" in html
    assert "0 / 6" in html


def test_a_figure_that_is_not_a_png_is_named_but_not_embedded(course, tmp_path):
    with Gradebook(tmp_path / "one.sqlite") as gb:
        gb.record(submission("frank", score=6.0), verdicts({}), [FigureRecord("broken figure", b"GIF89a not a png")])
        write_reports(gb, course, ASSIGNMENT, tmp_path / "out")
    html = text(tmp_path / "out" / ASSIGNMENT / "frank.html")
    assert "broken figure" in html and "is not a PNG" in html and html.count("data:image/png") == 1  # the bar chart


def test_the_class_page_lists_failures_grader_errors_mistakes_and_links(pages):
    html = text(pages["index"])
    assert "SyntaxError: invalid syntax &lt;cell 3&gt;" in html
    assert "KeyError: &#39;W&#39;" in html and "erin" in html
    assert "a softmax over the wrong axis" in html
    for name in ("alice.html", "bob.html", "carol.html", page_name("mallory<script>")):
        assert f'href="{name}"' in html


# ------------------------------------------------------------------------------------------- command line
def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="grader")
    add_report_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_grader_report_writes_every_assignment_of_the_gradebook(gradebook, tmp_path, capsys):
    args = parse(["report", "--gradebook", str(gradebook.path), "--out", str(tmp_path / "html"),
                  "--course", str(small_course().path)])
    assert cmd_report(args) == 0
    assert (tmp_path / "html" / ASSIGNMENT / "index.html").is_file()
    assert "6 student pages" in capsys.readouterr().out


def test_grader_report_refuses_an_unknown_assignment_or_a_missing_gradebook(gradebook, tmp_path):
    from grader.cli import CommandError

    with pytest.raises(CommandError, match=f"holds no submissions of 'a99'.*{ASSIGNMENT}"):
        cmd_report(parse(["report", "--gradebook", str(gradebook.path), "--assignment", "a99", "--out", str(tmp_path),
                          "--course", str(small_course().path)]))
    with pytest.raises(CommandError, match="does not exist"):
        cmd_report(parse(["report", "--gradebook", str(tmp_path / "none.sqlite"), "--out", str(tmp_path)]))
    assert not (tmp_path / "none.sqlite").exists()


# ------------------------------------------------------------------------------------------- in a real browser
def open_page(driver, path: Path) -> None:
    driver.get(path.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def assert_offline_and_images_resolve(driver) -> None:
    shown = images(driver)
    assert shown, "the page shows no image"
    for img in shown:
        assert img["complete"] and img["naturalWidth"] > 0, f"image {img['alt']!r} did not load"
        assert img["scheme"] == "data"
    urls = loaded_urls(driver)
    assert [u for u in urls["elements"] if not u.startswith("data:image/png;base64,")] == []
    assert [u for u in urls["fetched"] if not u.startswith("data:")] == []


def test_a_student_page_renders_in_a_browser_with_its_images(browser, pages):
    open_page(browser, pages["alice"])
    assert browser.title == f"alice · {ASSIGNMENT} · 6/6"
    assert browser.find_element("css selector", "h1").text == small_course().assignment(ASSIGNMENT).title
    assert browser.find_element("css selector", "#score").text.startswith("6 / 6")
    assert_offline_and_images_resolve(browser)
    assert len(images(browser)) == 2  # the per-task chart and the student's figure


def test_injected_script_in_student_output_is_shown_as_text_and_never_runs(browser, pages):
    open_page(browser, pages["bob"])
    assert browser.title == f"bob · {ASSIGNMENT} · 3/6"
    assert browser.execute_script("return window.pwned === undefined && document.scripts.length === 0")
    browser.find_element("css selector", "#output summary").click()  # open the <details>
    shown = browser.find_element("css selector", "pre.student-output").text
    assert '<script>document.title = "pwned"; window.pwned = true;</script>' in shown
    assert browser.find_elements("css selector", "pre.student-output img") == []
    assert_offline_and_images_resolve(browser)


def test_the_class_page_renders_in_a_browser_and_links_to_every_student(browser, pages):
    open_page(browser, pages["index"])
    assert browser.title == f"{ASSIGNMENT} · class summary"
    assert browser.find_element("css selector", "#mistakes h2").text == "Most common named mistakes"
    assert_offline_and_images_resolve(browser)
    assert browser.execute_script("return window.pwned === undefined && document.scripts.length === 0")
    links = [a.get_attribute("href") for a in browser.find_elements("css selector", "#students a")]
    assert len(links) == 6 and all(link.startswith("file://") for link in links)
    browser.find_element("link text", "mallory<script>").click()
    assert browser.title == f"mallory<script> · {ASSIGNMENT} · 5/6"


def test_the_figures_embedded_are_the_gradebooks_pngs(pages, gradebook):
    html = text(pages["alice"])
    embedded = [base64.b64decode(u) for u in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]
    assert gradebook.figures(ASSIGNMENT, "alice")[0].png in embedded
    assert all(png.startswith(PNG_SIGNATURE) for png in embedded)


def test_without_chromium_the_browser_helper_says_what_to_install(monkeypatch, tmp_path):
    import tests.browser as helper

    monkeypatch.setattr(helper, "CHROMIUM", tmp_path / "no-chromium")
    assert "apt-get install chromium chromium-driver" in helper._unavailable()
