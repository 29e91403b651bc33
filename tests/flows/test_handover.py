"""The handover workflow: offer, claim, release, re-route, close, reminders. Pure and fast."""

from __future__ import annotations

from datetime import timedelta

from flows import handover
from flows.actions import (
    Audit,
    CommandReply,
    RemoveCopies,
    RoomPost,
    SetPurgeDeadline,
)
from flows.context import FlowContext
from flows.events import Claim, Close, Forget, Offer, Release, Reroute, Staff, Tick
from flows.state import HandoverState, HandoverStatus
from support.flows import DETAILS, at

FIVE = ["zuidzorg", "ggd", "lumens", "cordaad", "mee"]
MONDAY_10 = at("2026-11-30 10:00")


def staff(org: str, name: str = "Eva") -> Staff:
    return Staff(name=name, organisation=org, staff_id=f"id-{org}-{name}")


def offered(ctx: FlowContext, targets: list[str]) -> HandoverState:
    state = HandoverState(number=7, targets=targets, created_at=MONDAY_10)
    state, _ = handover.handle(state, DETAILS, Offer(), MONDAY_10, ctx)
    return state


def posts(actions: list, room: str | None = None) -> list[RoomPost]:
    return [a for a in actions if isinstance(a, RoomPost) and (room is None or a.room == room)]


def test_type_2_offer_posts_question_and_contact_in_the_one_room(ctx: FlowContext) -> None:
    state = HandoverState(number=7, targets=["lumens"], created_at=MONDAY_10)
    state, actions = handover.handle(state, DETAILS, Offer(), MONDAY_10, ctx)
    assert state.status == HandoverStatus.OFFERED
    [post] = posts(actions, "lumens")
    assert "nr. 7" in post.text and "gepest" in post.text and "+31612345678" in post.text
    assert "9 jaar" in post.text and "Veldhoven" in post.text and "maandag" in post.text
    [loket] = posts(actions, "loket")
    assert "gepest" not in loket.text and "+3161" not in loket.text
    assert state.purge_at is None  # nobody owns it yet: no clock runs


def test_type_3_rooms_see_no_contact_details_until_a_claim(ctx: FlowContext) -> None:
    state = HandoverState(number=7, targets=FIVE, created_at=MONDAY_10)
    state, actions = handover.handle(state, DETAILS, Offer(), MONDAY_10, ctx)
    assert {p.room for p in posts(actions)} == {*FIVE, "loket"}
    assert not any("+31612345678" in p.text for p in posts(actions))
    later = MONDAY_10 + timedelta(minutes=5)
    state, actions = handover.handle(state, DETAILS, Claim(staff("ggd")), later, ctx)
    contact_posts = [p for p in posts(actions) if "+31612345678" in p.text]
    assert [p.room for p in contact_posts] == ["ggd"]
    [remove] = [a for a in actions if isinstance(a, RemoveCopies)]
    assert set(remove.rooms) == set(FIVE) - {"ggd"}
    for room in set(FIVE) - {"ggd"}:
        assert any("opgepakt door GGD" in p.text for p in posts(actions, room))


def test_the_first_valid_claim_wins(ctx: FlowContext) -> None:
    state = offered(ctx, FIVE)
    state, _ = handover.handle(state, DETAILS, Claim(staff("lumens", "Eva")), MONDAY_10, ctx)
    state2, actions = handover.handle(state, DETAILS, Claim(staff("mee", "Piet")), MONDAY_10, ctx)
    assert state2.claimed_org == "lumens" and state2.claimed_name == "Eva"
    [reply] = [a for a in actions if isinstance(a, CommandReply)]
    assert "al opgepakt door Lumens" in reply.text
    assert any(a.event == "claim_refused_taken" for a in actions if isinstance(a, Audit))


def test_a_claim_marks_who_which_organisation_and_when(ctx: FlowContext) -> None:
    state = offered(ctx, ["lumens"])
    state, actions = handover.handle(state, DETAILS, Claim(staff("lumens", "Eva")), MONDAY_10, ctx)
    [post] = [p for p in posts(actions, "lumens") if "opgepakt" in p.text]
    assert "Eva" in post.text and "Lumens" in post.text and "10:00" in post.text


def test_a_claim_starts_the_deletion_clock_of_at_most_28_days(ctx: FlowContext) -> None:
    state = offered(ctx, ["lumens"])
    state, actions = handover.handle(state, DETAILS, Claim(staff("lumens")), MONDAY_10, ctx)
    [deadline] = [a for a in actions if isinstance(a, SetPurgeDeadline)]
    assert deadline.at == MONDAY_10 + timedelta(days=28) == state.purge_at


def test_a_partner_that_was_not_offered_cannot_claim(ctx: FlowContext) -> None:
    state = offered(ctx, ["lumens"])
    state2, actions = handover.handle(state, DETAILS, Claim(staff("ggd")), MONDAY_10, ctx)
    assert state2.status == HandoverStatus.OFFERED
    assert any(isinstance(a, CommandReply) for a in actions)


