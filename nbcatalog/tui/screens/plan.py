"""Before a tag moves: what the upgrade costs and changes, the facts ``nbcatalog plan`` prints.

Bumping a tag in the app is one keystroke; what it means for every node and every user is not.
So the tag picker's choice is not applied at once: this dialog reads the plan for the new tag
(:func:`nbcatalog.plan.plan_image`, the same call as the CLI) and shows the download per node, the
package changes, the highlights, CUDA, Kubeflow readiness and policy, with the risks first. ``y``
applies the tag (still an unsaved edit: ctrl+s saves, u undoes), ``n`` or ``esc`` keeps the old one;
the admin may answer before the facts arrive, and a registry that fails or stalls is a line here,
not a lost edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, LoadingIndicator, Static

from nbcatalog.errors import NbcatalogError
from nbcatalog.limits import fresh_request_budget
from nbcatalog.localfiles import human_size
from nbcatalog.safetext import safe_rich_text, safe_text
from nbcatalog.tui.screens.base import AppScreenMixin


class PlanScreen(AppScreenMixin, ModalScreen[bool]):
    """``PlanScreen(name, tag)``: dismissed with True to apply the tag, False to keep the current one."""

    BINDINGS = [Binding("y", "answer(True)", "Apply the tag"), Binding("n,escape", "answer(False)", "Keep")]

    def __init__(self, name: str, tag: str) -> None:
        super().__init__()
        self.entry = name
        self.tag = tag
        self.plan: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        image = self.nb_app.document.catalog.find(self.entry)
        now = image.tag if image is not None else "?"
        with Vertical(classes="dialog tall", id="plan-dialog"):
            yield Label(safe_rich_text(f"Move {self.entry} from {now} to {self.tag}?"), classes="dialog-title")
            yield LoadingIndicator(id="plan-loading")
            with VerticalScroll(id="plan-scroll"):
                yield Static("reading the plan for the new tag… (y applies it now, n keeps the old one)",
                             id="plan-facts")  # fmt: skip
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply (y)", variant="warning", id="yes")
                yield Button("Keep (n)", variant="primary", id="no")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
        self.load_plan()

    @work(exclusive=True, exit_on_error=False, group="plan")
    async def load_plan(self) -> None:
        fresh_request_budget()  # this read's own count against the requests limit
        import asyncio

        from nbcatalog.plan import plan_image
        from nbcatalog.tui.state import no_answer, read_deadline

        catalog = self.nb_app.document.catalog
        image = catalog.find(self.entry)
        if image is None:
            self.show_error(f"{self.entry} is no longer in the catalog")
            return
        try:
            async with asyncio.timeout(read_deadline()):
                plan = await plan_image(self.nb_app.session, catalog, image, to=self.tag)
        except TimeoutError:
            self.show_error(no_answer())
            return
        except NbcatalogError as exc:
            self.show_error(str(exc))
            return
        self.plan = plan.to_json()
        self.query_one("#plan-loading").display = False
        self.query_one("#plan-facts", Static).update(plan_table(self.plan))

    def show_error(self, text: str) -> None:
        self.query_one("#plan-loading").display = False
        line = Text.assemble(("cannot read the plan: ", "bold red"), (safe_text(text), "red"))
        line.append("\ny still applies the tag; n keeps the old one", "dim")
        self.query_one("#plan-facts", Static).update(line)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


def plan_table(plan: Mapping[str, Any]) -> Table:
    """One image's plan (its ``plan --json`` object) as label/value rows, risks first.

    Only display: every value is the plan's, every string from a registry goes through safe_text.
    """
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    if plan.get("error"):
        table.add_row(Text("Error", "bold red"), safe_rich_text(str(plan["error"]), "red"))
    if plan.get("risky"):
        reasons = [str(r) for r in plan.get("reasons") or []] or ["see below"]
        table.add_row(Text("Risky", "bold red"), safe_rich_text("; ".join(reasons), "red"))
    pull, total = plan.get("pull_bytes"), plan.get("candidate_bytes")
    if isinstance(pull, int):
        size = human_size(pull) + (f" of {human_size(total)}" if isinstance(total, int) else "")
        table.add_row("Pull per node", safe_rich_text(size))
    changes = plan.get("changes")
    if isinstance(changes, Mapping):
        parts = [f"{changes.get(k, 0)} {k}" for k in ("added", "removed", "upgraded", "downgraded", "changed")]
        table.add_row("Packages", safe_rich_text(", ".join(parts)))
    for item in plan.get("highlights") or []:
        if isinstance(item, Mapping):
            name = str(item.get("name", "?"))
            change = f"{item.get('from') or '—'} → {item.get('to') or '—'}"
            table.add_row("", safe_rich_text(f"{name} {change}"))
    cuda = plan.get("cuda")
    if isinstance(cuda, Mapping):
        table.add_row("CUDA", safe_rich_text(f"{_cuda(cuda.get('from'))} → {_cuda(cuda.get('to'))}", "magenta"))
    ready = plan.get("kubeflow_ready")
    if isinstance(ready, Mapping):
        table.add_row("Kubeflow-ready", safe_rich_text(f"{_yes(ready.get('from'))} → {_yes(ready.get('to'))}"))
    violations = [v for v in plan.get("policy") or [] if isinstance(v, Mapping)]
    for violation in violations:
        style = "red" if violation.get("severity") == "error" else "yellow"
        table.add_row(safe_rich_text(str(violation.get("kind", "policy")), style),
                      safe_rich_text(str(violation.get("message", ""))))  # fmt: skip
    if not violations and "policy" in plan:
        table.add_row("Policy", "passes")
    return table


def _cuda(side: Any) -> str:
    if not isinstance(side, Mapping):
        return "none" if side is None else str(side)
    version = side.get("version") or "yes"
    driver = side.get("min_driver")
    return f"{version} (driver ≥ {driver})" if driver else str(version)


def _yes(value: Any) -> str:
    return "unknown" if value is None else ("yes" if value else "no")
