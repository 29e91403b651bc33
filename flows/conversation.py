"""The parent conversation: a sans-I/O state machine (PRODUCT.md "The conversation").

`handle(state, event, now, ctx)` returns the new state and the actions for the app.
It never reads the clock, the network or the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flows import intake
from flows.actions import (
    Action,
    Audit,
    Button,
    CreateHandover,
    EndConversation,
    ForgetParent,
    HandoverDetails,
    NotifyLoket,
    Register,
    Reply,
    UrgentFlag,
)
from flows.context import FlowContext
from flows.domain import LOKET, all_partner_ids, choose_partners, handover_type
from flows.events import (
    ConversationExpired,
    ParentCommand,
    ParentEvent,
    ParentText,
    ParentUnsupported,
)
from flows.promise import promise
from flows.registration import make_registration
from flows.state import INTAKE_STEPS, ConversationState, Question, Slot, Step
from nlu.answers import parse_yes_no, wants_person

if TYPE_CHECKING:
    from nlu.pipeline import NluResult

Result = tuple[ConversationState, list[Action]]

# How long the personal data of an unfinished conversation may wait for the parent.
SUMMARY_MAX_CHARS = 400
LANGUAGE_SWITCH_MIN_WORDS = 4


class _Turn:
    """Collects the replies and actions of one turn, in the parent's language."""

    def __init__(
        self,
        state: ConversationState,
        ctx: FlowContext,
        now: datetime,
        understood: Mapping[str, NluResult] | None = None,
    ) -> None:
        self.state = state
        self.ctx = ctx
        self.now = now
        self.actions: list[Action] = []
        self._understood: dict[str, NluResult] = dict(understood or {})

    def understand(self, text: str) -> NluResult:
        """The NLU's reading of `text`, once per text and turn."""
        if text not in self._understood:
            self._understood[text] = self.ctx.understand(text)
        return self._understood[text]

    @property
    def lang(self) -> str:
        return self.state.language

    def text(self, key: str, **params: object) -> str:
        return self.ctx.catalogue.get(key, self.lang, **params)

    def say(self, key: str, buttons: tuple[Button, ...] = (), **params: object) -> None:
        self.actions.append(Reply(self.text(key, **params), buttons))

    def say_text(self, text: str, buttons: tuple[Button, ...] = (), personal: bool = False) -> None:
        self.actions.append(Reply(text, buttons, personal))

    def button(self, key: str, value: str) -> Button:
        return Button(self.text(key), value)

    def yes_no(self, yes: str = "button_yes", no: str = "button_no") -> tuple[Button, ...]:
        return (self.button(yes, "yes"), self.button(no, "no"))

    def result(self) -> Result:
        self.state.last_activity = self.now
        return self.state, self.actions


def handle(
    state: ConversationState,
    event: ParentEvent,
    now: datetime,
    ctx: FlowContext,
    understood: Mapping[str, NluResult] | None = None,
    *,
    hand_over_state: bool = False,
) -> Result:
    """One step of the conversation. `understood`: NLU readings the caller already has.

    `state` is left untouched (the step works on a copy), unless the caller hands it over
    (`hand_over_state`: it was made for this step and is not used after it).
    """
    if not hand_over_state:
        state = ConversationState.model_validate(state.model_dump())
    turn = _Turn(state, ctx, now, understood)
    if isinstance(event, ConversationExpired):
        _expire(turn)
        return turn.result()
    if isinstance(event, ParentCommand):
        _command(turn, event)
        return turn.result()
    if isinstance(event, ParentUnsupported):
        turn.say("unsupported_input")
        _prompt(turn, repeat=True)
        return turn.result()
    _text(turn, event)
    return turn.result()


# --- text messages -------------------------------------------------------------


