import json
from pathlib import Path

import pytest

from copilot.contact import Channel, Contact, Role, load_contact
from copilot.demo import load_demo, play
from copilot.errors import ConversationError


def test_contact_grows_and_snapshots_are_independent():
    contact = Contact(channel=Channel.PHONE)
    contact.add("customer", "  Hello  ")
    snap = contact.snapshot()
    contact.add(Role.AGENT, "Hi!")
    assert [t.text for t in snap.turns] == ["Hello"]
    assert len(contact.turns) == 2 and contact.turns[0].at <= contact.turns[1].at


def test_blank_message_is_refused():
    with pytest.raises(ConversationError, match="blank"):
        Contact().add("customer", "   ")


def test_load_accepts_dialogue_and_role_aliases(tmp_path: Path):
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {"dialogue": [{"role": "user", "text": "hi"}, {"role": "assistant", "text": "hello"}]}
        )
    )
    contact = load_contact(path)
    assert [t.role for t in contact.turns] == [Role.CUSTOMER, Role.AGENT]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{oops", "not readable JSON"),
        (json.dumps({"turns": []}), "no turns"),
        (json.dumps({"channel": "fax", "turns": [{"role": "customer", "text": "x"}]}), "channel"),
        (json.dumps({"turns": [{"role": "boss", "text": "x"}]}), "role"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, content: str, message: str):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConversationError, match=message):
        load_contact(path)


def test_missing_file(tmp_path: Path):
    with pytest.raises(ConversationError, match="does not exist"):
        load_contact(tmp_path / "none.json")


def test_demo_plays_customer_turns_with_the_scripted_answers():
    script = load_demo()
    customer_turns = [t for t in script.turns if t.role is Role.CUSTOMER]
    steps = 0
    for live, answer in play(script):
        assert live.turns[-1] == customer_turns[steps]
        assert answer is None or answer.role is Role.AGENT
        steps += 1
    assert steps == len(customer_turns)
