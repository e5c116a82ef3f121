"""bench/wire.py's protocol student against the running app (no browser)."""

from __future__ import annotations

import asyncio

from bench import wire


def test_a_protocol_visitor_gets_the_learn_page_from_the_server(app_server) -> None:
    visit = asyncio.run(wire.visit_learn(app_server.url))
    assert 0 < visit["heading_s"] <= visit["done_s"]


def test_a_protocol_student_sees_the_price_page_and_its_buttons(app_server) -> None:
    async def first_run() -> wire.Run:
        async with wire.Session(app_server.url) as session:
            return await session.run()

    run = asyncio.run(first_run())
    assert run.heading == "Price forecasting" and not run.errors
    assert {wire.QUICK_DEMO, wire.TRAIN, wire.SEED} <= set(run.widgets)
