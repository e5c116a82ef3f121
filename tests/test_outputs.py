"""CSV cells a spreadsheet cannot run, and output paths checked before the work."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.analysis import sweep
from forecasting.analysis.history import history_csv
from forecasting.cli.main import main
from forecasting.data import DataError
from forecasting.data.outputs import (
    FORMULA_START,
    check_output_path,
    csv_cell,
    csv_text,
    markdown_name,
    markdown_text,
    read_cell,
    shorten,
)

HOSTILE = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("start", FORMULA_START)
def test_text_that_starts_a_formula_gets_a_quote_and_reads_back(start):
    text = start + "1+1"
    assert csv_cell(text) == "'" + text
    assert read_cell(csv_cell(text)) == text


@pytest.mark.parametrize("value", [-2.5, 3, "Fly_1", "a=b", "", None, "'quoted"])
def test_numbers_and_plain_text_are_kept(value):
    assert csv_cell(value) == value
    assert read_cell(value) == value


def test_a_frame_is_escaped_in_names_index_and_text_cells_not_numbers():
    frame = pd.DataFrame(
        {"+x": [-1.5, 2.0], "who": [HOSTILE, "ok"]},
        index=pd.Index(["@a", "b"], name="-id"),
    )
    assert csv_text(frame) == ("'-id,'+x,who\n'@a,-1.5,'=cmd|' /C calc'!A0\nb,2.0,ok\n")
    assert csv_text(frame, index_label="=label").startswith("'=label,")
    assert list(frame.columns) == ["+x", "who"]  # the frame itself is unchanged


def test_a_sweep_row_with_a_hostile_id_is_escaped_and_still_skipped(tmp_path):
    out = tmp_path / "sweep.csv"
    sweep._append(out, {"id": HOSTILE, "model": "gru", "seed": 1, "rmse": -0.0})
    assert out.read_text().splitlines()[1].startswith("'=cmd|' /C calc'!A0,gru,1,")
    assert sweep._done_keys(out) == {(HOSTILE, "gru", "1")}


def test_the_history_csv_escapes_its_cells(monkeypatch):
    frame = pd.DataFrame({"data": [HOSTILE], "time": [pd.Timestamp("2026-12-07")]})
    monkeypatch.setattr("forecasting.analysis.history.history_frame", lambda r: frame)
    assert history_csv([]) == "data,time\n'=cmd|' /C calc'!A0,2026-12-07T00:00:00\n"


def test_an_output_path_is_checked_before_the_work(tmp_path):
    assert check_output_path(tmp_path / "new.csv", "--out") == tmp_path / "new.csv"
    assert not (tmp_path / "new.csv").exists()  # the check leaves nothing behind
    kept = tmp_path / "kept.csv"
    kept.write_text("id\n")
    check_output_path(kept, "--out")
    assert kept.read_text() == "id\n"
    with pytest.raises(DataError, match=r"^--out .* is a folder; give a file name"):
        check_output_path(tmp_path, "--out")
    with pytest.raises(DataError, match=r"the folder .*missing does not exist"):
        check_output_path(tmp_path / "missing" / "p.csv", "--predictions")
    with pytest.raises(DataError, match=r"^--out /proc/version cannot be written"):
        check_output_path("/proc/version", "--out")


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "--sample", "mastercard", "--predictions", "{tmp}/no/p.csv"],
        ["tracks", "--sample", "fly", "--predictions", "{tmp}"],
        ["sweep", "--sample", "fly", "--out", "{tmp}"],
    ],
)
def test_the_command_line_refuses_a_bad_output_before_training(tmp_path, capsys, argv):
    code = main([part.format(tmp=tmp_path) for part in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {argv[-2]} {tmp_path}") and err.count("\n") == 1
    assert "epoch" not in err  # nothing trained


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[sign in](http://evil/)", r"\[sign in\](http\://evil/)"),
        ("![](x.png)", r"!\[\](x.png)"),
        ("**bold** _it_ `code` ~~s~~", r"\*\*bold\*\* \_it\_ \`code\` \~\~s\~\~"),
        ("<img src=x> &amp; $x^2$", r"\<img src=x\> \&amp; \$x^2\$"),
        (":red[alarm] # big | a", r":red\[alarm\] \# big \| a"),
        ("www.evil.com me@evil.com", r"www\.evil.com me\@evil.com"),
        ("Column 'Close', 3 rows: 2.5.", "Column 'Close', 3 rows: 2.5."),
        ("two\nlines", "two lines"),
    ],
)
def test_markdown_text_escapes_what_formats_and_keeps_sentences(text, shown):
    assert markdown_text(text) == shown


def test_names_are_cut_to_one_short_line_with_an_ellipsis():
    assert shorten("a\nb" + "c" * 99, 6) == "a bcc…"
    assert shorten("Fly_1") == "Fly_1"
    assert markdown_name("x" * 60_000) == "x" * 59 + "…"
    assert len(markdown_text("y " * 60_000)) == 600
