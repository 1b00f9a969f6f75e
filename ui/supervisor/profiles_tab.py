"""The Profiles tab: the published profiles, the editor for one draft and its preview.

A draft only reaches agents through Publish. Leaving a draft with changes asks first
(publish, discard or stay), and a read-only library (managed by IT) can be read and
previewed but not changed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from copilot.errors import CopilotError
from copilot.profiles.files import field_errors
from copilot.profiles.profile import Profile, load_profile
from ui.supervisor import ask, pack_flow
from ui.supervisor.preview import PreviewPane
from ui.supervisor.profile_form import ProfileForm
from ui.worker import WorkerPool

NAME_ROLE = Qt.ItemDataRole.UserRole
_BANNER = "background:#eff6ff; color:#1e3a8a; border:1px solid #bfdbfe; padding:6px"
_PROBLEM = "background:#fdecea; color:#7f1d1d; border:1px solid #f5c2c0; padding:6px"
_DIRTY = "color:#92400e; font-weight:bold"
PREVIEW_MIN_HEIGHT = 200
UNVERIFIED = (
    "Changed outside supervisor mode, so agents do not get it. Check it, then publish it to "
    "use it again, or delete it."
)
NEW_PROMPT = (
    "You help a customer support agent at {company} reply to {customer_name}. Answer the "
    "customer's last message helpfully and briefly, and never invent facts."
)


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button


def unique_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


class ProfilesTab(QWidget):
    """``published(message)`` after any change agents will see; ``status(message)`` else."""

    published = Signal(str)
    status = Signal(str)

    def __init__(
        self, runtime: Any, library: Any, workers: WorkerPool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("profilesTab")
        self.runtime = runtime
        self.library = library
        self.profiles: dict[str, Profile] = {}
        self.unverified: dict[str, Profile] = {}
        self.problems: list[str] = []
        self.previous_name: str | None = None
        self.is_new = False
        self._baseline: dict[str, Any] = {}
        self._switching = False
        self.form = ProfileForm(self._validate)
        self.preview = PreviewPane(runtime, workers)
        self._build()
        self._shortcuts()
        self.form.changed.connect(self._on_form_changed)
        self.preview.preview_requested.connect(self.run_preview)
        self.reload()
        self._apply_read_only()

    # -- building ----------------------------------------------------------------------
    def _build(self) -> None:
        self.list = QListWidget()
        self.list.setObjectName("profileList")
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.banner = QLabel("")
        self.banner.setObjectName("profilesBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.hide()
        layout = QHBoxLayout(self)
        layout.addWidget(self._build_side())
        layout.addWidget(self._build_editor(), 1)
        chain = [
            self.list,
            self.new_button,
            self.duplicate_button,
            self.delete_button,
            self.export_button,
            self.import_button,
            *self.form.focus_chain(),
            self.preview.sample_box,
            self.preview.button,
            self.revert_button,
            self.publish_button,
        ]
        for before, after in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(before, after)

    def _build_side(self) -> QWidget:
        """The published profiles and what can be done with them, packs below."""
        self.new_button = _button("&New", "newProfile", "Start a new profile (Ctrl+N)")
        self.duplicate_button = _button(
            "D&uplicate", "duplicateProfile", "Copy the selected profile under a new name"
        )
        self.delete_button = _button(
            "De&lete", "deleteProfile", "Delete the selected profile (Delete)"
        )
        self.export_button = _button(
            "E&xport pack…", "exportPack", "Save every published profile as one pack file"
        )
        self.import_button = _button(
            "Imp&ort pack…", "importPack", "Load a pack file from another workstation"
        )
        self.new_button.clicked.connect(self.new_profile)
        self.duplicate_button.clicked.connect(self.duplicate_profile)
        self.delete_button.clicked.connect(self.delete_profile)
        self.export_button.clicked.connect(self.export_pack)
        self.import_button.clicked.connect(self.import_pack)
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        caption = QLabel("Published pro&files")
        caption.setBuddy(self.list)
        column.addWidget(caption)
        column.addWidget(self.list, 1)
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.new_button)
        edit_row.addWidget(self.duplicate_button)
        column.addLayout(edit_row)
        column.addWidget(self.delete_button)
        column.addSpacing(10)
        column.addWidget(QLabel("Packs"))
        column.addWidget(self.export_button)
        column.addWidget(self.import_button)
        side.setMinimumWidth(160)
        side.setMaximumWidth(200)
        return side

    def _build_editor(self) -> QWidget:
        """The form above the preview, and the draft's state with Revert and Publish."""
        self.form_scroll = QScrollArea()
        self.form_scroll.setObjectName("profileFormScroll")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setWidget(self.form)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("profileSplitter")
        self.splitter.addWidget(self.form_scroll)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setCollapsible(0, False)
        self.dirty_label = QLabel("")
        self.dirty_label.setObjectName("draftState")
        self.revert_button = _button("Revert", "revertProfile", "Drop the unpublished changes")
        self.publish_button = _button(
            "Publis&h",
            "publishProfile",
            "Save the draft; agents get it on their next suggestion (Ctrl+Shift+P)",
        )
        self.publish_button.setDefault(True)
        self.revert_button.clicked.connect(self.revert)
        self.publish_button.clicked.connect(self.publish)
        actions = QHBoxLayout()
        actions.addWidget(self.dirty_label, 1)
        actions.addWidget(self.revert_button)
        actions.addWidget(self.publish_button)
        editor = QWidget()
        body = QVBoxLayout(editor)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.banner)
        body.addWidget(self.splitter, 1)
        body.addLayout(actions)
        return editor

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """The first time: the whole form without scrolling if the preview keeps 200 px."""
        super().showEvent(event)
        if getattr(self, "_sized", False):
            return
        self._sized = True
        QTimer.singleShot(0, self._fit_form)

    def _fit_form(self) -> None:
        total = sum(self.splitter.sizes())
        wanted = self.form.sizeHint().height() + 2 * self.form_scroll.frameWidth()
        # room for a few lines of error messages, as long as the preview stays readable
        wanted += max(0, min(3 * self.fontMetrics().lineSpacing(), total - wanted - 220))
        if total - wanted >= PREVIEW_MIN_HEIGHT:
            self.splitter.setSizes([wanted, total - wanted])

    def _shortcuts(self) -> None:
        for keys, slot in (
            ("Ctrl+N", self.new_profile),
            ("Ctrl+Shift+P", self.publish),
            ("Ctrl+Return", self.run_preview),
            ("Ctrl+Enter", self.run_preview),
        ):
            QShortcut(QKeySequence(keys), self, slot)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete_profile)

    # -- the library ---------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return bool(getattr(self.library, "read_only", False))

    def _apply_read_only(self) -> None:
        editable = not self.read_only
        for button in (
            self.new_button,
            self.duplicate_button,
            self.delete_button,
            self.import_button,
            self.revert_button,
        ):
            button.setEnabled(editable)
        self.form.set_editable(editable)
        self._update_banner()
        self._update_state()

    def _update_banner(self) -> None:
        """What is wrong with the published profiles, and whether they can be changed here."""
        lines = list(self.problems)
        if self.read_only:
            lines.append(
                f"These profiles are managed by IT (folder {self.library.folder}), so they can "
                "be read and previewed here but not changed. Ask IT to change them."
            )
        self.banner.setText("\n".join(lines))
        self.banner.setStyleSheet(_PROBLEM if self.problems else _BANNER)
        self.banner.setVisible(bool(lines))

    def reload(self, select: str | None = None) -> None:
        """Re-read the published profiles and show ``select`` (or the one shown before)."""
        try:
            loaded = self.library.load()
        except CopilotError as exc:
            self.profiles, self.problems = {}, [exc.user_message]
        else:
            self.profiles = dict(loaded.profiles)
            self.problems = [e.user_message for e in loaded.errors]
        self.unverified = {} if self.read_only else self._unverified()
        self._update_banner()
        wanted = select or self.previous_name
        names = sorted({*self.profiles, *self.unverified})
        row = names.index(wanted) if wanted in names else 0
        self._switching = True
        try:
            self.list.clear()
            for name in names:
                self.list.addItem(self._item(name))
            if names:
                self.list.setCurrentRow(row)
        finally:
            self._switching = False
        self.is_new = False
        if names:
            self._show(names[row])
        else:
            self.previous_name = None
            self._update_state()

    def _unverified(self) -> dict[str, Profile]:
        """Files refused as changed outside supervisor mode that still read as profiles.

        They are listed so a supervisor can check one and publish it again (or delete it).
        """
        found: dict[str, Profile] = {}
        for path in self.library.profile_files():
            if path.stem in self.profiles:
                continue
            try:
                profile = load_profile(path)
            except CopilotError:
                continue  # unreadable: the banner already says why
            found[profile.name] = profile
        return found

    def _item(self, name: str) -> QListWidgetItem:
        if name in self.profiles:
            item = QListWidgetItem(name)
            item.setToolTip(self.profiles[name].description)
        else:
            item = QListWidgetItem(f"{name} ⚠ not in use")
            item.setToolTip(UNVERIFIED)
            font = QFont(item.font())
            font.setItalic(True)
            item.setFont(font)
        item.setData(NAME_ROLE, name)
        return item

    def _show(self, name: str) -> None:
        self.previous_name = name
        self.is_new = False
        published = name in self.profiles
        self.form.load(self.profiles[name] if published else self.unverified[name])
        # a file changed outside supervisor mode counts as a change until it is published
        self._baseline = self.form.raw() if published else {}
        self._update_state()

    def _validate(self, raw: dict[str, Any]) -> dict[str, str]:
        checker = getattr(self.library, "field_errors", None)
        errors = dict(checker(raw) if checker else field_errors(raw))
        name = raw.get("name", "")
        if "name" not in errors and name != self.previous_name and name in self.profiles:
            errors["name"] = f"A profile named “{name}” already exists; choose another name."
        return errors

    # -- draft state ---------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.is_new or (self.previous_name is not None and self.form.raw() != self._baseline)

    def _update_state(self) -> None:
        valid = not self.form.errors
        editable = not self.read_only and (self.is_new or self.previous_name is not None)
        if self.read_only:
            self.dirty_label.setText("Read-only: managed by IT")
            self.dirty_label.setStyleSheet("color:#6b7280")
        elif self.dirty:
            problem = "" if valid else " (fix the fields marked in red to publish)"
            what = "not in use" if self.previous_name in self.unverified else "unpublished changes"
            self.dirty_label.setText(f"• {what}{problem}")
            self.dirty_label.setStyleSheet(_DIRTY)
        else:
            self.dirty_label.setText("Published: agents use this version")
            self.dirty_label.setStyleSheet("color:#166534")
        self.publish_button.setEnabled(editable and valid)
        self.revert_button.setEnabled(not self.read_only and self.dirty)
        has_selection = self.previous_name is not None and not self.is_new
        self.duplicate_button.setEnabled(not self.read_only and has_selection)
        self.delete_button.setEnabled(not self.read_only and has_selection)

    def _on_form_changed(self) -> None:
        self._update_state()

    def maybe_leave(self) -> bool:
        """May the current draft be left? Asks Publish/Discard/Cancel when it has changes."""
        if self.read_only or not self.dirty:
            return True
        name = self.form.raw().get("name") or "the new profile"
        answer = ask.save_discard_cancel(
            self, f"“{name}” has unpublished changes. Publish them before leaving?"
        )
        if answer is ask.Leave.SAVE:
            return self.publish()
        if answer is ask.Leave.DISCARD:
            self._drop_new_item()
            return True
        return False

    def _drop_new_item(self) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(NAME_ROLE) is None:
                self._switching = True
                self.list.takeItem(row)
                self._switching = False
                return

    def _on_current_changed(
        self, current: QListWidgetItem | None, previous: QListWidgetItem | None
    ) -> None:
        if self._switching or current is None:
            return
        name = current.data(NAME_ROLE)
        if name is None or name == self.previous_name:
            return
        if not self.maybe_leave():
            if previous is not None:
                self._switching = True
                self.list.setCurrentItem(previous)
                self._switching = False
            return
        if name in self.profiles or name in self.unverified:
            self._show(name)

    # -- actions -------------------------------------------------------------------------
    def new_profile(self) -> None:
        if self.read_only or not self.maybe_leave():
            return
        name = unique_name("new-profile", set(self.profiles))
        template = Profile(
            name=name,
            description="Describe when agents should pick this profile.",
            system_prompt=NEW_PROMPT,
            tone="friendly, clear and brief",
        )
        item = QListWidgetItem(f"{name} (new)")
        font = QFont(item.font())
        font.setItalic(True)
        item.setFont(font)
        item.setData(NAME_ROLE, None)
        self._switching = True
        self.list.addItem(item)
        self.list.setCurrentItem(item)
        self._switching = False
        self.previous_name = None
        self.is_new = True
        self.form.load(template)
        self._baseline = {}
        self._update_state()
        self.form.name.setFocus()
        self.form.name.selectAll()

    def duplicate_profile(self) -> None:
        source = self.previous_name
        if self.read_only or source is None or not self.maybe_leave():
            return
        new_name = unique_name(f"{source}-copy", set(self.profiles))
        try:
            self.library.duplicate(source, new_name)
        except CopilotError as exc:
            ask.error(self, "Duplicate failed", exc)
            return
        self.reload(select=new_name)
        self.published.emit(f"Copied {source} as {new_name}; rename it and publish.")
        self.form.name.setFocus()
        self.form.name.selectAll()

    def delete_profile(self) -> None:
        name = self.previous_name
        if self.read_only or name is None:
            return
        if name in self.profiles and len(self.profiles) <= 1:
            ask.inform(
                self,
                "Cannot delete the last profile",
                f"“{name}” is the only profile left, and agents need one for suggestions. "
                "Create another profile first.",
            )
            return
        if not ask.confirm(
            self,
            "Delete profile",
            f"Delete the profile “{name}”? Agents using it move to another profile on their "
            "next suggestion. A pack exported earlier can bring it back.",
            ok="&Delete",
        ):
            return
        try:
            self.library.delete(name)
        except CopilotError as exc:
            ask.error(self, "Delete failed", exc)
            return
        self.previous_name = None
        self.reload()
        self.published.emit(f"Deleted {name}.")

    def revert(self) -> None:
        if self.is_new:
            self._drop_new_item()
            self.reload()
        elif self.previous_name in self.profiles or self.previous_name in self.unverified:
            self._show(self.previous_name)

    def publish(self) -> bool:
        """Publish the draft; True when it worked."""
        if self.read_only:
            return False
        draft = self.form.profile()
        if draft is None:
            self.form.revalidate()
            return False
        try:
            self.library.publish(draft, previous_name=self.previous_name)
        except CopilotError as exc:
            ask.error(self, "Publish failed", exc)
            return False
        self._drop_new_item()
        self.previous_name = draft.name
        self.is_new = False
        self.reload(select=draft.name)
        self.published.emit(f"Published {draft.name}; agents see it on their next suggestion.")
        return True

    def run_preview(self) -> None:
        draft = self.form.profile()
        if draft is None:
            for column in self.preview.columns.values():
                column.show_message("Fix the fields marked in red, then preview the draft.")
            return
        current = self.profiles.get(self.previous_name or "")
        self.preview.preview(draft, current)

    def export_pack(self) -> None:
        message = pack_flow.export_pack(self, self.library, self.runtime.settings)
        if message:
            self.status.emit(message)

    def import_pack(self) -> None:
        if self.read_only or not self.maybe_leave():
            return
        message = pack_flow.import_pack(self, self.library)
        if message:
            self.reload()
            self.published.emit(message)