def to_understand(state: ConversationState, event: ParentEvent, ctx: FlowContext) -> str | None:
    """The text the next turn will ask the NLU about first, if any.

    None for commands, empty messages and plain answers (which only the crisis lexicon
    reads). Lets the app ask a remote NLU before it opens the database transaction.
    """
    if not isinstance(event, ParentText):
        return None
    text = message_text(event, ctx)
    if not text or (ctx.danger is not None and intake.is_plain_answer(state.step, text)):
        return None
    return text


def message_text(event: ParentText, ctx: FlowContext) -> str:
    """What a turn reads of a message: stripped, cut at the longest text it takes."""
    return event.text.strip()[: ctx.max_message_chars]


def _text(turn: _Turn, event: ParentText) -> None:
    state = turn.state
    text = message_text(event, turn.ctx)
    if not text and not event.button:
        turn.say("empty_message")
        _prompt(turn, repeat=True)
        return
    if len(event.text.strip()) > turn.ctx.max_message_chars:
        turn.say("too_long", limit=str(turn.ctx.max_message_chars))
    plain = bool(text) and intake.is_plain_answer(state.step, text)
    if plain and turn.ctx.danger is not None:
        # "Veldhoven", "9", "ja": the classifier has nothing to add (its crisis guess does
        # not count for a plain answer, and a few words never switch the language). The
        # crisis lexicon still reads every message.
        category = turn.ctx.danger(text)
        if category is not None:
            _crisis(turn, text, category)
            return
        result = None
    else:
        result = turn.understand(text) if text else None
    # A pressed button says nothing about the parent's language.
    if (
        event.button is None
        and result is not None
        and (len(text.split()) >= LANGUAGE_SWITCH_MIN_WORDS or state.step == Step.NEW)
    ):
        state.language = result.language
    # On a plain answer only the lexicon counts, not the classifier's guess.
    if result is not None and result.route == "crisis" and (result.crisis_category or not plain):
        _crisis(turn, text, result.crisis_category or "crisis")
        return
    if state.step == Step.NEW:
        turn.say("welcome", cjg_name=turn.ctx.cjg_name)
        state.step = Step.ASK
        if _is_greeting(result):
            turn.say("ask_question")
            return
    answer = event.button or text
    handler = _STEP_HANDLERS.get(state.step, _ask)
    handler(turn, answer, text)


def _is_greeting(result: object) -> bool:
    return getattr(result, "route", None) == "greet"


def _ask(turn: _Turn, answer: str, text: str) -> None:
    """A new question: route it."""
    state = turn.state
    _conclude_question(turn)
    result = turn.understand(text)
    if result.route == "greet":
        turn.say("greet_back")
        state.step = Step.ASK
        return
    state.question = Question(text=text)
    if result.route == "unclear":
        state.step = Step.CLARIFY
        turn.say("clarify_question")
        return
    _route(turn, result.route, result.topic, result.partner)


def _route(turn: _Turn, route: str, topic: str | None, partner: str | None) -> None:
    state = turn.state
    question = state.question
    assert question is not None
    question.route = route
    question.topic = topic
    question.partner_hint = partner
    intake.prefill(question)  # also feeds the anonymous age band, sex and place
    if route == "faq" and topic and turn.ctx.faq_answer(topic, turn.lang):
        turn.say_text(turn.ctx.faq_answer(topic, turn.lang) or "")
        turn.say("faq_helped_question", turn.yes_no())
        state.step = Step.HELPED
        state.tries = 0
        return
    if route == "out_of_scope":
        turn.say("out_of_scope")
        _conclude_question(turn)
        state.step = Step.ASK
        return
    if route not in ("partner", "all_partners"):
        question.route = "all_partners"
    _start_intake(turn)


def _clarify(turn: _Turn, answer: str, text: str) -> None:
    state = turn.state
    question = state.question or Question()
    result = turn.understand(text)
    combined = f"{question.text}\n{text}".strip()
    if result.route in ("unclear", "greet"):
        result = turn.understand(combined)
    question.text = combined
    state.question = question
    if result.route in ("unclear", "greet"):
        state.step = Step.OFFER_PERSON
        state.tries = 0
        turn.say("still_unclear", turn.yes_no())
        return
    _route(turn, result.route, result.topic, result.partner)


