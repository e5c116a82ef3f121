"""bench/wire.py: the protocol students' reading of the server's messages.

The helpers are checked on messages built here; one real visit to a running app
is in ``tests/e2e/test_e2e_wire.py``.
"""

from __future__ import annotations

from streamlit.proto.Element_pb2 import Element

from bench import wire


def element(**fields) -> Element:
    out = Element()
    for kind, values in fields.items():
        for name, value in values.items():
            setattr(getattr(out, kind), name, value)
    return out


def test_a_run_keeps_the_first_heading_alerts_errors_and_widget_ids():
    run = wire.Run()
    wire.note(run, element(heading={"body": "Price forecasting", "tag": "h1"}), 0.5)
    wire.note(run, element(heading={"body": "1 · Data", "tag": "h2"}), 0.6)
    train = {"id": "$$ID-abc-FormSubmitter:price_form-Train models"}
    wire.note(run, element(button={**train, "label": "Train models"}), 0.7)
    wire.note(run, element(plotly_chart={"id": "$$ID-chart"}), 0.8)  # no label
    wire.note(run, element(alert={"body": "Bad file.", "format": 1}), 0.9)
    wire.note(run, element(alert={"body": "A lesson.", "format": 2}), 1.0)
    wire.note(run, element(exception={"type": "KeyError", "message": "x"}), 1.1)
    assert (run.heading_s, run.heading) == (0.5, "Price forecasting")
    assert run.widgets == {"Train models": train["id"]}
    assert run.texts == [(0.9, "Bad file."), (1.0, "A lesson.")]
    assert run.errors == ["Bad file.", "KeyError: x"]  # a warning is no error


def test_a_class_summary_counts_students_without_results_as_errors():
    students = [
        {"seed": 1, "done_s": 12.0, "run_s": 12.2, "errors": []},
        {"seed": 2, "done_s": 30.0, "run_s": 30.1, "errors": []},
        {"seed": 3, "done_s": 20.0, "run_s": 20.5, "errors": []},
        {"seed": 4, "done_s": None, "run_s": 3.0, "errors": ["Boom."]},
    ]
    out = wire.summarise(students, {"heading_s": 0.1, "done_s": 0.3})
    assert (out["first_s"], out["median_s"], out["last_s"]) == (12.0, 20.0, 30.0)
    assert (out["errors"], out["error_texts"]) == (2, ["Boom."])
