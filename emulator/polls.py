"""Native polls as Discord runs them: the stored poll, members' votes, the end of a poll.

A message body's ``poll`` (``{question: {text}, answers: [{poll_media: {text}}], duration,
allow_multiselect, layout_type}``; limits in :mod:`emulator.limits`) becomes the message's poll
object: answers numbered from 1, ``expiry`` = creation + ``duration`` hours, and ``results``
(``is_finalized``, ``answer_counts: [{id, count, me_voted}]``) kept current as members vote.

* ``vote``/``unvote``: a member votes as the Discord client does (one answer unless the poll
  allows several: voting another answer moves the vote) and every session with the Guild
  Message Polls intent gets ``MESSAGE_POLL_VOTE_ADD``/``_REMOVE``.
* ``end``: what ``POST /channels/{c}/polls/{m}/expire`` and Discord's own timer do: the results
  are final (``MESSAGE_UPDATE``) and a ``poll_result`` message (type 46, an embed of type
  ``poll_result`` whose fields name the question, the winning answer and the vote totals; no
  winner on a tie or without votes) replies to the poll. ``end_due`` ends every poll whose
  expiry has passed (call it to stand in for Discord's clock).
* ``voters``: ``GET /channels/{c}/polls/{m}/answers/{a}`` (``{users: [...]}``, by user id,
  ``after``/``limit`` paging).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from discord.enums import MessageReferenceType, MessageType

from .payloads import user_payload
from .world import Member, iso

if TYPE_CHECKING:
    from .server import DiscordEmulator

INTENT_GUILD_MESSAGE_POLLS = 1 << 24
POLL_RESULT = MessageType.poll_result.value
POLL_EXPIRED = 520001  # Discord's JSON error code for acting on an ended poll
NOT_A_POLL = 520006  # "Cannot expire a non-poll message"
EDIT_POLL = 520003  # "Cannot edit a poll message" (the poll itself)


def poll_payload(body: dict[str, Any], created: datetime | None = None) -> dict[str, Any]:
    """The poll object a message carries, from the poll a request body sent."""
    created = created or datetime.now(UTC)
    hours = int(body.get("duration", 24))
    answers = []
    for n, answer in enumerate(body.get("answers") or [], start=1):
        media = {"text": (answer.get("poll_media") or {}).get("text") or ""}
        emoji = (answer.get("poll_media") or {}).get("emoji")
        if emoji:
            media["emoji"] = copy.deepcopy(emoji)
        answers.append({"answer_id": n, "poll_media": media})
    return {
        "question": {"text": (body.get("question") or {}).get("text") or ""},
        "answers": answers,
        "expiry": iso(created + timedelta(hours=hours)),
        "allow_multiselect": bool(body.get("allow_multiselect", False)),
        "layout_type": int(body.get("layout_type") or 1),
        "results": {"is_finalized": False, "answer_counts": []},
    }


def _message_id(message: Any) -> int:
    if isinstance(message, int):
        return message
    if isinstance(message, dict):
        return int(message["id"])
    return int(message.id)


class PollBox:
    """Every poll's votes: {message id: {user id: answer ids}}."""

    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.votes: dict[int, dict[int, set[int]]] = {}

    # -- reading ----------------------------------------------------------------
    def poll_message(self, message: Any) -> dict[str, Any]:
        msg = self.emu.messages.get(_message_id(message))
        if msg is None or not msg.get("poll"):
            raise LookupError(f"message {_message_id(message)} has no poll")
        return msg

    def counts(self, message: Any) -> dict[int, int]:
        """{answer id: votes} of a poll (every answer, zeros included)."""
        msg = self.poll_message(message)
        ballots = self.votes.get(int(msg["id"]), {})
        out = {a["answer_id"]: 0 for a in msg["poll"]["answers"]}
        for chosen in ballots.values():
            for answer in chosen:
                out[answer] = out.get(answer, 0) + 1
        return out

    def voters(self, message_id: int, answer_id: int, *, after: int = 0,
               limit: int = 25) -> list[dict[str, Any]]:
        ballots = self.votes.get(message_id, {})
        ids = sorted(uid for uid, chosen in ballots.items() if answer_id in chosen and uid > after)
        users = [self.emu.world.users[uid] for uid in ids[:limit] if uid in self.emu.world.users]
        return [user_payload(u) for u in users]

    # -- members voting ------------------------------------------------------------
    async def vote(self, member: Member, message: Any, answer_id: int) -> None:
        """``member`` votes for ``answer_id`` (moving a single-choice vote)."""
        msg = self.poll_message(message)
        poll = msg["poll"]
        if poll["results"]["is_finalized"]:
            raise ValueError("the poll has ended")
        if answer_id not in {a["answer_id"] for a in poll["answers"]}:
            raise ValueError(f"the poll has no answer {answer_id}")
        ballots = self.votes.setdefault(int(msg["id"]), {})
        chosen = ballots.setdefault(member.id, set())
        if answer_id in chosen:
            return
        if not poll["allow_multiselect"]:
            for old in sorted(chosen):
                chosen.discard(old)
                self._refresh(msg)
                await self._dispatch("MESSAGE_POLL_VOTE_REMOVE", msg, member, old)
        chosen.add(answer_id)
        self._refresh(msg)
        await self._dispatch("MESSAGE_POLL_VOTE_ADD", msg, member, answer_id)

    async def unvote(self, member: Member, message: Any, answer_id: int) -> None:
        msg = self.poll_message(message)
        if msg["poll"]["results"]["is_finalized"]:
            raise ValueError("the poll has ended")
        chosen = self.votes.get(int(msg["id"]), {}).get(member.id, set())
        if answer_id not in chosen:
            return
        chosen.discard(answer_id)
        self._refresh(msg)
        await self._dispatch("MESSAGE_POLL_VOTE_REMOVE", msg, member, answer_id)

    def _refresh(self, msg: dict[str, Any]) -> None:
        bot_id = self.emu.world.bot_user.id
        mine = self.votes.get(int(msg["id"]), {}).get(bot_id, set())
        msg["poll"]["results"]["answer_counts"] = [
            {"id": answer, "count": count, "me_voted": answer in mine}
            for answer, count in self.counts(msg).items() if count]
        self.emu._notify()

    async def _dispatch(self, event: str, msg: dict[str, Any], member: Member,
                        answer_id: int) -> None:
        data = {"user_id": str(member.id), "channel_id": msg["channel_id"],
                "message_id": msg["id"], "answer_id": answer_id}
        guild_id = int(msg["guild_id"]) if msg.get("guild_id") else None
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        await self.emu._dispatch_intent(event, data, guild_id, INTENT_GUILD_MESSAGE_POLLS)

    # -- the end ---------------------------------------------------------------------
    async def end(self, message: Any) -> dict[str, Any]:
        """End the poll now (its results final) and post Discord's poll_result message."""
        msg = self.poll_message(message)
        poll = msg["poll"]
        if poll["results"]["is_finalized"]:
            raise ValueError("the poll has already ended")
        self._refresh(msg)
        poll["results"]["is_finalized"] = True
        poll["expiry"] = min(poll["expiry"], iso())
        await self.emu.dispatch_message("MESSAGE_UPDATE", msg)
        counts = self.counts(msg)
        total = sum(counts.values())
        top = max(counts.values(), default=0)
        leaders = [a for a, c in counts.items() if c == top]
        fields = [{"name": "poll_question_text", "value": poll["question"]["text"]},
                  {"name": "victor_answer_votes", "value": str(top)},
                  {"name": "total_votes", "value": str(total)}]
        if top and len(leaders) == 1:
            answer = next(a for a in poll["answers"] if a["answer_id"] == leaders[0])
            fields += [{"name": "victor_answer_id", "value": str(leaders[0])},
                       {"name": "victor_answer_text", "value": answer["poll_media"]["text"]}]
        author = self.emu.world.users.get(int(msg["author"]["id"]), self.emu.world.bot_user)
        guild_id = int(msg["guild_id"]) if msg.get("guild_id") else None
        result = self.emu.messages.create(
            channel_id=int(msg["channel_id"]), guild_id=guild_id, author=author,
            body={"embeds": [{"type": "poll_result", "fields": fields}]}, type=POLL_RESULT,
            extra={"message_reference": {
                "type": MessageReferenceType.default.value, "message_id": msg["id"],
                "channel_id": msg["channel_id"],
                "guild_id": str(guild_id) if guild_id else None}})
        self.emu.poll_results.append(result)
        await self.emu.dispatch_message("MESSAGE_CREATE", result)
        self.emu._notify()
        return msg

    async def end_due(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """End every open poll whose expiry is at or before ``now`` (default: now)."""
        now = now or datetime.now(UTC)
        ended = []
        for msg in list(self.emu.messages.messages.values()):
            poll = msg.get("poll")
            if poll and not poll["results"]["is_finalized"] and \
                    datetime.fromisoformat(poll["expiry"]) <= now:
                ended.append(await self.end(msg))
        return ended