def _offer_person(turn: _Turn, answer: str, text: str) -> None:
    yes = _yes_no(answer)
    if yes is True or wants_person(text):
        assert turn.state.question is not None
        turn.state.question.route = "all_partners"
        _start_intake(turn)
    elif yes is False:
        turn.say("unclear_declined")
        _conclude_question(turn)
        turn.state.step = Step.ASK
    else:
        _ask(turn, answer, text)


def _helped(turn: _Turn, answer: str, text: str) -> None:
    state = turn.state
    yes = _yes_no(answer)
    if wants_person(text) or yes is False:
        turn.say("faq_to_person")
        assert state.question is not None
        state.question.route = "partner"
        _start_intake(turn)
        return
    if yes is True:
        turn.say("faq_helped_yes")
        _conclude_question(turn)
        state.step = Step.ASK
        return
    if len(text.split()) >= 3 or state.tries >= 1:
        _ask(turn, answer, text)  # a new question: the FAQ one counts as answered
        return
    state.tries += 1
    turn.say("faq_helped_question", turn.yes_no())


# --- intake: woonplaats, leeftijd, geslacht --------------------------------------


def _start_intake(turn: _Turn) -> None:
    question = turn.state.question
    assert question is not None
    intake.prefill(question)
    if not any(isinstance(a, Reply) and a.text == turn.text("faq_to_person") for a in turn.actions):
        turn.say("intake_intro")
    _next_intake_step(turn)


def _next_intake_step(turn: _Turn) -> None:
    question = turn.state.question
    assert question is not None
    turn.state.tries = 0
    if question.place_slot == Slot.OPEN:
        turn.state.step = Step.PLACE
    elif question.age_slot == Slot.OPEN:
        turn.state.step = Step.AGE
    elif question.sex_slot == Slot.OPEN and not question.age_unborn:
        turn.state.step = Step.SEX
    else:
        _disclose(turn)
        return
    _prompt(turn)


def _intake_answer(turn: _Turn, answer: str, text: str) -> None:
    state = turn.state
    question = state.question
    assert question is not None
    outcome = intake.apply_answer(question, state.step, answer)
    if outcome == intake.Outcome.OK:
        _next_intake_step(turn)
        return
    if outcome == intake.Outcome.EXTRA:
        question.text = f"{question.text}\n{text}"
        turn.say("noted_extra")
        _prompt(turn, repeat=True)
        return
    state.tries += 1
    if state.tries >= 2:
        intake.mark_unknown(question, state.step)
        turn.say("value_unknown")
        _next_intake_step(turn)
        return
    _prompt(turn, again=True)


# --- disclosure, contact, summary, handover --------------------------------------


def _disclose(turn: _Turn) -> None:
    state = turn.state
    question = state.question
    assert question is not None
    ctx = turn.ctx
    if question.route == "crisis":
        targets: tuple[str, ...] = (LOKET,)
    elif question.route == "all_partners":
        targets = all_partner_ids(ctx.partners)
    else:
        targets = choose_partners(
            ctx.partners,
            question.route,
            question.partner_hint,
            question.topic,
            question.age_years,
            question.age_unborn,
        )
    question.targets = list(targets)
    state.step = Step.DISCLOSE
    state.tries = 0
    _prompt(turn)


def _disclosure_text(turn: _Turn) -> str:
    question = turn.state.question
    assert question is not None
    targets = question.targets
    if targets == [LOKET]:
        return turn.text("disclosure_loket")
    if len(targets) > 1:
        names = [turn.ctx.partner_name(t, turn.lang) for t in targets]
        return turn.text(
            "disclosure_all", organisations=turn.ctx.catalogue.join_names(names, turn.lang)
        )
    partner = targets[0]
    note_key = f"external_note_{partner}"
    note = turn.text(note_key) if note_key in turn.ctx.catalogue.texts.get("nl", {}) else ""
    text = turn.text(
        "disclosure_partner",
        organisation=turn.ctx.partner_name(partner, turn.lang),
        external_note=note,
    )
    return re.sub(r"\n\s*\n", "\n", text)


