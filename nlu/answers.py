"""Short answers during the conversation: yes/no, declining, asking for a person, contact
details, and picking one of a few options typed by hand.

Pure functions for Dutch and English chat text (chat-speak and emoji included). They give
the literal reading; the flow that asked the question decides what it means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from nlu.entities import find_place, normalise

__all__ = [
    "Contact",
    "ContactPreference",
    "invalid_phone_like",
    "is_decline",
    "normalise",
    "parse_choice",
    "parse_contact",
    "parse_yes_no",
    "wants_person",
]

ContactPreference = Literal["phone", "email"]


def _squeeze(text: str) -> str:
    """Normalise, and shorten letters repeated three or more times ("jaaaa" -> "jaa")."""
    return _REPEATS.sub(r"\1\1", normalise(text))


_REPEATS = re.compile(r"([a-z])\1{2,}")

# --------------------------------------------------------------------------- declining

_DECLINE = re.compile(
    r"\b(?:"
    r"(?:wil|hoef|ga)\s+ik\s+(?:liever\s+)?niet\s+(?:te\s+)?(?:zeggen|vertellen|delen|geven|noemen)"
    r"|(?:zeg|vertel|deel|geef|noem)\s+ik\s+(?:het\s+|dat\s+)?(?:liever\s+)?niet"
    r"|ik\s+(?:zeg|vertel|deel|geef|noem)\s+(?:het|dat|dit)\s+(?:liever\s+)?niet"
    r"|(?:dat|het)\s+(?:zeg|vertel|deel|geef)\s+ik\s+(?:liever\s+)?niet"
    r"|liever\s+niet"
    r"|geen\s+zin\s+om\s+(?:dat\s+|het\s+)?(?:te\s+)?(?:zeggen|vertellen|delen)"
    r"|gaat\s+(?:je|jou|jullie|u)\s+(?:niks|niets|geen\s+bal|geen\s+moer)\s+aan"
    r"|niet\s+(?:zeggen|vertellen|delen)"
    r"|(?:sla|slaan)\s+(?:\w+\s+)?over|overslaan|skip"
    r"|(?:i\s*d\s+|i\s+would\s+)?(?:prefer|rather)\s+not"
    r"|(?:don\s*t|do\s+not|dont)\s+want\s+to\s+(?:say|tell|share)"
    r"|(?:not\s+going\s+to|won\s*t|will\s+not)\s+(?:say|tell|share)"
    r"|none\s+of\s+your\s+business|no\s+comment"
    r")\b"
)


def is_decline(text: str) -> bool:
    """The parent does not want to answer ("wil ik niet zeggen", "liever niet",
    "gaat je niks aan", "prefer not to say")."""
    return bool(_DECLINE.search(_squeeze(text)))


# --------------------------------------------------------------------------- yes / no

_YES_EMOJI = ("👍", "✅", "👌", "☑", "✔", "🆗", "💯")
_NO_EMOJI = ("👎", "❌", "✖", "🚫", "⛔", "🙅")

_YES_FIRST = re.compile(
    r"^(?:ja+h?|jawel|jazeker|jaja|jep|jup|jip|jes|yes+|yep|yup|yeah?|ya|yas|ok+|oke+|okee|"
    r"okay|okey|oki|okido|okidoki|oukee|prima|goed|klopt|zeker|tuurlijk|natuurlijk|"
    r"uiteraard|akkoord|top|super|fijn|graag|correct|juist|precies|sure|fine|alright|absoluut|"
    r"certainly|definitely|absolutely|indeed|yessir|ofc|doe\s+maar|is\s+goed|"
    r"dat\s+is\s+goed|vind\s+ik\s+goed|dat\s+klopt|dat\s+mag|mag\s+wel|"
    r"of\s+course|all\s+right|that\s+s\s+fine|thats\s+fine|sounds\s+good|go\s+ahead)$"
)
_NO_FIRST = re.compile(r"^(?:nee+n?|ne|neuh|nah|nope|nop|no+|nay|nein|niet|nooit|never|liever)$")
_NEGATION_WORD = re.compile(r"^(?:niet|not|nie|nooit|never|geen)$")
_UNSURE = re.compile(
    r"\b(?:weet\s+(?:ik\s+)?(?:het\s+)?(?:nog\s+)?niet|weet\s+niet|weetniet|kweenie|kweetnie|"
    r"geen\s+idee|misschien|mss|twijfel\w*|dunno|idk|don\s*t\s+know|do\s+not\s+know|not\s+sure|"
    r"maybe|perhaps|no\s+idea)\b"
)
_POSITIVE_IDIOM = re.compile(
    r"\b(?:geen\s+(?:probleem|bezwaar|punt)|no\s+problem|not\s+a\s+problem|no\s+worries|"
    r"why\s+not|waarom\s+niet)\b"
)
_NEGATION = re.compile(r"\b(?:niet|geen|nee|neen|nooit|not|no|nope|never|don\s*t|didn\s*t)\b")
_YES_CUE = re.compile(
    r"\b(?:ja|yes|ok|oke|okay|goed|klopt|prima|geholpen|helpt|helped|helps|fine|akkoord|graag|"
    r"mag|zeker|sure|top|super|fijn|perfect|duidelijk|bedankt|dank|dankjewel|dankuwel|thanks|"
    r"thank|correct|juist|great|good|absoluut|natuurlijk|tuurlijk|helemaal)\b"
)


def _emoji_answer(text: str) -> bool | None:
    yes = any(emoji in text for emoji in _YES_EMOJI)
    no = any(emoji in text for emoji in _NO_EMOJI)
    return None if yes == no else yes


def parse_yes_no(text: str) -> bool | None:
    """True for yes ("ja", "oké", "klopt", "👍", "het heeft geholpen"), False for no ("nee hoor",
    "niet echt", "liever niet", "❌"), None when unsure or not an answer ("weet ik niet").

    The first word decides: "ja maar niet aan de gemeente" is True; the caller handles nuance.
    """
    norm = _squeeze(text)
    if not norm:
        return _emoji_answer(text)
    words = norm.split()
    if norm in ("k", "kk"):  # chat-speak "ok"; a leading "k" is usually "ik"
        return True
    for size in (4, 3, 2, 1):
        head = " ".join(words[:size])
        if len(words) >= size and _YES_FIRST.match(head):
            after = words[size] if len(words) > size else ""
            return not _NEGATION_WORD.match(after)
    if _NO_FIRST.match(words[0]):
        return False
    if _UNSURE.search(norm):
        return None
    if _POSITIVE_IDIOM.search(norm):
        return True
    if _NEGATION.search(norm):
        return False
    if _YES_CUE.search(norm):
        return True
    return _emoji_answer(text)


# --------------------------------------------------------------------------- asking for a person

_WANTS_PERSON = re.compile(
    r"\b(?:"
    r"(?:iemand|een\s+mens|een\s+persoon|een\s+medewerker|een\s+hulpverlener|een\s+echt\s+iemand)"
    r"(?:\s+\w+){0,3}\s+(?:spreken|praten|bellen|chatten|aan\s+de\s+lijn|contact)"
    r"|(?:spreken|praten|chatten|bellen)\s+(?:met\s+)?(?:iemand|een\s+mens|een\s+persoon|"
    r"een\s+medewerker|een\s+hulpverlener)"
    r"|(?:wil|wil\s+graag|zou\s+graag|liever|graag|kan\s+ik|mag\s+ik)\s+(?:\w+\s+)?"
    r"(?:een\s+mens|een\s+persoon|een\s+medewerker|een\s+echt\s+iemand)"
    r"|echte?\s+(?:persoon|mens|medewerker)|mens\s+van\s+vlees\s+en\s+bloed"
    r"|(?:loket)?medewerker|hulpverlener\s+spreken"
    r"|geen\s+(?:bot|robot|computer|chatbot)|niet\s+(?:met\s+)?(?:een\s+)?(?:bot|robot|computer|"
    r"chatbot)"
    r"|bel\s+(?:mij|me)|(?:kan|kunt|kun|wil|mag)\s+(?:iemand|u|jullie|je)\s+(?:mij|me)\s+"
    r"(?:\w+\s+)?(?:bellen|terugbellen|terug\s+bellen)|terug\s*bellen|teruggebeld"
    r"|call\s+me|(?:speak|talk|chat)\s+(?:to|with)\s+(?:someone|somebody|a\s+(?:real\s+)?"
    r"(?:person|human|staff\s+member)|an?\s+(?:agent|employee|human\s+being)|a\s+human)"
    r"|(?:real|actual|live)\s+(?:person|human|people|agent)|human\s+being|not\s+a\s+bot"
    r")\b"
)


def wants_person(text: str) -> bool:
    """The parent asks for a human ("kan ik iemand spreken", "ik wil een mens", "bel mij",
    "speak to someone", "a real person")."""
    return bool(_WANTS_PERSON.search(_squeeze(text)))


# --------------------------------------------------------------------------- contact details


@dataclass(frozen=True, slots=True)
class Contact:
    """Contact details found in one message; every field may be missing."""

    phone: str | None = None
    email: str | None = None
    prefers: ContactPreference | None = None
    name: str | None = None
    anonymous: bool = False


# phonenumbers.PhoneNumberType values a parent can be reached on (not 0800, 0900, 14 040).
_PERSONAL_NUMBER_TYPES = ("MOBILE", "FIXED_LINE", "FIXED_LINE_OR_MOBILE", "VOIP", "UAN",
                          "PERSONAL_NUMBER")  # fmt: skip
_NL_NATIONAL_DIGITS = 9
_EMAIL_CANDIDATE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_NEGATED_CHANNEL = re.compile(
    r"\b(?:niet|geen|not|don\s*t|dont|never|nooit|liever\s+niet)\s+(?:\w+\s+)?"
    r"(?:bellen|gebeld|bel|mailen|gemaild|mail|e\s?mail|e\s?mailen|call|calls|phone|email)\w*"
)
_PHONE_CUE = re.compile(
    r"\b(?:liever\s+gebeld|bel\s+(?:me|mij|maar)|bellen|gebeld|telefonisch|per\s+telefoon|"
    r"via\s+(?:de\s+)?telefoon|call\s+me|by\s+phone|phone\s+call|give\s+me\s+a\s+call|app\s+me|"
    r"whatsapp|whatsappen|appen|sms|sms\s+en)\b"
)
_EMAIL_CUE = re.compile(
    r"\b(?:liever\s+(?:ge)?maild?|liever\s+(?:e\s?)?mailen|mail\s+(?:me|mij)|mailen|e\s?mailen|"
    r"gemaild|per\s+(?:e\s?)?mail|via\s+(?:de\s+)?(?:e\s?)?mail|(?:e\s?)?mail\s+me|"
    r"by\s+e\s?mail|stuur\s+(?:me\s+|mij\s+)?(?:maar\s+)?een\s+(?:e\s?)?mail|"
    r"send\s+me\s+an\s+e\s?mail)\b"
)
_ANONYMOUS = re.compile(
    r"\b(?:anoniem|anonymous|anonym|anon|geen\s+naam|zonder\s+naam|no\s+name)\b"
)

_NAME = r"([^\W\d_][^\W\d_'\-]*(?:[-'][^\W\d_]+)*)"
_NAME_ANY_CASE = re.compile(
    r"(?i:\b(?:mijn\s+naam\s+is|m'?n\s+naam\s+is|ik\s+heet|naam\s*:|voornaam\s*:|"
    r"noem\s+(?:me|mij)\s+maar|noem\s+(?:me|mij)|my\s+name\s+is|my\s+name's|name\s*:|"
    r"you\s+can\s+call\s+me)\s+)" + _NAME
)
_NAME_NOEMEN = re.compile(
    r"(?i:\b(?:je|jij|u|jullie)\s+(?:kunt|kan|mag|mogen|kunnen)\s+(?:me|mij)\s+"
    r"(?:gewoon\s+|maar\s+)?)" + _NAME + r"(?i:\s+noemen)\b"
)
_NAME_CAPITALISED = re.compile(
    r"(?i:\b(?:ik\s+ben|i\s+am|i'm|im|hier\s+is|dit\s+is|this\s+is|met)\s+)" + _NAME
)
_NOT_NAMES = frozenset(
    {
        "ja", "nee", "ok", "oke", "okay", "oki", "hoi", "hallo", "hey", "hi", "hello", "doei",
        "dag", "bedankt", "dank", "dankjewel", "thanks", "anoniem", "anonymous", "prima", "goed",
        "top", "fijn", "graag", "sorry", "help", "hulp", "misschien", "liever", "niet", "geen",
        "niks", "niets", "iets", "alles", "moe", "bang", "ziek", "bezorgd", "ongerust", "blij",
        "verdrietig", "boos", "klaar", "zwanger", "thuis", "hier", "daar", "de", "het", "een",
        "die", "dat", "deze", "dit", "mijn", "mn", "onze", "ons", "je", "jij", "u", "uw", "mama",
        "papa", "moeder", "vader", "ouder", "ouders", "oma", "opa", "juf", "meester", "tante",
        "oom", "mevrouw", "meneer", "telefoon", "mail", "email", "bellen", "gebeld", "whatsapp",
        "sms", "jongen", "meisje", "zoon", "dochter", "kind", "baby", "yes", "no", "tired",
        "fine", "good", "sad", "afraid", "worried", "pregnant", "mom", "mum", "dad", "mother",
        "father", "parent", "the", "a", "an", "not", "so", "just", "here", "alleen",
        "alleenstaand", "benieuwd", "wanhopig", "op", "echt", "heel", "erg", "nog", "al", "bijna",
        "net", "weer", "ook", "even", "gewoon", "eigenlijk", "nu", "wel", "bereikbaar",
        "beschikbaar", "overdag", "savonds", "morgen", "vandaag", "straks", "bezig", "aan",
        "werk", "vrij", "single", "gescheiden", "getrouwd",
    }
)  # fmt: skip
_MAX_NAME_LENGTH = 40


def _clean_name(raw: str, need_capital: bool) -> str | None:
    name = raw.strip("-'")
    if not name or len(name) > _MAX_NAME_LENGTH or len(name) < 2:
        return None
    if need_capital and not name[0].isupper():
        return None
    if normalise(name) in _NOT_NAMES or find_place(f"in {name}") is not None:
        return None
    return name[0].upper() + name[1:]


# No valid number has fewer digits ("14 040", a municipality's). Most messages have fewer
# in all: then the number matcher, which costs about 0.1 ms even on "ja", is skipped.
_MIN_NUMBER_DIGITS = re.compile(r"(?:\D*\d){5}")


def _find_phone(text: str) -> tuple[str | None, list[tuple[int, int]]]:
    """The first valid Dutch personal number in E.164, and the spans of all valid numbers."""
    if _MIN_NUMBER_DIGITS.match(text) is None:
        return None, []
    import phonenumbers  # ~25 ms to import, so only when a message is read for contact details

    kinds = phonenumbers.PhoneNumberType
    personal_types = {getattr(kinds, name) for name in _PERSONAL_NUMBER_TYPES}
    found: str | None = None
    spans: list[tuple[int, int]] = []
    for match in phonenumbers.PhoneNumberMatcher(text, "NL", leniency=phonenumbers.Leniency.VALID):
        spans.append((match.start, match.end))
        number = match.number
        personal = phonenumbers.number_type(number) in personal_types
        # UAN also covers short municipal numbers such as 14 040; a parent's has 9 digits.
        full_length = len(str(number.national_number)) == _NL_NATIONAL_DIGITS
        if found is None and number.country_code == 31 and personal and full_length:
            found = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return found, spans


def _find_email(text: str) -> tuple[str | None, list[tuple[int, int]]]:
    from email_validator import EmailNotValidError, validate_email  # ~30 ms to import

    found: str | None = None
    spans: list[tuple[int, int]] = []
    for match in _EMAIL_CANDIDATE.finditer(text):
        spans.append(match.span())
        if found is not None:
            continue
        candidate = match.group().rstrip(".")
        try:
            found = validate_email(candidate, check_deliverability=False).normalized
        except EmailNotValidError:
            continue
    return found, spans


def has_contact_detail(text: str) -> bool:
    """The text holds a valid personal phone number or e-mail address (`parse_contact`'s)."""
    return _find_phone(text)[0] is not None or _find_email(text)[0] is not None


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _preference(norm: str) -> ContactPreference | None:
    norm = _NEGATED_CHANNEL.sub(" ", norm)
    phone = _PHONE_CUE.search(norm)
    email = _EMAIL_CUE.search(norm)
    if phone and email:
        return "phone" if phone.start() < email.start() else "email"
    if phone:
        return "phone"
    return "email" if email else None


_LONE_WORD_REST = re.compile(r"^[\s,.;:!?()\-]*([^\W\d_][\w'\-]*)[\s,.;:!?()\-]*$")


def _find_name(text: str) -> str | None:
    """A first name: "mijn naam is Sanne", "je kunt me Sanne noemen", "ik ben Sanne", or a
    lone capitalised word ("Sanne", "Sanne, 0612345678") that is not a known word or place."""
    for pattern, need_capital in (
        (_NAME_ANY_CASE, False),
        (_NAME_NOEMEN, False),
        (_NAME_CAPITALISED, True),
    ):
        for match in pattern.finditer(text):
            name = _clean_name(match.group(1), need_capital)
            if name:
                return name
    lone = _LONE_WORD_REST.match(text)
    return _clean_name(lone.group(1), need_capital=True) if lone else None


def parse_contact(text: str) -> Contact:
    """Contact details in one message: a Dutch phone number (E.164, e.g. "+31612345678"), an
    e-mail address (syntax checked), how the parent prefers to be reached, a first name, and
    whether they want to stay anonymous."""
    phone, phone_spans = _find_phone(text)
    email, email_spans = _find_email(text)
    rest = _blank(text, sorted(phone_spans + email_spans, reverse=True))
    norm = _squeeze(rest)
    anonymous = bool(_ANONYMOUS.search(norm))
    name = None if anonymous else _find_name(rest)
    return Contact(
        phone=phone,
        email=email,
        prefers=_preference(norm),
        name=name,
        anonymous=anonymous,
    )


_DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().\-/]*\d")
_DATE = re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})\b")
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
_MOBILE_STARTS = ("06", "+316", "00316", "+31 6", "0031 6", "+31(0)6", "+31 (0)6")


