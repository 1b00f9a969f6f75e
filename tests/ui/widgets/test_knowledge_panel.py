"""The knowledge panel and grounded suggestions, on a fake knowledge base."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication

from copilot.kb.retrieval import Hit
from copilot.kb.store import StoredPassage
from tests.fakes import FakeEngine


def hit(doc: str, title: str, text: str, url: str = "") -> Hit:
    passage = StoredPassage(
        f"{doc}-0",
        text,
        {"doc_id": doc, "title": title, "path": "Refunds", "url": url, "position": 0},
    )
    return Hit(passage, 1.0, 0.5, 0.5, (0, text.find(".") + 1))


class FakeKnowledge:
    def __init__(self) -> None:
        self.queries: list[str] = []
        self.hits = [
            hit(
                "returns",
                "Returns and refunds",
                "Refunds arrive within 7 days. Labels are free.",
                "https://help.example/returns",
            ),
            hit("delivery", "Delivery", "Standard delivery takes 2 to 4 days."),
        ]

    def ensure_demo(self, cancel=None) -> None:
        return None

    def search(self, text: str) -> list[Hit]:
        self.queries.append(text)
        return self.hits[1:]

    def for_contact(self, contact) -> list[Hit]:
        self.queries.append(contact.turns[-1].text)
        return self.hits

    def article(self, doc_id: str) -> list[StoredPassage]:
        return [h.passage for h in self.hits if h.passage.doc_id == doc_id]


def open_window(qtbot, make_window, engine: FakeEngine):
    knowledge = FakeKnowledge()
    window = make_window(engine, knowledge=knowledge)
    with qtbot.waitSignal(window.knowledge.ready, timeout=5000):
        window.knowledge.start()
    # The instructions' head start runs in a worker too; its prompt must not be taken
    # for the suggestion's.
    qtbot.waitUntil(lambda: len(engine.prefilled) == 1, timeout=5000)
    return window, knowledge


def test_customer_message_refreshes_articles_and_grounds_the_suggestion(qtbot, make_window):
    engine = FakeEngine([["Your", " refund", " arrives", " within", " 7", " days."]])
    window, knowledge = open_window(qtbot, make_window, engine)
    window.add_message_as_customer("Where is my refund?")
    qtbot.waitUntil(
        lambda: not window.suggestion.busy and bool(window.suggestion.current_text), timeout=5000
    )
    assert knowledge.queries[-1] == "Where is my refund?"
    assert "Returns and refunds" in window.knowledge_panel.view.toPlainText()
    prompt_text = engine.prompts[-1][-1].text
    assert "[1] Returns and refunds › Refunds: Refunds arrive within 7 days." in prompt_text
    assert window.suggestion.current_text == "Your refund arrives within 7 days [1]."
    assert window.suggestion.sources.isVisible() and "[1]" in window.suggestion.sources.text()
    window.insert_suggestion()
    assert QGuiApplication.clipboard().text() == "Your refund arrives within 7 days."


def test_search_box_open_pin_and_copy_link(qtbot, make_window):
    window, knowledge = open_window(qtbot, make_window, FakeEngine())
    panel = window.knowledge_panel
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert panel.search_box.hasFocus()
    qtbot.keyClicks(panel.search_box, "delivery time")
    qtbot.keyClick(panel.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Delivery" in panel.view.toPlainText(), timeout=5000)
    assert knowledge.queries[-1] == "delivery time"
    panel.hits = knowledge.hits
    panel._on_anchor(QUrl("copy:0"))
    assert QGuiApplication.clipboard().text() == "https://help.example/returns"
    panel._on_anchor(QUrl("pin:0"))
    panel.show_hits(knowledge.hits[1:])
    assert [h.passage.doc_id for h in panel.hits] == ["returns", "delivery"]
    panel._on_anchor(QUrl("open:0"))
    view = window.findChild(object, "articleView")
    assert view is not None and "Refunds arrive within 7 days" in view.browser.toPlainText()
    view.close()


def test_suggestions_work_before_the_knowledge_base_is_ready(qtbot, make_window):
    window = make_window(FakeEngine([["Hello!"]]), knowledge=FakeKnowledge())
    window.add_message_as_customer("Hi")
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Hello!", timeout=5000)
    assert not window.suggestion.sources.isVisible()


def test_import_shows_progress_and_a_report(qtbot, make_window, tmp_path):
    from types import SimpleNamespace

    class ImportingKnowledge(FakeKnowledge):
        def import_paths(self, paths, cancel=None, progress=None):
            for done in (1, 2, 3):
                progress(
                    SimpleNamespace(
                        files_done=done,
                        files_total=3,
                        chunks=done * 4,
                        failed=done - 1,
                        eta_s=3 - done,
                    )
                )
            failure = SimpleNamespace(
                source=str(tmp_path / "bad.pdf"),
                problem="corrupt file",
                message="EOF marker not found",
            )
            return SimpleNamespace(
                count_imported=2, count_unchanged=0, count_removed=0, failures=[failure], chunks=12
            )

    window = make_window(FakeEngine(), knowledge=ImportingKnowledge())
    with qtbot.waitSignal(window.knowledge.ready, timeout=5000):
        window.knowledge.start()
    window.knowledge.import_paths([tmp_path])
    qtbot.waitUntil(lambda: window.findChild(object, "importReport") is not None, timeout=5000)
    report = window.findChild(object, "importReport")
    assert "2 imported" in report.text() and "1 failed" in report.text()
    assert "bad.pdf: corrupt file (EOF marker not found)" in report.informativeText()
    assert window.knowledge._import_dialog.labelText().startswith("3 of 3 files, 12 passages")
    report.close()


def test_an_unreachable_knowledge_server_shows_a_banner(qtbot, make_window):
    from copilot.errors import KnowledgeError

    def broken():
        raise KnowledgeError("The knowledge server http://kb:8000 cannot be reached.")

    window = make_window(FakeEngine([["Still here"]]), knowledge=None)
    window.knowledge.factory = broken
    with qtbot.waitSignal(window.knowledge.failed, timeout=5000):
        window.knowledge.start()
    assert "Knowledge articles are off" in window.banner.text()
    window.add_message_as_customer("Hello")
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Still here", timeout=5000)


def test_a_search_typed_meanwhile_does_not_hold_up_the_suggestion(qtbot, make_window):
    import threading

    gate = threading.Event()

    class SlowConversation(FakeKnowledge):
        def for_contact(self, contact):
            gate.wait(5)
            return super().for_contact(contact)

    window = make_window(FakeEngine([["Grounded reply"]]), knowledge=SlowConversation())
    with qtbot.waitSignal(window.knowledge.ready, timeout=5000):
        window.knowledge.start()
    window.add_message_as_customer("Where is my refund?")
    window.knowledge.search("voucher")
    gate.set()
    qtbot.waitUntil(lambda: window.suggestion.current_text == "Grounded reply", timeout=5000)


def kb_events(window, kind: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(window.analytics.path) as conn:
        return conn.execute(
            "SELECT source, ref, up, reason FROM events WHERE kind = ?", (kind,)
        ).fetchall()


@pytest.mark.qt_log_ignore(
    "This plugin does not support raise", "This plugin does not support grabbing"
)
def test_opening_and_rating_a_hit_are_recorded_by_doc_id(qtbot, make_window):
    window, _knowledge = open_window(qtbot, make_window, FakeEngine())
    panel = window.knowledge_panel
    window.add_message_as_customer("Where is my refund?")
    qtbot.waitUntil(lambda: "Helpful" in panel.view.toPlainText(), timeout=5000)
    panel._on_anchor(QUrl("open:0"))
    view = window.findChild(object, "articleView")
    view.close()
    assert kb_events(window, "kb_opened") == [("kb", "returns", None, None)]
    panel._on_anchor(QUrl("up:0"))
    assert "Thanks (helpful)" in panel.view.toPlainText()
    panel._on_anchor(QUrl("up:0"))  # rated already: once per passage
    panel._on_anchor(QUrl("down:1"))
    assert panel.menu is not None and panel.menu.isVisible()
    next(a for a in panel.menu.actions() if a.text() == "Not relevant").trigger()
    panel.menu.close()
    assert kb_events(window, "feedback") == [
        ("kb", "returns", 1, None),
        ("kb", "delivery", 0, "not relevant"),
    ]
    assert "Thanks (not helpful)" in panel.view.toPlainText()
    assert window.analytics.report(days=1).totals.kb_opened == 1


def test_a_cited_source_opened_from_the_suggestion_is_recorded(qtbot, make_window):
    engine = FakeEngine([["Your", " refund", " arrives", " within", " 7", " days."]])
    window, _knowledge = open_window(qtbot, make_window, engine)
    window.add_message_as_customer("Where is my refund?")
    qtbot.waitUntil(lambda: window.suggestion.sources.isVisible(), timeout=5000)
    window.suggestion.source_clicked.emit(1)
    view = window.findChild(object, "articleView")
    assert view is not None
    view.close()
    assert kb_events(window, "kb_opened") == [("kb", "returns", None, None)]