def _disclose_answer(turn: _Turn, answer: str, text: str) -> None:
    state = turn.state
    question = state.question
    assert question is not None
    yes = _yes_no(answer)
    if yes is None:
        state.tries += 1
        if state.tries < 2:
            turn.say("disclosure_again", turn.yes_no("button_agree", "button_disagree"))
            return
        yes = False  # no clear yes: nothing is shared
    if not yes:
        turn.say("disagree")
        turn.actions.append(NotifyLoket("room_declined_note"))
        turn.actions.append(Audit("sharing_declined", "parent"))
        _conclude_question(turn, forwarded="niet_gedeeld")
        state.step = Step.ASK
        return
    state.step = Step.CONTACT
    state.tries = 0
    _prompt(turn)


def _contact_answer(turn: _Turn, answer: str, text: str) -> None:
    state = turn.state
    question = state.question
    assert question is not None
    outcome = intake.apply_contact(question, answer)
    if outcome == intake.Outcome.OK:
        state.tries = 0
        if question.name is None and not question.anonymous:
            state.step = Step.NAME
            _prompt(turn)
        else:
            _to_summary(turn)
        return
    if outcome == intake.Outcome.PARTIAL:  # only "liever gebeld": ask for the number
        _prompt(turn, repeat=True)
        return
    state.tries += 1
    if state.tries >= 2:
        question.contact_missing = True
        turn.say("contact_missing")
        _to_summary(turn)
        return
    _prompt(turn, again=True)


def _name_answer(turn: _Turn, answer: str, text: str) -> None:
    state = turn.state
    question = state.question
    assert question is not None
    if intake.apply_name(question, answer) or state.tries >= 1:
        if question.name is None:
            question.anonymous = True
        _to_summary(turn)
        return
    state.tries += 1
    _prompt(turn, again=True)


def _to_summary(turn: _Turn) -> None:
    question = turn.state.question
    assert question is not None
    if question.summary is None:
        question.summary = make_summary(question.text)
    turn.state.step = Step.SUMMARY
    turn.state.tries = 0
    _prompt(turn)


