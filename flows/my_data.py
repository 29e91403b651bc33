"""/mijngegevens: everything the bot holds about this parent, in plain words."""

from __future__ import annotations

from flows import intake
from flows.context import FlowContext
from flows.events import ParentCommand
from flows.state import ConversationState, Slot


def render_my_data(
    state: ConversationState, event: ParentCommand, ctx: FlowContext, lang: str
) -> str:
    cat = ctx.catalogue
    lines: list[str] = []
    question = state.question
    if question is not None and question.text:
        lines.append(cat.get("my_data_question", lang, question=_short(question.text)))
        if question.place_slot != Slot.OPEN:
            lines.append(
                cat.get("my_data_place", lang, value=intake.describe_place(question, cat, lang))
            )
        if question.age_slot != Slot.OPEN:
            lines.append(
                cat.get("my_data_age", lang, value=intake.describe_age(question, cat, lang))
            )
        if question.sex_slot != Slot.OPEN:
            lines.append(
                cat.get("my_data_sex", lang, value=intake.describe_sex(question, cat, lang))
            )
        if question.phone or question.email:
            lines.append(
                cat.get("my_data_contact", lang, value=intake.describe_contact(question, cat, lang))
            )
        elif question.name:
            lines.append(cat.get("my_data_name", lang, value=question.name))
    for view in event.handovers:
        status = cat.get(f"status_{view.status}", lang)
        if view.purge_at is not None:
            deadline = f"{view.purge_at.day} {cat.raw('months', lang)[view.purge_at.month - 1]}"
            lines.append(
                cat.get(
                    "my_data_handover",
                    lang,
                    number=str(view.number),
                    status=status,
                    deadline=deadline,
                )
            )
        else:
            lines.append(
                cat.get("my_data_handover_open", lang, number=str(view.number), status=status)
            )
        for key, value in (("my_data_question", view.summary), ("my_data_contact", view.contact)):
            if value:
                lines.append("  " + cat.get(key, lang, question=value, value=value))
    if not lines:
        return cat.get("my_data_none", lang)
    return "\n".join([cat.get("my_data_header", lang), *lines, cat.get("my_data_footer", lang)])


def _short(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + " …"
