"""The handover workflow (PRODUCT.md "Handover, claiming, ownership"): sans-I/O.

created -> offered -> claimed -> (released -> offered again) -> closed.
`handle(state, details, event, now, ctx)` returns the new state and the actions.
Until a partner claims, the loket owns the question and no deletion clock runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.actions import (
    Action,
    Audit,
    CommandReply,
    HandoverDetails,
    NotifyParent,
    RemoveCopies,
    RoomPost,
    SetPurgeDeadline,
)
from flows.context import FlowContext
from flows.domain import LOKET, all_partner_ids
from flows.events import (
    Claim,
    Close,
    Escalate,
    Forget,
    HandoverEvent,
    Offer,
    Release,
    Reroute,
    Tick,
)
from flows.promise import promise
from flows.state import OPEN_STATUSES, HandoverState, HandoverStatus

Result = tuple[HandoverState, list[Action]]
CLOSE_REASONS = ("handled", "casusoverleg", "klantmanager")


def handle(
    state: HandoverState,
    details: HandoverDetails | None,
    event: HandoverEvent,
    now: datetime,
    ctx: FlowContext,
) -> Result:
    state = HandoverState.model_validate(state.model_dump())  # a copy: input untouched
    flow = _Flow(state, details, now, ctx)
    if isinstance(event, Offer):
        flow.offer()
    elif isinstance(event, Claim):
        flow.claim(event)
    elif isinstance(event, Release):
        flow.release(event)
    elif isinstance(event, Reroute):
        flow.reroute(event)
    elif isinstance(event, Close):
        flow.close(event)
    elif isinstance(event, Tick):
        flow.tick()
    elif isinstance(event, Forget):
        flow.forget()
    elif isinstance(event, Escalate):
        flow.escalate(event)
    return flow.state, flow.actions


class _Flow:
    def __init__(
        self,
        state: HandoverState,
        details: HandoverDetails | None,
        now: datetime,
        ctx: FlowContext,
    ) -> None:
        self.state = state
        self.details = details
        self.now = now
        self.ctx = ctx
        self.actions: list[Action] = []

    # --- helpers ---

    def text(self, key: str, **params: object) -> str:
        return self.ctx.catalogue.get(key, "nl", **params)

    def post(
        self,
        room: str,
        key: str,
        kind: str = "status",
        personal: bool = False,
        attention: bool = False,
        **params: object,
    ) -> None:
        text = self.text(key, number=self.state.number, **params)
        self.actions.append(RoomPost(room, text, kind, self.state.number, personal, attention))

    def audit(self, event: str, role: str, organisation: str | None = None) -> None:
        self.actions.append(Audit(event, role, organisation, self.state.number))

    def reply(self, key: str, **params: object) -> None:
        self.actions.append(CommandReply(self.text(key, number=self.state.number, **params)))

    def names(self, targets: list[str]) -> str:
        return self.ctx.catalogue.join_names([self.ctx.partner_name(t) for t in targets])

    def route_label(self) -> str:
        targets = self.state.targets
        if targets == [LOKET]:
            return self.text("room_route_crisis")
        return self.text("room_route_partner" if len(targets) == 1 else "room_route_all")

    def purge_deadline(self) -> datetime:
        days = min(self.ctx.retention_days, 28)
        return self.now + timedelta(days=days)

    def time_label(self) -> str:
        local = self.now.astimezone(self.ctx.office_hours.tz)
        months = self.ctx.catalogue.raw("months", "nl")
        return f"{local.day} {months[local.month - 1]} {local:%H:%M}"

    # --- transitions ---

    def offer(self) -> None:
        state = self.state
        if state.status not in (HandoverStatus.CREATED, HandoverStatus.RELEASED):
            return
        state.status = HandoverStatus.OFFERED
        state.waiting_since = self.now
        state.reminders_sent = 0
        self._post_handover()
        self.audit("handover_offered", "system")

    def _post_handover(self) -> None:
        state, details = self.state, self.details
        if details is None:
            return
        single = len(state.targets) == 1
        urgent = self.text("room_urgent") if state.urgent else ""
        for room in state.targets:
            contact_line = (
                self.text("room_handover_contact", contact=details.contact)
                if single
                else self.text("room_contact_hidden")
            )
            body = self.text(
                "room_handover",
                number=state.number,
                route_label=self.route_label(),
                urgent=urgent,
                organisations=self.names(state.targets),
                age=details.age,
                sex=details.sex,
                place=details.place,
                summary=details.summary,
                promise=details.promise,
                claim_hint=self.text("room_claim_hint", number=state.number),
            )
            text = f"{body}\n{contact_line}"
            self.actions.append(RoomPost(room, text, "handover", state.number, personal=True))
        if state.targets != [LOKET]:
            # The loket owns the question until a claim: it sees that it exists, not its content.
            self.post(
                LOKET,
                "room_open_line",
                route_label=self.route_label(),
                organisations=self.names(state.targets),
                since=self.time_label(),
                urgent=urgent,
            )

    def claim(self, event: Claim) -> None:
        state, staff = self.state, event.staff
        if state.status == HandoverStatus.CLOSED:
            self.reply("room_claim_rejected_closed")
            self.audit("claim_refused_closed", "partner", staff.organisation)
            return
        if state.status == HandoverStatus.CLAIMED:
            self.reply(
                "room_claim_rejected_taken",
                organisation=self.ctx.partner_name(state.claimed_org or LOKET),
            )
            self.audit("claim_refused_taken", "partner", staff.organisation)
            return
        if staff.organisation not in state.targets or state.status != HandoverStatus.OFFERED:
            self.reply(
                "room_claim_rejected_not_offered",
                organisation=self.ctx.partner_name(staff.organisation),
            )
            self.audit("claim_refused_not_offered", "partner", staff.organisation)
            return
        state.status = HandoverStatus.CLAIMED
        state.claimed_at = self.now
        state.claimed_org = staff.organisation
        state.claimed_name = staff.name
        state.waiting_since = None
        organisation = self.ctx.partner_name(staff.organisation)
        claimed_text = dict(name=staff.name, organisation=organisation, time=self.time_label())
        self.post(staff.organisation, "room_claimed", **claimed_text)
        others = tuple(t for t in state.targets if t != staff.organisation)
        for room in others:
            self.post(room, "room_claimed_elsewhere", organisation=organisation)
        if others:
            self.actions.append(RemoveCopies(state.number, others))
        if len(state.targets) > 1 and self.details is not None:
            self.post(
                staff.organisation,
                "room_contact_after_claim",
                kind="contact",
                personal=True,
                contact=self.details.contact,
            )
        if staff.organisation != LOKET:
            self.post(LOKET, "room_claimed", **claimed_text)
        deadline = self.purge_deadline()
        state.purge_at = deadline
        self.actions.append(SetPurgeDeadline(state.number, deadline))
        self.audit("handover_claimed", "partner", staff.organisation)

    def release(self, event: Release) -> None:
        state, staff = self.state, event.staff
        if state.status != HandoverStatus.CLAIMED or staff.organisation != state.claimed_org:
            self.reply("room_not_allowed")
            self.audit("release_refused", "partner", staff.organisation)
            return
        state.status = HandoverStatus.RELEASED
        state.waiting_since = self.now
        state.reminders_sent = 0
        state.escalated = None
        state.claimed_org = state.claimed_name = None
        state.claimed_at = None
        state.purge_at = None
        self.actions.append(SetPurgeDeadline(state.number, None))
        self.actions.append(RemoveCopies(state.number, (staff.organisation,)))
        self.post(staff.organisation, "room_released_partner")
        self.post(
            LOKET,
            "room_released",
            attention=True,
            organisation=self.ctx.partner_name(staff.organisation),
        )
        self.audit("handover_released", "partner", staff.organisation)

    def reroute(self, event: Reroute) -> None:
        state = self.state
        if state.status not in OPEN_STATUSES:
            key = (
                "room_claim_rejected_closed"
                if state.status == HandoverStatus.CLOSED
                else "room_claim_rejected_taken"
            )
            self.reply(key, organisation=self.ctx.partner_name(state.claimed_org or LOKET))
            self.audit("reroute_refused", "loket", event.staff.organisation)
            return
        old = tuple(t for t in state.targets if t != LOKET)
        if old and state.status == HandoverStatus.OFFERED:
            self.actions.append(RemoveCopies(state.number, old))
        if event.partner is None:
            state.targets = list(all_partner_ids(self.ctx.partners))
        else:
            state.targets = [event.partner]
        state.status = HandoverStatus.RELEASED
        self.offer()
        self.post(LOKET, "room_rerouted", organisations=self.names(state.targets))
        self.audit("handover_rerouted", "loket", event.staff.organisation)

    def close(self, event: Close) -> None:
        state = self.state
        if state.status == HandoverStatus.CLOSED:
            self.reply("room_claim_rejected_closed")
            return
        unclaimed_rooms = tuple(t for t in state.targets if t != state.claimed_org)
        if unclaimed_rooms:
            self.actions.append(RemoveCopies(state.number, unclaimed_rooms))
        state.status = HandoverStatus.CLOSED
        state.closed_reason = event.reason
        state.waiting_since = None
        deadline = self.purge_deadline()
        state.purge_at = deadline
        self.actions.append(SetPurgeDeadline(state.number, deadline))
        reason = self.text(f"room_close_reason_{event.reason}")
        self.post(LOKET, "room_closed", reason=reason)
        self.audit(f"handover_closed_{event.reason}", "loket", event.staff.organisation)

    def tick(self) -> None:
        """Reminders for unclaimed handovers, counted in staffed (working) hours."""
        state = self.state
        if state.status not in OPEN_STATUSES:
            return
        self._keep_promise()
        if state.waiting_since is None or state.escalated:
            return
        every = self.ctx.reminder_after_working_hours
        waited = self.ctx.office_hours.working_hours_between(state.waiting_since, self.now)
        due = int(waited // every) if every > 0 else 0
        if due <= state.reminders_sent:
            return
        state.reminders_sent = due
        since = self.ctx.catalogue.get("room_since", "nl", time=self._label(state.waiting_since))
        if due == 1 and state.targets != [LOKET]:
            for room in state.targets:
                self.post(room, "room_reminder", kind="reminder", since=since)
            self.audit("reminder_partner", "system")
        else:
            self.post(
                LOKET,
                "room_reminder_loket",
                kind="reminder",
                attention=True,
                hours=str(round(waited)),
            )
            self.audit("reminder_loket", "system")

    def _keep_promise(self) -> None:
        """A promise that can no longer be kept is replaced, and the parent is told."""
        state, details = self.state, self.details
        if state.promised_by is None or details is None or self.now <= state.promised_by:
            return
        text, closes = promise(
            self.ctx.catalogue, self.ctx.office_hours, self.now, details.language
        )
        state.promised_by = closes
        self.actions.append(NotifyParent(state.number, "promise_updated", {"promise": text}))
        self.audit("promise_updated", "system")

    def escalate(self, event: Escalate) -> None:
        """The loket brings an unclaimed question to the casusoverleg: the form text, once."""
        state, details = self.state, self.details
        if state.status not in OPEN_STATUSES or details is None:
            self.reply(
                "room_claim_rejected_closed"
                if state.status == HandoverStatus.CLOSED
                else "room_claim_rejected_taken",
                organisation=self.ctx.partner_name(state.claimed_org or LOKET),
            )
            return
        state.escalated = "casusoverleg"
        self.post(
            LOKET,
            "room_casusoverleg_form",
            kind="form",
            personal=True,
            created=self._label(state.created_at),
            route_label=self.route_label(),
            organisations=self.names(state.targets),
            age=details.age,
            sex=details.sex,
            place=details.place,
            summary=details.summary,
            since=self._label(state.waiting_since or state.created_at),
        )
        self.audit("handover_to_casusoverleg", "loket", event.staff.organisation)

    def _label(self, moment: datetime) -> str:
        local = moment.astimezone(self.ctx.office_hours.tz)
        months = self.ctx.catalogue.raw("months", "nl")
        return f"{local.day} {months[local.month - 1]} {local:%H:%M}"

    def forget(self) -> None:
        """The parent asked to delete: remove every copy, tell the rooms (no content)."""
        state = self.state
        rooms = tuple(dict.fromkeys([*state.targets, LOKET]))
        self.actions.append(
            RemoveCopies(state.number, rooms, ("handover", "contact", "status", "form"))
        )
        notify = (
            [state.claimed_org] if state.claimed_org else [t for t in state.targets if t != LOKET]
        )
        for room in [*notify, LOKET]:
            self.post(room, "room_forget_note", kind="note")
        state.status = HandoverStatus.CLOSED
        state.closed_reason = "forgotten"
        state.forgotten = True
        state.waiting_since = None
        state.purge_at = self.now
        self.actions.append(SetPurgeDeadline(state.number, self.now))
        self.audit("handover_forgotten", "parent")
