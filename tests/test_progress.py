"""Long stages print plain progress lines when output is not a terminal."""

from __future__ import annotations

import io
from pathlib import Path

from rich.progress import Progress

from pricegraph.graph import GraphStore
from pricegraph.loaders import FileMapping, load_files
from pricegraph.progress import LinePrinter, new_progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_stages_are_announced_one_at_a_time_and_counts_at_most_every_interval() -> None:
    out, clock = io.StringIO(), Clock()
    printer = LinePrinter(out, every_s=30.0, clock=clock)
    first, second = (printer.add_task(name, total=1) for name in ("meso", "macro: PPO"))
    clock.now = 12.0
    printer.update(first, completed=1)
    clock.now = 100.0
    printer.update(second, completed=1)
    rows = printer.add_task("events.csv (events)", total=1000)
    for step in range(10):
        clock.now += 10.0
        printer.advance(rows, 100)
        assert step >= 0
    assert out.getvalue().splitlines() == [
        "meso: started",
        "meso: done in 12 s",
        "macro: PPO: started",
        "macro: PPO: done in 88 s",
        "events.csv (events): 0/1000 (0.0 %)",
        "events.csv (events): 300/1000 (30.0 %), 10/s, 30 s, about 70 s left",
        "events.csv (events): 600/1000 (60.0 %), 10/s, 60 s, about 40 s left",
        "events.csv (events): 900/1000 (90.0 %), 10/s, 90 s, about 10 s left",
        "events.csv (events): 1000/1000 (100.0 %), 10/s, 100 s",
    ]


def test_an_open_list_of_steps_names_each_step_at_once() -> None:
    out, clock = io.StringIO(), Clock()
    printer = LinePrinter(out, every_s=30.0, clock=clock)
    task = printer.add_task("comparing recommenders", total=None)
    for method in ("popularity", "ease", "ease"):  # a step under 30 s is named too
        clock.now += 1.0
        printer.update(task, advance=1, description=f"comparing recommenders: {method}")
    assert out.getvalue().splitlines() == [
        "comparing recommenders: started",
        "comparing recommenders: popularity",
        "comparing recommenders: ease",
    ]


def test_a_load_reports_each_files_stages(embedded: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "brands.csv").write_text(
        "brand_id,name\nB1,Verne\nB2,\nB3,Aldo\n", encoding="utf-8"
    )
    out = io.StringIO()
    load_files(
        embedded,
        [FileMapping(tmp_path / "brands.csv", "brands")],
        rejects_dir=tmp_path / "rejects",
        progress=LinePrinter(out),
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == "brands.csv (brands) read: started"
    assert lines[1].startswith("brands.csv (brands) read: done in ")
    assert lines[2] == "brands.csv (brands) checked: started"
    assert lines[3].startswith("brands.csv (brands) checked: done in ")
    assert lines[4] == "brands.csv (brands): 0/2 (0.0 %)"
    assert lines[5].startswith("brands.csv (brands): 2/2 (100.0 %)")


def test_a_terminal_gets_the_rich_display() -> None:
    assert isinstance(new_progress(is_terminal=False), LinePrinter)
    terminal = new_progress(is_terminal=True)
    assert isinstance(terminal, Progress) and not isinstance(terminal, LinePrinter)


def test_a_counted_task_writes_plain_lines_at_most_every_interval() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = LinePrinter(out, every_s=10.0, clock=lambda: now[0])
    task = progress.add_task("embedding t_products", total=100)
    for _ in range(4):
        now[0] += 4.0
        progress.advance(task, 20)
    now[0] += 4.0
    progress.advance(task, 20)
    assert out.getvalue().splitlines() == [
        "embedding t_products: 0/100 (0.0 %)",
        "embedding t_products: 60/100 (60.0 %), 5/s, 12 s, about 8 s left",
        "embedding t_products: 100/100 (100.0 %), 5/s, 20 s",
    ]


def test_a_task_with_nothing_to_do_lets_the_next_one_start() -> None:
    out = io.StringIO()
    printer = LinePrinter(out, every_s=30.0, clock=Clock())
    first = printer.add_task("products.csv (products) checked", total=1)
    printer.add_task("embedding t_brands", total=0)  # waits for the first, then is done
    printer.update(first, completed=1)
    last = printer.add_task("brands.csv (brands) checked", total=1)
    started = out.getvalue().splitlines()  # announced when added, not when done
    printer.update(last, completed=1)
    assert started == [
        "products.csv (products) checked: started",
        "products.csv (products) checked: done in 0 s",
        "embedding t_brands: 0/0",
        "brands.csv (brands) checked: started",
    ]
    assert out.getvalue().splitlines()[-1] == "brands.csv (brands) checked: done in 0 s"