def make_summary(text: str) -> str:
    """A short summary of the question: the text itself, tidied and cut at a sentence end."""
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_MAX_CHARS:
        return flat
    cut = flat[:SUMMARY_MAX_CHARS]
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    return (cut[: end + 1] if end > SUMMARY_MAX_CHARS // 2 else cut.rstrip()) + " …"


def _summary_answer(turn: _Turn, answer: str, text: str) -> None:
    state = turn.state
    question = state.question
    assert question is not None
    yes = _yes_no(answer)
    if answer == "change" or yes is False:
        state.step = Step.SUMMARY_EDIT
        turn.say("summary_edit")
        return
    if yes is True or answer == "ok":
        _hand_over(turn)
        return
    if len(text.split()) >= 4:  # the parent typed a correction straight away
        question.summary = make_summary(text)
        _prompt(turn)
        return
    state.tries += 1
    if state.tries >= 2:
        _hand_over(turn)
        return
    _prompt(turn)


def _summary_edit(turn: _Turn, answer: str, text: str) -> None:
    question = turn.state.question
    assert question is not None
    if text:
        question.summary = make_summary(text)
    turn.state.step = Step.SUMMARY
    turn.state.tries = 0
    _prompt(turn)


def _hand_over(turn: _Turn) -> None:
    state = turn.state
    question = state.question
    assert question is not None
    ctx = turn.ctx
    promised, promised_by = promise(ctx.catalogue, ctx.office_hours, turn.now, turn.lang)
    details = HandoverDetails(
        summary=question.summary or make_summary(question.text),
        place=intake.describe_place(question, ctx.catalogue),
        age=intake.describe_age(question, ctx.catalogue),
        sex=intake.describe_sex(question, ctx.catalogue),
        contact=intake.describe_contact(question, ctx.catalogue),
        language=turn.lang,
        promise=render_promise(turn, lang="nl"),
    )
    targets = tuple(question.targets)
    urgent = question.urgent or question.route == "crisis"
    turn.actions.append(CreateHandover(targets, details, urgent, promised_by))
    if targets == (LOKET,):
        turn.say("handed_over_loket", promise=promised)
    else:
        names = [ctx.partner_name(t, turn.lang) for t in targets]
        turn.say(
            "handed_over",
            organisation=ctx.catalogue.join_names(names, turn.lang),
            promise=promised,
        )
    forwarded = "loket" if targets == (LOKET,) else (targets[0] if len(targets) == 1 else "alle")
    _conclude_question(turn, forwarded=forwarded, ended=False)
    state.step = Step.ASK


def render_promise(turn: _Turn, lang: str | None = None) -> str:
    """'maandag tussen 9 en 12 uur iets van ons' and the like, from office hours."""
    text, _ = promise(turn.ctx.catalogue, turn.ctx.office_hours, turn.now, lang or turn.lang)
    return text


# --- crisis ---------------------------------------------------------------------


def _crisis(turn: _Turn, text: str, category: str) -> None:
    """Emergency numbers at once, an urgent flag for the loket, then offer contact."""
    state = turn.state
    turn.say("crisis")
    question = state.question
    in_intake = question is not None and state.step in (
        *INTAKE_STEPS,
        Step.DISCLOSE,
        Step.CONTACT,
        Step.NAME,
        Step.SUMMARY,
        Step.SUMMARY_EDIT,
    )
    if question is None or not in_intake:
        _conclude_question(turn)
        question = Question(text=text)
        state.question = question
    else:
        question.text = f"{question.text}\n{text}"
    question.route = "crisis"
    question.urgent = True
    question.crisis_category = category
    turn.actions.append(UrgentFlag(category))
    turn.actions.append(Audit("urgent_flag", "system"))
    if not question.registered:
        _register(turn, question, forwarded="loket")
    state.step = Step.CRISIS_OFFER
    state.tries = 0
    turn.say("crisis_offer", turn.yes_no())


def _crisis_offer(turn: _Turn, answer: str, text: str) -> None:
    state = turn.state
    yes = _yes_no(answer)
    if yes is True or wants_person(text):
        _start_intake(turn)
        return
    if yes is False or state.tries >= 1:
        turn.say("crisis_declined")
        _conclude_question(turn)
        state.step = Step.ASK
        return
    state.tries += 1
    turn.say("crisis_offer", turn.yes_no())


# --- commands -------------------------------------------------------------------


def _command(turn: _Turn, event: ParentCommand) -> None:
    state = turn.state
    name = event.name
    if name == "start":
        if event.arg and state.source is None:
            state.source = _clean_source(event.arg)
        turn.say("welcome", cjg_name=turn.ctx.cjg_name)
        if state.step == Step.NEW:
            state.step = Step.ASK
        _prompt(turn, repeat=True)
    elif name == "help":
        turn.say("help")
        _prompt(turn, repeat=True, skip_ask=True)
    elif name == "privacy":
        note = (
            turn.text(f"privacy_channel_{turn.ctx.channel}")
            if turn.ctx.channel in ("telegram", "matrix")
            else ""
        )
        text = turn.text(
            "privacy",
            cjg_name=turn.ctx.cjg_name,
            responsible=turn.ctx.responsible,
            retention_days=str(turn.ctx.retention_days),
            channel_note=note,
        )
        turn.say_text(re.sub(r"\n\s*\n", "\n", text))  # no gap where a channel has no note
        _prompt(turn, repeat=True, skip_ask=True)
    elif name == "stop":
        _conclude_question(turn)
        if state.handovers:
            turn.say("stopped_after_handover", numbers=", ".join(map(str, state.handovers)))
        else:
            turn.say("stopped")
        turn.actions.append(EndConversation(purge_at=turn.now))
        state.step = Step.ASK
    elif name == "opnieuw":
        _conclude_question(turn)
        state.step = Step.ASK
        turn.say("restarted")
    elif name == "mijngegevens":
        _show_my_data(turn, event)
    elif name == "verzoek":
        if not state.handovers:
            turn.say("rights_no_handover")
            _prompt(turn, repeat=True, skip_ask=True)
            return
        if state.step != Step.RIGHTS_REQUEST:
            state.resume = state.step
        state.step = Step.RIGHTS_REQUEST
        _prompt(turn)
    elif name == "vergeet":
        if state.step != Step.FORGET_CONFIRM:
            state.resume = state.step
        state.step = Step.FORGET_CONFIRM
        turn.say("forget_confirm", turn.yes_no())


def _clean_source(arg: str) -> str | None:
    """A deep-link source tag ('schoolposter'): letters, digits, _ and -, at most 32."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "", arg)[:32]
    return cleaned or None


def _forget_answer(turn: _Turn, answer: str, text: str) -> None:
    state = turn.state
    yes = _yes_no(answer)
    if yes is True:
        _conclude_question(turn, ended=False)
        turn.actions.append(ForgetParent())
        turn.actions.append(Audit("parent_forget", "parent"))
        language = state.language
        turn.state = ConversationState(step=Step.ASK, language=language)
        turn.say("forget_done")
        return
    state.step = state.resume or Step.ASK
    state.resume = None
    turn.say("forget_cancelled")
    _prompt(turn, repeat=True, skip_ask=True)


RIGHTS_KINDS = ("correct", "object", "other")


def _rights_answer(turn: _Turn, answer: str, text: str) -> None:
    """Pass a correction or objection to the loket: kind and handover numbers, no content."""
    state = turn.state
    kind = answer if answer in RIGHTS_KINDS else None
    if kind is None:
        lowered = text.lower()
        if any(w in lowered for w in ("verbeter", "klopt niet", "fout", "correct", "wrong")):
            kind = "correct"
        elif any(w in lowered for w in ("bezwaar", "object", "niet eens")):
            kind = "object"
        elif text:
            kind = "other"
    if kind is None:
        _prompt(turn)
        return
    numbers = ", ".join(map(str, state.handovers))
    label = turn.ctx.catalogue.get(f"room_rights_kind_{kind}", "nl")
    turn.actions.append(NotifyLoket("room_rights_request", {"kind": label, "numbers": numbers}))
    turn.actions.extend(Audit("rights_request", "parent", None, n) for n in state.handovers)
    turn.say("rights_passed_on", promise=render_promise(turn))
    state.step = state.resume or Step.ASK
    state.resume = None


def _show_my_data(turn: _Turn, event: ParentCommand) -> None:
    from flows.my_data import render_my_data

    turn.say_text(render_my_data(turn.state, event, turn.ctx, turn.lang), personal=True)
    _prompt(turn, repeat=True, skip_ask=True)


# --- endings and registration -----------------------------------------------------


def _expire(turn: _Turn) -> None:
    _conclude_question(turn)
    turn.state.step = Step.ASK


def _conclude_question(turn: _Turn, forwarded: str | None = None, ended: bool = True) -> None:
    """Finish the question in hand: register it once and drop its personal data."""
    state = turn.state
    question = state.question
    if question is None:
        return
    if not question.registered and question.text:
        if forwarded is None and question.route in ("partner", "all_partners"):
            forwarded = "niet_doorgezet"
        _register(turn, question, forwarded)
    state.question = None
    state.tries = 0
    if ended:
        days = turn.ctx.retention_days
        turn.actions.append(EndConversation(purge_at=turn.now + timedelta(days=days)))


def _register(turn: _Turn, question: Question, forwarded: str | None) -> None:
    targets = tuple(question.targets)
    if question.route == "faq":
        kind = "1"
    elif question.route == "crisis":
        kind = "crisis"
    elif question.route == "out_of_scope":
        kind = "out_of_scope"
    elif targets:
        kind = handover_type(targets)
    else:
        kind = "3" if question.route == "all_partners" else "2"
    registration = make_registration(
        question, kind, forwarded, turn.now, turn.ctx.channel, turn.state.source
    )
    turn.actions.append(Register(registration))
    question.registered = True


# --- prompts --------------------------------------------------------------------


def _prompt(turn: _Turn, repeat: bool = False, again: bool = False, skip_ask: bool = False) -> None:
    """Ask what the current step needs (again)."""
    state = turn.state
    step = state.step
    question = state.question
    if step in (Step.NEW, Step.ASK):
        if not skip_ask:
            turn.say("ask_question")
    elif step == Step.CLARIFY:
        turn.say("clarify_question")
    elif step == Step.OFFER_PERSON:
        turn.say("still_unclear", turn.yes_no())
    elif step == Step.HELPED:
        turn.say("faq_helped_question", turn.yes_no())
    elif step == Step.PLACE:
        turn.say(
            "ask_place_again" if again else "ask_place", (turn.button("button_decline", "decline"),)
        )
    elif step == Step.AGE:
        turn.say(
            "ask_age_again" if again else "ask_age", (turn.button("button_decline", "decline"),)
        )
    elif step == Step.SEX:
        buttons = (
            turn.button("button_boy", "jongen"),
            turn.button("button_girl", "meisje"),
            turn.button("button_other", "anders"),
            turn.button("button_decline", "decline"),
        )
        turn.say("ask_sex_again" if again else "ask_sex", buttons)
    elif step == Step.DISCLOSE:
        turn.say_text(_disclosure_text(turn), turn.yes_no("button_agree", "button_disagree"))
    elif step == Step.CONTACT:
        assert question is not None
        if again:
            turn.say("ask_contact_again")
        elif question.targets == [LOKET]:
            turn.say("ask_contact_loket")
        else:
            targets = question.targets
            org = (
                turn.ctx.partner_name(targets[0], turn.lang)
                if len(targets) == 1
                else turn.text("partner_that_claims")
            )
            turn.say("ask_contact", organisation=org)
    elif step == Step.NAME:
        turn.say("ask_name")
    elif step == Step.SUMMARY:
        assert question is not None
        buttons = (
            turn.button("button_summary_ok", "ok"),
            turn.button("button_summary_change", "change"),
        )
        turn.actions.append(
            Reply(
                turn.text("summary_check", summary=question.summary or ""), buttons, personal=True
            )
        )
    elif step == Step.SUMMARY_EDIT:
        turn.say("summary_edit")
    elif step == Step.CRISIS_OFFER:
        turn.say("crisis_offer", turn.yes_no())
    elif step == Step.FORGET_CONFIRM:
        turn.say("forget_confirm", turn.yes_no())
    elif step == Step.RIGHTS_REQUEST:
        buttons = tuple(turn.button(f"button_rights_{kind}", kind) for kind in RIGHTS_KINDS)
        turn.say("rights_ask", buttons)


def _yes_no(answer: str) -> bool | None:
    if answer in ("yes", "ok"):
        return True
    if answer == "no":
        return False
    return parse_yes_no(answer)


_STEP_HANDLERS = {
    Step.ASK: _ask,
    Step.CLARIFY: _clarify,
    Step.OFFER_PERSON: _offer_person,
    Step.HELPED: _helped,
    Step.PLACE: _intake_answer,
    Step.AGE: _intake_answer,
    Step.SEX: _intake_answer,
    Step.DISCLOSE: _disclose_answer,
    Step.CONTACT: _contact_answer,
    Step.NAME: _name_answer,
    Step.SUMMARY: _summary_answer,
    Step.SUMMARY_EDIT: _summary_edit,
    Step.CRISIS_OFFER: _crisis_offer,
    Step.FORGET_CONFIRM: _forget_answer,
    Step.RIGHTS_REQUEST: _rights_answer,
}
