"""The extractive summary: picked from the contact's own sentences, never invented.

It is instant, works with no model at all, and fills any field the model leaves
empty or unusable. Sentences are scored by how central they are to the contact
(content words shared with the rest of it), with the customer's early words
standing for the reason and the agent's substantive words for what was done.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from copilot.contact import Role
from copilot.history.records import (
    ContactSummary,
    Disposition,
    MessageRecord,
    Sentiment,
    SummaryMethod,
)

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_SIGNATURE = re.compile(r"\s[\^\-–]?[A-Z]{1,3}\.?$")
_LINK = re.compile(r"<LINK>|https?://\S+")
_STOP = frozenset(
    """the and for you your are was were this that with have has had not but can could would
    will what when where which who how why our out all any just get got been they them their
    there then than its it's i'm im ive i've we're were let lets know please thanks thank
    hello hi hey dear regards sorry also from into about more some very much only here one
    der die das und ist nicht ich sie wir ihr ein eine einen dem den des mit von für auf
    bitte danke hallo guten tag haben habe hat wie was wann wo noch schon auch aber oder
    """.split()  # noqa: SIM905 - a word list reads best as text
)
_GREETING = re.compile(
    r"^(hi|hello|hey|dear|thanks|thank you|you're welcome|no problem|have a (nice|great)|"
    r"hallo|guten (tag|morgen|abend)|danke|vielen dank|gern geschehen)\b[^.!?]{0,40}[.!?]?$",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"\b(will|we'll|i'll|going to|follow[- ]?up|call you back|callback|get back to|pending|"
    r"waiting for|within \d+|as soon as|werde|werden|melden uns|rückruf|"
    r"warten auf)\b",
    re.IGNORECASE,
)
_OPENER = re.compile(
    r"^(hi|hello|hey|dear|good (morning|afternoon|evening)|hallo|guten (tag|morgen|abend)|"
    r"liebe[rs]?|sehr geehrte[rs]?)\b[^,.!?]{0,30}[,!.]\s+(?=\S)",
    re.IGNORECASE,
)
_PLEASANTRY = re.compile(
    r"\b(anything else|have a (lovely|nice|great|good)|glad|you're welcome|my pleasure|enjoy|"
    r"take care|happy to help|schönen (tag|abend)|gern geschehen|noch etwas)\b",
    re.IGNORECASE,
)
_ESCALATE = re.compile(
    r"\b(escalat\w*|supervisor|manager|specialist team|senior|complaints? team|"
    r"weitergeleitet|eskal\w*|vorgesetzt\w*)\b",
    re.IGNORECASE,
)
_CALLBACK = re.compile(r"\b(call you back|callback|call back|rückruf|rufen sie .* an)\b", re.I)
_SOLVED = re.compile(
    r"\b(resolved|sorted|fixed|refund(ed)? (has been |was )?(issued|processed)|works now|"
    r"that worked|all set|done|erledigt|gelöst|funktioniert( jetzt| wieder)?|erstattet)\b",
    re.IGNORECASE,
)
_POSITIVE = re.compile(
    r"\b(thanks?|thank you|great|perfect|awesome|appreciate\w*|helpful|happy|glad|love|"
    r"excellent|wonderful|danke|super|toll|prima|perfekt|freue|hilfreich)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(angry|annoy\w*|frustrat\w*|disappoint\w*|terrible|awful|worst|ridiculous|unacceptable|"
    r"useless|furious|hate|never again|still (not|hasn't|haven't|no)|again|complain\w*|"
    r"broken|waste|rubbish|joke|sick of|fed up|ärgerlich|enttäuscht|unverschämt|frechheit|"
    r"katastrophe|schon wieder|immer noch|kaputt|unzufrieden|beschwer\w*)\b",
    re.IGNORECASE,
)


def clean(text: str) -> str:
    """Drop links and sign-off initials that say nothing about the contact."""
    text = _LINK.sub(" ", text)
    text = _SIGNATURE.sub("", text.strip()).strip()
    text = _SIGNATURE.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(clean(text)) if len(s.strip()) > 2]


def words(text: str) -> list[str]:
    return [w for w in (m.casefold() for m in _WORD.findall(text)) if w not in _STOP]


def _central(candidates: Sequence[str], weights: Counter[str]) -> list[tuple[float, int]]:
    scored = []
    for index, sentence in enumerate(candidates):
        tokens = set(words(sentence))
        if not tokens or not _substantive(sentence):
            continue
        score = sum(weights[t] for t in tokens) / (len(tokens) ** 0.5)
        scored.append((score, index))
    return sorted(scored, reverse=True)


def _by_role(messages: Sequence[MessageRecord], role: Role) -> list[str]:
    return [s for m in messages if m.role is role for s in sentences(m.text)]


def _substantive(sentence: str) -> bool:
    if _GREETING.match(sentence):
        return False
    return not (_PLEASANTRY.search(sentence) and len(sentence.split()) < 12)


def _pick_reason(messages: Sequence[MessageRecord]) -> str:
    """The customer's opening words: where people state why they got in touch."""
    for message in messages:
        if message.role is Role.CUSTOMER:
            useful = [s for s in sentences(message.text) if _substantive(s)]
            if useful:
                return _OPENER.sub("", " ".join(useful[:2]), count=1)
    return ""