def test_release_gives_it_back_to_the_loket_and_resets_the_clock(ctx: FlowContext) -> None:
    state = offered(ctx, ["lumens"])
    state, _ = handover.handle(state, DETAILS, Claim(staff("lumens")), MONDAY_10, ctx)
    state, actions = handover.handle(state, DETAILS, Release(staff("lumens")), MONDAY_10, ctx)
    assert state.status == HandoverStatus.RELEASED and state.purge_at is None
    assert SetPurgeDeadline(7, None) in actions
    assert any("teruggegeven" in p.text for p in posts(actions, "loket"))
    # Only the claiming organisation can release.
    state = offered(ctx, ["lumens"])
    state, _ = handover.handle(state, DETAILS, Claim(staff("lumens")), MONDAY_10, ctx)
    state, actions = handover.handle(state, DETAILS, Release(staff("ggd")), MONDAY_10, ctx)
    assert state.status == HandoverStatus.CLAIMED


def test_the_loket_reroutes_to_one_partner_or_to_all(ctx: FlowContext) -> None:
    state = offered(ctx, ["lumens"])
    state, _ = handover.handle(state, DETAILS, Claim(staff("lumens")), MONDAY_10, ctx)
    state, _ = handover.handle(state, DETAILS, Release(staff("lumens")), MONDAY_10, ctx)
    state, actions = handover.handle(state, DETAILS, Reroute(staff("loket"), "ggd"), MONDAY_10, ctx)
    assert state.targets == ["ggd"] and state.status == HandoverStatus.OFFERED
    assert posts(actions, "ggd")
    state, actions = handover.handle(state, DETAILS, Reroute(staff("loket"), None), MONDAY_10, ctx)
    assert state.targets == FIVE
    assert "gemeente" not in state.targets


def test_close_starts_the_clock_and_removes_unclaimed_copies(ctx: FlowContext) -> None:
    state = offered(ctx, FIVE)
    state, actions = handover.handle(
        state, DETAILS, Close(staff("loket"), "casusoverleg"), MONDAY_10, ctx
    )
    assert state.status == HandoverStatus.CLOSED
    assert state.purge_at == MONDAY_10 + timedelta(days=28)
    [remove] = [a for a in actions if isinstance(a, RemoveCopies)]
    assert set(remove.rooms) == set(FIVE)
    assert any("casusoverleg" in p.text for p in posts(actions, "loket"))


def test_reminders_count_working_hours_only(ctx: FlowContext) -> None:
    friday_11 = at("2026-11-27 11:00")
    state = HandoverState(number=7, targets=["lumens"], created_at=friday_11)
    state, _ = handover.handle(state, DETAILS, Offer(), friday_11, ctx)
    # One working hour on Friday, none in the weekend: no reminder on Monday at 9:00.
    state, actions = handover.handle(state, DETAILS, Tick(), at("2026-11-30 09:00"), ctx)
    assert not posts(actions)
    # Three working hours (reminder_after_working_hours) reached on Monday at 11:00.
    state, actions = handover.handle(state, DETAILS, Tick(), at("2026-11-30 11:00"), ctx)
    assert [p.room for p in posts(actions)] == ["lumens"]
    state, actions = handover.handle(state, DETAILS, Tick(), at("2026-11-30 11:30"), ctx)
    assert not posts(actions)  # not twice
    state, actions = handover.handle(state, DETAILS, Tick(), at("2026-12-01 12:00"), ctx)
    [loket] = posts(actions, "loket")
    assert "casusoverleg" in loket.text and "klantmanager" in loket.text


def test_forget_removes_every_copy_and_tells_the_rooms_without_content(ctx: FlowContext) -> None:
    state = offered(ctx, ["lumens"])
    state, _ = handover.handle(state, DETAILS, Claim(staff("lumens")), MONDAY_10, ctx)
    state, actions = handover.handle(state, DETAILS, Forget(), MONDAY_10, ctx)
    assert state.forgotten and state.purge_at == MONDAY_10
    [remove] = [a for a in actions if isinstance(a, RemoveCopies)]
    assert "lumens" in remove.rooms and "loket" in remove.rooms
    for post in posts(actions):
        assert "gepest" not in post.text and "+3161" not in post.text


def test_every_transition_is_audited_without_personal_data(ctx: FlowContext) -> None:
    state = HandoverState(number=7, targets=["lumens"], created_at=MONDAY_10)
    audits: list[Audit] = []
    for event in (
        Offer(),
        Claim(staff("lumens", "Eva")),
        Release(staff("lumens", "Eva")),
        Reroute(staff("loket"), "ggd"),
        Claim(staff("ggd")),
        Close(staff("loket"), "handled"),
    ):
        state, actions = handover.handle(state, DETAILS, event, MONDAY_10, ctx)
        audits.extend(a for a in actions if isinstance(a, Audit))
    events = [a.event for a in audits]
    assert events[:3] == ["handover_offered", "handover_claimed", "handover_released"]
    assert "handover_rerouted" in events and "handover_closed_handled" in events
    for audit in audits:
        assert audit.handover == 7
        assert "Eva" not in repr(audit) and "gepest" not in repr(audit)
