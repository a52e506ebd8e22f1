"""CallBook: idempotent, ordered, several calls per device, bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.switchboard import calls as calls_module
from custom_components.switchboard.calls import CallBook, CallChange, CallEventType
from custom_components.switchboard.providers.model import (
    CallAction,
    CallEvent,
    CallState,
    Direction,
    EndReason,
)

RINGING_ACTIONS = frozenset({CallAction.ANSWER, CallAction.REJECT, CallAction.HANGUP})


def event(
    event_id: str,
    state: CallState,
    at: float,
    *,
    call_id: str = "call-1",
    devices: tuple[str, ...] = ("desk",),
    direction: Direction | None = Direction.INCOMING,
    end_reason: EndReason | None = None,
    remote_number: str | None = None,
) -> CallEvent:
    rank = {CallState.RINGING: 0, CallState.TALKING: 1, CallState.ENDED: 3}.get(
        state, 2
    )
    return CallEvent(
        event_id=event_id,
        call_id=call_id,
        order=(at, rank),
        state=state,
        device_ids=devices,
        direction=direction,
        remote_number=remote_number,
        occurred_at=datetime.fromtimestamp(at, UTC),
        end_reason=end_reason,
        actions=RINGING_ACTIONS if state is CallState.RINGING else None,
    )


def recorder(book: CallBook) -> list[CallChange]:
    changes: list[CallChange] = []
    book.listen_device("desk", changes.append)
    return changes


def test_answered_call_lifecycle() -> None:
    book = CallBook()
    changes = recorder(book)
    book.apply(event("e1", CallState.RINGING, 1, remote_number="+1555"))
    book.apply(event("e2", CallState.TALKING, 2))
    book.apply(event("e3", CallState.ENDED, 3))
    assert [c.event_type for c in changes] == [
        CallEventType.INCOMING,
        CallEventType.ANSWERED,
        CallEventType.ENDED,
    ]
    ended = changes[-1].call
    assert ended.remote_number == "+1555"
    assert ended.answered_at == datetime.fromtimestamp(2, UTC)
    assert ended.ended_at == datetime.fromtimestamp(3, UTC)
    assert ended.actions == frozenset()
    assert len(book) == 0


def test_repeated_event_changes_nothing() -> None:
    book = CallBook()
    changes = recorder(book)
    ringing = event("e1", CallState.RINGING, 1)
    assert book.apply(ringing) is not None
    assert book.apply(ringing) is None
    assert len(changes) == 1


def test_same_state_again_is_no_change() -> None:
    book = CallBook()
    book.apply(event("e1", CallState.TALKING, 1))
    assert book.apply(event("e2", CallState.TALKING, 2)) is None
    news = book.apply(event("e3", CallState.TALKING, 3, remote_number="+1555"))
    assert news is not None
    assert news.event_type is None


def test_older_event_never_overwrites_newer_state() -> None:
    book = CallBook()
    changes = recorder(book)
    book.apply(event("answered", CallState.TALKING, 2))
    # The initiated webhook arrives late: it fills what was missing, no more.
    late = book.apply(event("initiated", CallState.RINGING, 1, remote_number="+1555"))
    assert late is not None
    assert late.event_type is None
    assert late.previous is CallState.TALKING
    assert book.apply(event("old", CallState.RINGING, 0.5)) is None
    call = book.get("call-1")
    assert call is not None
    assert call.state is CallState.TALKING
    assert call.remote_number == "+1555"
    assert [c.event_type for c in changes] == [CallEventType.ANSWERED, None]


def test_late_events_cannot_resurrect_an_ended_call() -> None:
    book = CallBook()
    book.apply(event("e1", CallState.RINGING, 1))
    book.apply(event("e3", CallState.ENDED, 3))
    assert book.apply(event("e2", CallState.TALKING, 2)) is None
    assert book.get("call-1") is None


def test_end_seen_before_start_leaves_no_ghost() -> None:
    book = CallBook()
    changes = recorder(book)
    assert book.apply(event("hangup", CallState.ENDED, 3)) is None
    assert book.apply(event("initiated", CallState.RINGING, 1)) is None
    assert len(book) == 0
    assert changes == []


def test_unanswered_incoming_call_is_missed() -> None:
    book = CallBook()
    book.apply(event("e1", CallState.RINGING, 1))
    change = book.apply(event("e2", CallState.ENDED, 2))
    assert change is not None
    assert change.event_type is CallEventType.MISSED


def test_rejected_call_is_ended_not_missed() -> None:
    book = CallBook()
    book.apply(event("e1", CallState.RINGING, 1))
    change = book.apply(event("e2", CallState.ENDED, 2, end_reason=EndReason.REJECTED))
    assert change is not None
    assert change.event_type is CallEventType.ENDED


def test_an_older_call_back_from_hold_is_still_the_primary_one() -> None:
    book = CallBook()
    book.apply(event("a1", CallState.TALKING, 1, call_id="a"))
    book.apply(event("b1", CallState.TALKING, 2, call_id="b"))
    book.apply(event("a2", CallState.ON_HOLD, 3, call_id="a"))
    primary = book.primary_call("desk")
    assert primary is not None
    assert primary.call_id == "b"  # the only one talking
    book.apply(event("a3", CallState.TALKING, 4, call_id="a"))
    primary = book.primary_call("desk")
    assert primary is not None
    assert primary.call_id == "a"  # talking again, and older than b
    assert [call.call_id for call in book.calls_on("desk")] == ["a", "b"]
    assert book.count_on("desk") == 2


def test_a_device_with_no_calls() -> None:
    book = CallBook()
    assert book.calls_on("desk") == []
    assert book.count_on("desk") == 0
    assert book.primary_call("desk") is None
    assert book.find_call("desk", CallAction.ANSWER, None) is None


def test_an_end_overtaking_our_answer_is_not_missed() -> None:
    book = CallBook()
    book.apply(event("e1", CallState.RINGING, 1))
    book.confirm_answered("call-1")
    book.confirm_answered("never-seen")  # nothing to remember
    change = book.apply(event("e2", CallState.ENDED, 3))
    assert change is not None
    assert change.event_type is CallEventType.ENDED
    # Forgotten with the call: the same id ringing again later is a new call.
    assert not book._answered_here


def test_an_unanswered_end_is_missed() -> None:
    book = CallBook()
    book.apply(event("e1", CallState.RINGING, 1))
    change = book.apply(event("e2", CallState.ENDED, 3))
    assert change is not None
    assert change.event_type is CallEventType.MISSED


def test_outgoing_call_dialing_then_answered() -> None:
    book = CallBook()
    changes = recorder(book)
    book.apply(event("e1", CallState.DIALING, 1, direction=Direction.OUTGOING))
    book.apply(event("e2", CallState.TALKING, 2, direction=None))
    book.apply(event("e3", CallState.ENDED, 3, direction=None))
    assert [c.event_type for c in changes] == [
        None,
        CallEventType.ANSWERED,
        CallEventType.ENDED,
    ]
    assert changes[-1].call.direction is Direction.OUTGOING


def test_hold_changes_state_without_an_event() -> None:
    book = CallBook()
    book.apply(event("e1", CallState.TALKING, 1))
    change = book.apply(event("e2", CallState.ON_HOLD, 2))
    assert change is not None
    assert change.event_type is None
    assert book.primary_call("desk") is not None


def test_two_calls_on_one_device() -> None:
    book = CallBook()
    book.apply(event("a1", CallState.RINGING, 1, call_id="a"))
    book.apply(event("a2", CallState.TALKING, 2, call_id="a"))
    book.apply(event("b1", CallState.RINGING, 3, call_id="b"))
    assert [call.call_id for call in book.calls_on("desk")] == ["a", "b"]
    primary = book.primary_call("desk")
    assert primary is not None
    assert primary.call_id == "b"  # a ringing call is what the user most likely means
    answer = book.find_call("desk", CallAction.ANSWER, None)
    hangup = book.find_call("desk", CallAction.HANGUP, None)
    assert answer is not None
    assert answer.call_id == "b"
    assert hangup is not None
    assert hangup.call_id == "a"  # hang-up means the call the user is on
    named = book.find_call("desk", CallAction.HANGUP, "a")
    assert named is not None
    assert named.call_id == "a"
    assert book.find_call("other", CallAction.HANGUP, "a") is None
    assert book.find_call("desk", CallAction.ANSWER, "missing") is None
    book.apply(event("b2", CallState.ENDED, 4, call_id="b"))
    primary = book.primary_call("desk")
    assert primary is not None
    assert primary.call_id == "a"
    assert book.find_call("desk", CallAction.ANSWER, None) is None
    assert book.primary_call("nowhere") is None


def test_memory_stays_bounded() -> None:
    book = CallBook()
    total = calls_module.SEEN_EVENTS * 2
    for index in range(total):
        call_id = f"call-{index}"
        book.apply(event(f"r{index}", CallState.RINGING, index, call_id=call_id))
        book.apply(event(f"h{index}", CallState.ENDED, index + 0.5, call_id=call_id))
    assert len(book) == 0
    assert len(book._seen) == calls_module.SEEN_EVENTS
    assert len(book._ended) == calls_module.ENDED_CALLS
    assert book._placed == {}
    assert book._devices == {}


def test_stop_listening() -> None:
    book = CallBook()
    changes: list[CallChange] = []
    stop = book.listen_device("desk", changes.append)
    stop()
    book.apply(event("e1", CallState.RINGING, 1))
    assert changes == []


def test_reconcile_ends_only_calls_it_could_have_listed() -> None:
    book = CallBook()
    changes = recorder(book)
    book.apply(event("a1", CallState.RINGING, 1, call_id="a"))
    book.apply(event("b1", CallState.TALKING, 1, call_id="b"))
    book.apply(event("c1", CallState.RINGING, 1, call_id="c"))
    book.apply(event("c2", CallState.ENDED, 2, call_id="c"))
    live_before = {"a", "b", "c"}  # c ended while the list was on its way
    # Meanwhile "d" began: too new for the list, so it stays.
    book.apply(event("d1", CallState.RINGING, 3, call_id="d"))
    snapshot = [event("b-now", CallState.ON_HOLD, 5, call_id="b")]
    reconciled = book.reconcile(snapshot, live_before, datetime.fromtimestamp(6, UTC))
    assert [(c.call.call_id, c.call.state) for c in reconciled] == [
        ("b", CallState.ON_HOLD),
        ("a", CallState.ENDED),
    ]
    assert reconciled[1].event_type is CallEventType.MISSED
    assert {call.call_id for call in book.live_calls()} == {"b", "d"}
    assert len(changes) == 7


def test_digits_on_a_live_call_move_nothing_and_reach_its_devices() -> None:
    book = CallBook()
    changes = recorder(book)
    book.apply(event("e1", CallState.RINGING, 1, remote_number="+1555"))
    book.apply(event("e2", CallState.TALKING, 2))
    # Telnyx names no device on its keys, Graph no direction or actions.
    pressed = CallEvent(
        event_id="k1",
        call_id="call-1",
        order=(9.0, 1),
        state=CallState.TALKING,
        digits="1",
    )
    change = book.apply(pressed)
    assert change is not None
    assert change.event_type is CallEventType.DIGITS
    assert change.digits == "1"
    assert change.call.state is CallState.TALKING
    assert change.call.device_ids == ("desk",)
    assert change.call.remote_number == "+1555"
    assert changes[-1] is change
    # Seen once: a repeat says nothing; the keys moved no order either.
    assert book.apply(pressed) is None
    assert book.apply(event("e3", CallState.ENDED, 3)) is not None
    assert [c.event_type for c in changes] == [
        CallEventType.INCOMING,
        CallEventType.ANSWERED,
        CallEventType.DIGITS,
        CallEventType.ENDED,
    ]


def test_digits_of_an_unknown_or_ended_call_are_ignored() -> None:
    book = CallBook()
    changes = recorder(book)
    for call_id in ("unknown", "call-1"):
        if call_id == "call-1":
            book.apply(event("e1", CallState.RINGING, 1))
            book.apply(event("e2", CallState.ENDED, 2))
        pressed = CallEvent(
            event_id=f"k:{call_id}",
            call_id=call_id,
            order=(3.0, 1),
            state=CallState.TALKING,
            digits="5",
        )
        assert book.apply(pressed) is None
    assert len(book) == 0
    assert CallEventType.DIGITS not in [c.event_type for c in changes]


def test_actions_beyond_answering_take_the_call_that_allows_them() -> None:
    book = CallBook()
    talking = frozenset({CallAction.HANGUP, CallAction.TRANSFER, CallAction.HOLD})
    held = frozenset({CallAction.HANGUP, CallAction.RESUME})
    book.apply(event("a1", CallState.RINGING, 1, call_id="ringing"))
    for call_id, state, actions in (
        ("talking", CallState.TALKING, talking),
        ("held", CallState.ON_HOLD, held),
    ):
        book.apply(
            CallEvent(
                event_id=call_id,
                call_id=call_id,
                order=(2.0, 1),
                state=state,
                device_ids=("desk",),
                actions=actions,
            )
        )

    def found(action: CallAction) -> str | None:
        call = book.find_call("desk", action, None)
        return call.call_id if call else None

    assert found(CallAction.TRANSFER) == "talking"
    assert found(CallAction.HOLD) == "talking"
    assert found(CallAction.RESUME) == "held"
    # No call allows them: nothing to act on, not a call that would refuse.
    assert found(CallAction.SEND_DIGITS) is None
    assert found(CallAction.SPEAK) is None
    assert found(CallAction.HANGUP) == "talking"
    assert found(CallAction.ANSWER) == "ringing"