def invalid_phone_like(text: str) -> bool:
    """True when the text holds an attempt at a phone number that is not a valid Dutch number
    (8+ digits, or a 06 number of the wrong length), so the bot can ask again."""
    _, phone_spans = _find_phone(text)
    _, email_spans = _find_email(text)
    rest = _blank(text, sorted(phone_spans + email_spans, reverse=True))
    rest = _TIME.sub(" ", _DATE.sub(" ", rest))
    for match in _DIGIT_RUN.finditer(rest):
        run = match.group()
        digits = sum(char.isdigit() for char in run)
        if digits >= 8:
            return True
        if digits >= 4 and run.lstrip("(").startswith(_MOBILE_STARTS):
            return True
    return False


# --------------------------------------------------------------------------- choices

_NEGATED_BEFORE = re.compile(r"\b(?:niet|geen|not|no|nee|liever\s+niet)\s+(?:\w+\s+)?$")


def parse_choice(text: str, options: dict[str, list[str]]) -> str | None:
    """The key of ``options`` whose synonyms match ``text`` (case, accents and punctuation do
    not matter), e.g. ``parse_choice("Bellen graag", {"phone": ["bellen"], "email": ["mail"]})``
    -> "phone". A whole-text match wins; otherwise a synonym found in the text and not negated
    ("niet bellen"). A match inside a longer match of another option does not count ("ja maar"
    over "ja"). None when nothing matches or two options do."""
    raw = text.strip()
    norm = normalise(text)
    spans: list[tuple[str, int, int]] = []
    for key, synonyms in options.items():
        for synonym in (key, *synonyms):
            wanted = normalise(synonym)
            if raw == synonym.strip() or (wanted and norm == wanted):
                return key
            if not wanted:  # an emoji or symbol: look for it in the raw text
                if synonym.strip() and synonym.strip() in raw:
                    spans.append((key, -1, -1))
                continue
            for match in re.finditer(rf"(?<!\w){re.escape(wanted)}(?!\w)", norm):
                if not _NEGATED_BEFORE.search(norm[: match.start()]):
                    spans.append((key, match.start(), match.end()))
    kept = {
        key
        for key, start, end in spans
        if not any(
            other != key and o_start <= start and end <= o_end and (o_end - o_start) > end - start
            for other, o_start, o_end in spans
        )
    }
    return kept.pop() if len(kept) == 1 else None
