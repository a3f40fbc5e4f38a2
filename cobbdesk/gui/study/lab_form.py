"""Lab values of one visit: one field per lab with its unit, checked as you type.

All rules come from :mod:`cobbdesk.core.labs`: an impossible value (``validate_lab`` refuses
it) turns its field red with the reason as tooltip and blocks Save; an unusual but possible
value (``plausibility_warning``) turns it amber and is allowed.  The NLR is derived live.
Save sends only the fields the user changed since the form opened, with the values they had
then (``expected``), in one :meth:`Study.set_labs` call (one transaction); changing or
clearing a saved value first asks for a reason (``ask_reason``, replaceable in tests).  A field
someone else saved in the meantime is a conflict: one question per field (``ask_conflict``:
keep theirs, keep mine, or cancel the save) — never a silent overwrite.

With the study's write queue (#15, :mod:`cobbdesk.core.store.outbox`) the save runs on its
worker while the window keeps painting; when the server is away the values are kept and
retried (:attr:`LabForm.kept`), and a later refusal is reported naming the visit
(:class:`LabWrite`, :mod:`cobbdesk.gui.study.late_failures`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.labs import LAB_SPECS, NLR, nlr, plausibility_warning, validate_lab
from cobbdesk.core.store import Study
from cobbdesk.core.store.conflicts import ConflictError, FieldConflict
from cobbdesk.core.store.outbox import First, attached
from cobbdesk.gui import errors
from cobbdesk.gui.conflicts import ask_theirs_or_mine

ReasonPrompt = Callable[[QWidget | None, str], str | None]
ConflictPrompt = Callable[[QWidget | None, FieldConflict], str | None]
"""Answers ``"theirs"``, ``"mine"`` or None (cancel the save) for one conflicting field."""
BINARY_CHOICES = ("—", "positive", "negative")
ERROR_STYLE = "border: 2px solid #c62828; background: #fdecea;"
WARNING_STYLE = "border: 2px solid #e09b00; background: #fff6dc;"
ERROR_COLOUR, WARNING_COLOUR = "#c62828", "#9a6700"
LabValue = float | str | None


def _reason_dialog(parent: QWidget | None, what: str) -> str | None:
    text, ok = QInputDialog.getText(
        parent, "Reason for the change", f"{what}\n\nReason (kept in the audit trail):"
    )
    return text.strip() if ok and text.strip() else None


#: Asks why a saved value changes; None means the user declined.  Replaced in tests.
ask_reason: ReasonPrompt = _reason_dialog


def _conflict_dialog(parent: QWidget | None, clash: FieldConflict) -> str | None:
    spec = LAB_SPECS[clash.field]
    unit = f" {spec.unit}" if spec.unit else ""

    def shown(value: LabValue) -> str:
        return f"{format_value(value)}{unit}" if value is not None else "empty"

    return ask_theirs_or_mine(
        parent,
        f"{spec.label} was {shown(clash.seen)} when you opened this form; someone else has "
        f"saved {shown(clash.theirs)} since. You entered {shown(clash.mine)}.",
    )


#: Resolves one conflicting field; replaced in tests.
ask_conflict: ConflictPrompt = _conflict_dialog


@dataclass(frozen=True)
class LabWrite:
    """The subject of a queued lab save: the visit and its title (study ID, never a name)."""

    visit_id: int
    title: str


def format_value(value: LabValue) -> str:
    return "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))


class LabForm(QDialog):
    """Enter or correct the labs of one visit (``title`` names it by study ID, never by name)."""

    def __init__(
        self,
        study: Study,
        visit_id: int,
        title: str,
        parent: QWidget | None = None,
        reason_prompt: ReasonPrompt | None = None,
        *,
        conflict_prompt: ConflictPrompt | None = None,
        loading: bool = False,
    ) -> None:
        """``loading``: the saved values are being read elsewhere (off the UI thread): the form
        shows "Loading…", disabled, until :meth:`show_saved`; otherwise they are read here."""
        super().__init__(parent)
        self.setWindowTitle(f"Labs — {title}")
        self.study, self.visit_id, self.title = study, visit_id, title
        self.kept = False
        """True when the last save was kept for a server that is away (retried later)."""
        self.reason_prompt = reason_prompt
        self.conflict_prompt = conflict_prompt
        self.loading = loading
        self.saved = {} if loading else study.labs(visit_id)  # the baseline of every save
        self.warnings: list[str] = []
        self.fields: dict[str, QLineEdit | QComboBox] = {}
        self.problems: dict[str, str] = {}
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>{title}</b>")
        layout.addWidget(heading)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        for row, name in enumerate(LAB_SPECS):
            self._add_field(grid, row, name)
        self.nlr = QLineEdit()
        self.nlr.setReadOnly(True)
        self.nlr.setStyleSheet("background: #f0f0f0; color: #333;")
        self.nlr.setToolTip("Neutrophils ÷ lymphocytes, derived from the values above")
        grid.addWidget(QLabel(NLR.label), len(LAB_SPECS), 0)
        grid.addWidget(self.nlr, len(LAB_SPECS), 1)
        layout.addLayout(grid)
        self._add_footer(layout)
        self._heading = heading
        self._revalidate()
        self._show_loading()

    def _show_loading(self) -> None:
        for editor in self.fields.values():
            editor.setEnabled(not self.loading)
        if self.loading:
            self.message.setText("Loading…")

    def show_saved(self, saved: Mapping[str, LabValue], title: str | None = None) -> None:
        """The saved values read off the UI thread (and the visit's ``title``): fill the fields
        with them, enable the form."""
        if title is not None:
            self.title = title
            self.setWindowTitle(f"Labs — {title}")
            self._heading.setText(f"<b>{title}</b>")
        self.saved = dict(saved)
        for name in self.fields:
            self.set_raw(name, format_value(self.saved.get(name)))
        self.loading = False
        self._show_loading()
        self._revalidate()

    def _add_footer(self, layout: QVBoxLayout) -> None:
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(36)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _add_field(self, grid: QGridLayout, row: int, name: str) -> None:
        spec = LAB_SPECS[name]
        saved = self.saved.get(name)
        editor: QLineEdit | QComboBox
        if spec.kind == "binary":
            editor = QComboBox()
            editor.addItems(BINARY_CHOICES)
            editor.setCurrentIndex(BINARY_CHOICES.index(saved) if saved in BINARY_CHOICES else 0)
            editor.currentIndexChanged.connect(self._revalidate)
        else:
            editor = QLineEdit(format_value(saved))
            editor.setPlaceholderText("not measured")
            editor.textChanged.connect(self._revalidate)
        editor.setMinimumWidth(120)
        self.fields[name] = editor
        label = QLabel(spec.label)
        label.setBuddy(editor)
        grid.addWidget(label, row, 0)
        grid.addWidget(editor, row, 1)
        grid.addWidget(QLabel(spec.unit), row, 2)
        hint = QLabel(f"possible {spec.describe_range()}" if spec.kind == "number" else "")
        hint.setStyleSheet("color: #777;")
        grid.addWidget(hint, row, 3)

    # --- values and validation ------------------------------------------------------------
    def raw(self, name: str) -> str | None:
        editor = self.fields[name]
        if isinstance(editor, QComboBox):
            return None if editor.currentIndex() == 0 else editor.currentText()
        return editor.text()

    def set_raw(self, name: str, text: str) -> None:
        """Type ``text`` into a lab's field (or choose it in a combo), as a user would."""
        editor = self.fields[name]
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(BINARY_CHOICES.index(text) if text in BINARY_CHOICES else 0)
        else:
            editor.setText(text)

    def values(self) -> dict[str, LabValue]:
        """The validated value of every field (invalid ones are left out; see ``problems``)."""
        result: dict[str, LabValue] = {}
        for name in LAB_SPECS:
            try:
                result[name] = validate_lab(name, self.raw(name))
            except ValidationError:
                continue
        return result

    def _revalidate(self, *_: object) -> None:
        self.problems, self.warnings = {}, []
        for name, editor in self.fields.items():
            spec = LAB_SPECS[name]
            try:
                value = validate_lab(name, self.raw(name))
            except ValidationError as exc:
                self.problems[name] = exc.message
                editor.setStyleSheet(ERROR_STYLE)
                editor.setToolTip(exc.message)
                continue
            warning = plausibility_warning(name, value)
            if warning:
                self.warnings.append(warning)
            editor.setStyleSheet(WARNING_STYLE if warning else "")
            editor.setToolTip(warning or f"{spec.label}: {spec.describe_range()}")
        self._show_nlr()
        self._show_message()

    def _show_nlr(self) -> None:
        values = self.values()
        n, ly = values.get("neutrophil"), values.get("lymphocyte")
        ratio = nlr(n if isinstance(n, float) else None, ly if isinstance(ly, float) else None)
        self.nlr.setText("—" if ratio is None else f"{ratio:.2f}")

    def _show_message(self) -> None:
        lines = [f"<span style='color:{ERROR_COLOUR}'>✖ {p}</span>" for p in self.problems.values()]
        lines += [f"<span style='color:{WARNING_COLOUR}'>⚠ {w}</span>" for w in self.warnings]
        self.message.setText("<br>".join(lines))
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(not self.problems and not self.loading)
        save.setToolTip("Correct the values marked red first" if self.problems else "")

    # --- saving -----------------------------------------------------------------------------
    def changed(self) -> dict[str, LabValue]:
        """The fields whose value differs from when the form opened (only these are saved)."""
        values = self.values()
        return {n: values.get(n) for n in LAB_SPECS if values.get(n) != self.saved.get(n)}

    def edited(self) -> list[str]:
        """Labs whose saved value would change or be cleared (these need a reason)."""
        return [n for n in self.changed() if self.saved.get(n) is not None]

    def _refuse(self, text: str) -> bool:
        self.message.setText(f"<span style='color:{ERROR_COLOUR}'>Not saved: {text}</span>")
        return False

    def _reason_for(self, edited: list[str]) -> str | None:
        labels = ", ".join(LAB_SPECS[n].label for n in edited)
        prompt = self.reason_prompt or ask_reason
        return prompt(self, f"You are changing saved lab values: {labels}.") or None

    def _resolve(self, clashes: list[FieldConflict]) -> bool:
        """Ask about each conflict; True when every one was answered (False: cancelled)."""
        prompt = self.conflict_prompt or ask_conflict
        for clash in clashes:
            answer = prompt(self, clash)
            if answer not in ("theirs", "mine"):
                return False
            self.saved[clash.field] = clash.theirs  # what is stored now becomes the baseline
            if answer == "theirs":
                self.set_raw(clash.field, format_value(clash.theirs))
        return True

    def _write(
        self, changed: Mapping[str, LabValue], reason: str, expected: Mapping[str, LabValue]
    ) -> bool:
        """One ``set_labs`` (through the study's write queue when it has one); False when
        the values were kept for a server that is away."""
        outbox = attached(self.study)
        if outbox is None:
            self.study.set_labs(self.visit_id, changed, reason=reason, expected=expected)
            return True
        values, seen = dict(changed), dict(expected)
        first, _ = outbox.call(
            lambda: self.study.set_labs(self.visit_id, values, reason=reason, expected=seen),
            f"saving lab values of visit #{self.visit_id}",
            subject=LabWrite(self.visit_id, self.title),
        )
        return first is First.SAVED

    def save(self) -> bool:
        """Write the changed values (one transaction); False when refused, cancelled or when
        no reason was given."""
        if self.problems or self.loading:
            self._show_message()
            return False
        reason = ""
        for _attempt in range(5):  # each round resolves what others saved meanwhile
            changed = self.changed()
            if not changed:
                break
            if self.edited() and not reason:
                reason = self._reason_for(self.edited()) or ""
                if not reason:
                    return self._refuse("changing saved values needs a reason.")
            expected = {n: self.saved.get(n) for n in changed}
            try:
                self.kept = not self._write(changed, reason, expected)
            except ConflictError as exc:
                if not self._resolve(exc.conflicts):
                    return self._refuse("cancelled; the values saved by someone else are kept.")
                continue
            except CobbdeskError as exc:
                errors.report(self, exc, "Saving lab values")
                return False
            break
        else:
            return self._refuse("the values keep changing; reopen the form.")
        self.accept()
        return True
