"""The runbook runner: order, a fresh namespace, timeouts, errors that do not stop
later cells, and action cells refused to roles without permission."""

from __future__ import annotations

from engine.admin.runner import Runner, available, parse

BOOK = """# %% [markdown]
# # Title
# Some words.

# %%
x = 1
show(x)

# %%
show({"x": x + 1})

# %%
raise ValueError("boom")

# %%
show([{"a": 1}, {"a": 2}])

# %% [action] Do something
done.append(True)
show("acted")
"""


class Facade:
    pass


def test_cells_in_order_with_typed_outputs_and_errors_do_not_stop_the_rest() -> None:
    cells = parse(BOOK)
    assert [c.kind for c in cells] == ["markdown", "code", "code", "code", "code", "code"]
    assert cells[-1].action and cells[-1].title == "Do something"
    results = Runner(Facade(), "reception").run_all(cells)
    assert results[0].outputs[0].kind == "markdown" and "# Title" in results[0].outputs[0].data
    assert results[1].outputs[0].data == "1" and results[2].outputs[0].kind == "kv"
    assert results[3].state == "error" and "ValueError: boom" in results[3].outputs[-1].data
    assert results[4].outputs[0].kind == "table"
    assert results[5].state == "refused"


def test_each_run_all_has_a_fresh_namespace() -> None:
    cells = parse("# %%\nshow('seen' if 'leftover' in globals() else 'fresh')\nleftover = 1\n")
    runner = Runner(Facade(), "reception")
    assert runner.run_all(cells)[0].outputs[0].data == "fresh"
    assert runner.run_all(cells)[0].outputs[0].data == "fresh"


def test_a_hung_cell_times_out_and_later_cells_run() -> None:
    cells = parse("# %%\nimport threading\nthreading.Event().wait(30)\n# %%\nshow('after')\n")
    results = Runner(Facade(), "reception", timeout=0.3).run_all(cells)
    assert results[0].state == "timeout" and results[1].outputs[0].data == "after"


def test_actions_need_the_role_and_a_yes() -> None:
    cells = parse(BOOK)
    done: list[bool] = []
    no = Runner(Facade(), "super user", confirm=lambda c: False)
    ns = {"admin": Facade(), "done": done}
    assert no.run_cell(cells[-1], ns).state == "skipped" and done == []
    yes = Runner(Facade(), "super user", confirm=lambda c: True)
    assert yes.run_cell(cells[-1], ns).outputs[0].data == "acted" and done == [True]


def test_outputs_pass_the_redaction_step() -> None:
    cells = parse("# %%\nshow({'who': 'Zoë at zoe@example.com'})\nprint('Zoë')\n")
    results = Runner(Facade(), "reception", redact=lambda s: s.replace("Zoë", "[name]")).run_all(cells)
    assert all("Zoë" not in str(o.data) for o in results[0].outputs)


def test_the_shipped_runbooks_parse() -> None:
    names = set(available())
    assert {"service_health", "outbox_health", "inbox_sync", "schedule", "credentials", "settings_review"} <= names
    for path in available().values():
        cells = parse(path.read_text("utf-8"))
        assert cells[0].kind == "markdown"
        for c in cells:
            if c.kind == "code":
                compile(c.source, path.name, "exec")


def test_an_action_asks_the_signed_in_users_group() -> None:
    """#19: the runbook's actions follow the group's tick, not a fixed role's name."""
    from engine.service.roles import SignedIn

    cells = parse(BOOK)
    ticked = Runner(Facade(), SignedIn("Pat", "practice manager", frozenset({"admin_actions"})), confirm=lambda c: True)
    ns = {"admin": Facade(), "done": []}
    assert ticked.run_cell(cells[-1], ns).outputs[0].data == "acted"
    unticked = Runner(Facade(), SignedIn("Sam", "super user", frozenset({"manage_pins"})), confirm=lambda c: True)
    refused = unticked.run_cell(cells[-1], {"admin": Facade(), "done": []})
    assert refused.state == "refused" and "the super user group may not run it" in refused.outputs[0].data
    assert Runner(Facade(), "reception", confirm=lambda c: True).run_cell(cells[-1], ns).state == "refused"
