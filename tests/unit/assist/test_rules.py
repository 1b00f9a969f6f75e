"""A profile's rules act on what the model wrote, not only on what it was asked."""

from copilot.assist.output_rules import (
    add_endings,
    apply_rules,
    check_german_address,
    check_language,
    remove_phrase,
)
from copilot.assist.prompt import build_prompt
from copilot.assist.suggestion import SuggestionRequest, suggest
from copilot.contact import Contact
from copilot.profiles.profile import Profile
from tests.fakes import FakeEngine


def profile(**changes: object) -> Profile:
    fields: dict[str, object] = {
        "name": "test",
        "description": "Test profile",
        "system_prompt": "You help an agent at {company} reply to customers.",
        "tone": "plain",
        "max_words": 40,
    }
    fields.update(changes)
    return Profile.model_validate(fields)


def test_phrase_to_avoid_is_removed_and_the_sentence_tidied():
    rules = profile(avoid_phrases=("as per our policy",), avoid_action="remove")
    result = apply_rules("As per our policy, refunds take 5 days. Thanks!", rules, language="en")
    assert result.text == "Refunds take 5 days. Thanks!"
    assert result.flags == ["removed a phrase to avoid: “as per our policy”"]


def test_phrase_to_avoid_is_only_flagged_by_default():
    result = apply_rules(
        "Please calm  down, we fix it.", profile(avoid_phrases=("calm down",)), language="en"
    )
    assert "calm  down" in result.text
    assert result.flags == ["contains a phrase to avoid: “calm down”"]


def test_remove_phrase_keeps_the_rest_of_the_words():
    assert remove_phrase(
        "We are sorry, unfortunately there is nothing we can do.", "unfortunately"
    ) == ("We are sorry, there is nothing we can do.")


def test_endings_are_added_once_and_after_the_length_cut():
    rules = profile(max_words=5)
    body = apply_rules("one two three four five six seven", rules, language="en").text
    assert len(body.split()) == 5
    text = add_endings(body, "Kind regards", "Calls may be recorded.")
    assert text.endswith("Kind regards\n\nCalls may be recorded.")
    assert add_endings(text, "Kind regards", "Calls may be recorded.") == text


def test_wrong_reply_language_is_flagged():
    flag = check_language("Vielen Dank für Ihre Nachricht, wir prüfen das sofort.", "en")
    assert flag and "German" in flag and "English" in flag
    assert check_language("Thanks, we are checking your order right now.", "en") is None
    assert check_language("Danke!", "en") is None  # too short to judge


def test_german_formal_and_informal_address():
    assert check_german_address("Kannst du mir deine Bestellnummer schicken?", "formal")
    assert check_german_address("Können Sie mir Ihre Bestellnummer schicken?", "formal") is None
    assert check_german_address("Können Sie mir Ihre Bestellnummer schicken?", "informal")
    # A sentence that starts with "Sie" (she/they) is not formal address.
    assert check_german_address("Danke dir. Sie ist schon unterwegs.", "informal") is None
    assert check_german_address("Kannst du das prüfen?", "any") is None


def test_german_address_rule_is_in_the_prompt_and_checked_on_the_output():
    rules = profile(german_address="formal", reply_language="de")
    contact = Contact()
    contact.add("customer", "Hallo, wo ist mein Paket?")
    system = build_prompt(rules, contact).messages[0].text
    assert 'formally, with "Sie"' in system
    engine = FakeEngine([["Hallo, kannst du mir deine Bestellnummer schicken, bitte?"]])
    result = suggest(engine, SuggestionRequest(profile=rules, contact=contact))
    assert any("“du”" in flag for flag in result.flags)


def test_disclaimer_is_appended_to_a_streamed_suggestion():
    rules = profile(disclaimer="This reply does not change your contract with {company}.")
    contact = Contact()
    contact.add("customer", "Can I cancel?")
    result = suggest(
        FakeEngine([["Yes, you can cancel online."]]),
        SuggestionRequest(profile=rules, contact=contact, company="Acme"),
    )
    assert result.text == (
        "Yes, you can cancel online.\n\nThis reply does not change your contract with Acme."
    )