def _pick_resolution(messages: Sequence[MessageRecord]) -> str:
    """The agent's last substantive words: usually where the contact landed."""
    for message in reversed(messages):
        if message.role is Role.AGENT:
            useful = [s for s in sentences(message.text) if _substantive(s)]
            if useful:
                return " ".join(useful[:2])
    return ""


_APOLOGY = re.compile(
    r"^(i'?m|i am|we'?re|we are)?\s*(so |very |really )?(sorry|apologi[sz]e)"
    r"|^es tut (mir|uns) leid",
    re.IGNORECASE,
)


def _pick_actions(agent: list[str], weights: Counter[str], limit: int = 2) -> list[str]:
    """The agent's most central sentences that do something (an apology is not an action)."""
    candidates = [_OPENER.sub("", s, count=1) for s in agent]
    candidates = [s if not _APOLOGY.match(s) else "" for s in candidates]
    ranked = _central(candidates, weights)
    chosen = sorted(index for _, index in ranked[:limit])
    return [candidates[i] for i in chosen]


def _sentiment(customer: list[str]) -> Sentiment:
    text = " ".join(customer)
    late = " ".join(customer[-2:])
    neg, pos = len(_NEGATIVE.findall(text)), len(_POSITIVE.findall(text))
    if neg and pos:
        return (
            Sentiment.POSITIVE
            if _POSITIVE.search(late) and not _NEGATIVE.search(late)
            else (Sentiment.MIXED)
        )
    if neg:
        return Sentiment.NEGATIVE
    return Sentiment.POSITIVE if pos else Sentiment.NEUTRAL


def _disposition(messages: Sequence[MessageRecord], open_items: list[str]) -> Disposition:
    agent_text = " ".join(m.text for m in messages if m.role is Role.AGENT)
    if _ESCALATE.search(agent_text):
        return Disposition.ESCALATED
    if _CALLBACK.search(agent_text):
        return Disposition.CALLBACK
    if open_items:
        return Disposition.FOLLOW_UP
    if _SOLVED.search(" ".join(m.text for m in messages[-3:])):
        return Disposition.RESOLVED
    last = messages[-1] if messages else None
    if last is not None and last.role is Role.CUSTOMER and "?" in last.text:
        return Disposition.UNRESOLVED
    return Disposition.INFORMATION


def _open_items(messages: Sequence[MessageRecord]) -> list[str]:
    items = [s for s in _by_role(messages, Role.AGENT)[-4:] if _PROMISE.search(s)]
    last = messages[-1] if messages else None
    if last is not None and last.role is Role.CUSTOMER:
        questions = [s for s in sentences(last.text) if s.endswith("?")]
        items += questions[-1:]
    return items[-2:]


def summarise_extractive(messages: Sequence[MessageRecord]) -> ContactSummary:
    """A structured summary made only of the contact's own sentences."""
    customer = _by_role(messages, Role.CUSTOMER)
    agent = _by_role(messages, Role.AGENT)
    weights = Counter(w for s in customer + agent for w in set(words(s)))
    reason = _pick_reason(messages)
    resolution = _pick_resolution(messages)
    actions = [a for a in _pick_actions(agent, weights) if a not in resolution]
    open_items = _open_items(messages)
    return ContactSummary(
        reason=reason[:600],
        actions=[a[:600] for a in actions],
        resolution=resolution[:600],
        open_items=[o[:600] for o in open_items],
        sentiment=_sentiment(customer),
        disposition=_disposition(messages, open_items),
        method=SummaryMethod.EXTRACTIVE,
    )
