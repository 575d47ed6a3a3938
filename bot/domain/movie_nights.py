"""An open movie-night vote as it is stored, so a restart resumes it (issue 26).

`StoredNight` is the vote's message and its candidates (movie ids with the group score they
ranked by); `NightMember` is one member's part: an attendee (may vote), the starter, whether
they took part by their own action (the winner goes on their watchlist) and their vote (button
votes only: a native poll's votes are held by Discord). Members' rows are member data: the
registry deletes them on `/forgetme`.

`StoredJoin` is the Join message that comes first while ratings are hidden: who was invited
and who joined (its members, `took_part` meaning joined), what the vote will be (how many
candidates, how long, the event plan, the movies tonight's filters left) and when it expires.

`NightEvent` is a winner's Discord scheduled event until its reminder: then the members marked
"Interested" (read from Discord, never stored) get the movie on their watchlists and the
channel a reminder. A member who ran `/forgetme` after the event was made is never added: the
event's `skipped` members (stored until the reminder).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class NightMember:
    user_id: int
    name: str
    starter: bool = False
    took_part: bool = False
    vote: int | None = None  # candidate index (button votes)


@dataclass(frozen=True, slots=True)
class NightCandidate:
    movie_id: int
    score: float
    new_here: bool = False


@dataclass(frozen=True, slots=True)
class StoredNight:
    id: int  # the id of the interaction that opened the vote (unique, stable custom ids)
    guild_id: int
    channel_id: int
    message_id: int | None  # the list with End vote (and the vote buttons)
    poll_message_id: int | None  # the native poll, if the vote is one
    candidates: tuple[NightCandidate, ...]
    personal: bool
    closes_at: float  # epoch seconds
    members: tuple[NightMember, ...] = ()
    # `/movienight when:`: the winner becomes a scheduled event starting then, in a voice
    # channel or at a place outside Discord.
    event_at: float | None = None
    event_channel_id: int | None = None
    event_location: str | None = None
    language: str | None = None  # the public message's (None: stored before it was kept)

    @property
    def is_poll(self) -> bool:
        return self.poll_message_id is not None

    @property
    def starter(self) -> NightMember | None:
        return next((m for m in self.members if m.starter), None)

    def with_messages(self, message_id: int | None, poll_message_id: int | None
                      ) -> StoredNight:
        return replace(self, message_id=message_id, poll_message_id=poll_message_id)


@dataclass(frozen=True, slots=True)
class StoredJoin:
    id: int  # the id of the /movienight interaction (unique: stable custom ids)
    guild_id: int
    channel_id: int
    message_id: int | None
    candidates: int  # how many movies the vote will show
    hours: int | None  # how long the vote will last (None: the default)
    expires_at: float  # epoch seconds: the Join message ends without a vote then
    members: tuple[NightMember, ...] = ()  # the starter, the invited; took_part: joined
    event_at: float | None = None
    event_channel_id: int | None = None
    event_location: str | None = None
    allowed: frozenset[int] | None = None  # tonight's filters and source (None: any movie)
    language: str = "en"  # the public message's language

    @property
    def starter(self) -> NightMember | None:
        return next((m for m in self.members if m.starter), None)


@dataclass(frozen=True, slots=True)
class NightEvent:
    guild_id: int
    event_id: int
    movie_id: int
    channel_id: int  # where the vote was, and the reminder goes
    starts_at: float
    remind_at: float  # == starts_at: no reminder message, only the watchlists
