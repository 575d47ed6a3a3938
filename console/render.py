"""What the console prints for the bot's answers, and for errors.

A reply prints as a person reads it in Discord (the emulator's plain-text rendering: embeds as
`|` lines, buttons as `[Label]`, menus as `[▾ …]`, ephemeral messages end with "(only you can
see this)"), then its attachments. `visible_replies` decides which of an interaction's messages
a person would see once the bot has answered; `describe` makes one line of an exception.
Pictures are saved to a folder (`attachment_folder`) and their paths printed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from discord.enums import InteractionResponseType

if TYPE_CHECKING:
    from emulator import Interaction, Reply
    from emulator.messages import StoredAttachment

ATTACHMENTS_ENV = "MOVIEBOT_CONSOLE_ATTACHMENTS"
UPDATED_NOTE = "(updated the message in place)"
# Answers that change the message a component was on instead of sending a new one.
_IN_PLACE = (InteractionResponseType.deferred_message_update.value,
             InteractionResponseType.message_update.value)


def reply_text(reply: Reply, note: str | None = None) -> str:
    """One reply as text, after an optional note line."""
    # The emulator's rendering already ends ephemeral messages with
    # "(only you can see this)"; adding a header here printed the marker twice.
    text = reply.rendered_text().strip()
    return "\n".join(filter(None, [note, text])) or "(empty message)"


def attachment_folder() -> Path:
    """Where the console saves pictures and other binary attachments:
    `$MOVIEBOT_CONSOLE_ATTACHMENTS`, else `moviebot-console` in the temporary folder."""
    chosen = os.environ.get(ATTACHMENTS_ENV)
    return Path(chosen) if chosen else Path(tempfile.gettempdir()) / "moviebot-console"


def save_attachment(attachment: StoredAttachment, folder: Path | None = None) -> Path:
    """Write the attachment's bytes as `<attachment id>-<filename>` in `folder`."""
    folder = folder or attachment_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{attachment.id}-{Path(attachment.filename).name}"
    path.write_bytes(attachment.data)
    return path


def attachment_text(attachment: StoredAttachment) -> str:
    """A text attachment (CSV, JSON, plain text) is printed; anything else (a picture) is
    saved to `attachment_folder()` and its path printed, to open in an image viewer."""
    kind = (attachment.content_type or "").split(";")[0].strip()
    if kind.startswith("text/") or kind == "application/json":
        return f"[attachment {attachment.filename}]\n{attachment.text}"
    return f"[attachment {attachment.filename} saved to {save_attachment(attachment)}]"


def visible_replies(inter: Interaction, reply: Reply) -> list[tuple[Reply, str | None]]:
    """The messages a person sees for `inter` once the bot answered (`reply` is its callback),
    each with a note to print above it."""
    main = inter.final() if inter.original_message_id is not None else None
    if reply.type == InteractionResponseType.deferred_message_update.value and not inter.edits:
        main = None  # nothing changed on the message; the answer is in the followups
    elif main is None and not reply.deferred and not inter.deleted:
        main = reply
    if main is not None and main.loading and inter.followup_replies:
        main = None  # Discord replaces "thinking…" with the first followup
    shown: list[tuple[Reply, str | None]] = []
    if main is not None:
        shown.append((main, UPDATED_NOTE if reply.type in _IN_PLACE else None))
    shown.extend((extra, None) for extra in inter.followup_replies)
    return shown


def describe(error: Exception) -> str:
    """One readable line for an exception (the emulator's timeouts carry pages of detail)."""
    from emulator import EmulatorTimeout  # lazily: the package stays importable without it

    if isinstance(error, EmulatorTimeout):
        first = str(error).splitlines()[0] if str(error) else "waiting"
        return f"the bot did not answer in time ({first})"
    text = str(error) or type(error).__name__
    return text.splitlines()[0]
