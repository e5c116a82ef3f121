"""bench/wire.py's protocol student against the running app (no browser)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from bench import wire


def test_a_protocol_visitor_gets_the_learn_page_from_the_server(app_server) -> None:
    visit = wire.blocking(wire.visit_learn(app_server.url))
    assert 0 < visit["heading_s"] <= visit["done_s"]


def test_a_protocol_student_sees_the_price_page_and_its_buttons(app_server) -> None:
    async def first_run() -> wire.Run:
        async with wire.Session(app_server.url) as session:
            return await session.run()

    run = wire.blocking(first_run())
    assert run.heading == "Price forecasting" and not run.errors
    assert {wire.QUICK_DEMO, wire.TRAIN, wire.SEED} <= set(run.widgets)


def _workers(pid: int) -> list[int]:
    """Worker processes (``-m forecasting.runtime.workers``) started by ``pid``."""
    children = Path(f"/proc/{pid}/task").glob("*/children")
    found = []
    for child in (int(c) for f in children for c in f.read_text().split()):
        with contextlib.suppress(OSError):
            if (
                b"forecasting.runtime.workers"
                in Path(f"/proc/{child}/cmdline").read_bytes()
            ):
                found.append(child)
    return found


def test_the_first_page_view_starts_the_workers_before_any_train(tmp_path) -> None:
    from jobs_for_tests import wait_for

    from bench.server import serve
    from bench.versions import ROOT, version_env

    env = version_env(ROOT, tmp_path)  # empty caches, as the benches' servers
    env |= {"FORECASTING_WORKERS": "1", "FORECASTING_SURGE": "0"}
    with serve(ROOT, env, log_path=tmp_path / "streamlit.log") as server:
        assert _workers(server.pid) == []  # nobody has visited yet

        async def first_run() -> wire.Run:
            async with wire.Session(server.url) as session:
                return await session.run()

        assert wire.blocking(first_run()).heading == "Price forecasting"
        assert wait_for(lambda: len(_workers(server.pid)) == 1, 60)
