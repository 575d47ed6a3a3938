"""Discord's documented size limits, checked the way Discord checks them.

Discord answers a body that breaks a limit with HTTP 400, ``{"code": 50035, "message": "Invalid
Form Body", "errors": {...}}``, where ``errors`` mirrors the body's shape down to the offending
value and ends in ``{"_errors": [{"code": ..., "message": ...}]}``, e.g.
``{"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be
256 or fewer in length."}]}}}}``. discord.py raises that as ``discord.HTTPException`` (``code``
50035, the errors flattened into its text).

Limits (developer documentation: message resource, embed limits, component reference,
interaction responses, application commands):

* message: content 2,000; at most 10 embeds; the embeds' title, description, field names and
  values, footer text and author name together 6,000;
* embed: title 256, description 4,096, 25 fields, field name 256, field value 1,024, footer
  text 2,048, author name 256;
* components: 5 action rows; a row holds 5 buttons or 1 select; custom_id 100; button label
  80; select placeholder 150, 1-25 options, option label/value/description 100;
* modal: title 45, custom_id 100, 5 rows, text input label 45, placeholder 100, value 4,000;
* autocomplete: 25 choices, name 1-100, string value up to 100;
* application commands: name 1-32, description 1-100, 25 options (recursively), 25 choices;
* poll: question 1-300; 1-10 answers, answer text 1-55; duration whole hours 1-768 (32 days);
* scheduled event: name 1-100, description up to 1,000, external location 1-100;
* uploads: at most 10 files (``files[n]`` parts) per message; each file at most the
  attachment size limit (10 MiB without boosts, the ``attachment_size_limit`` interactions
  carry). Too many files is the usual 400/50035 on ``attachments``; a file over the limit is
  HTTP 413 with code 40005, "Request entity too large".
"""

from __future__ import annotations

from typing import Any

INVALID_FORM_BODY = 50035
MAX_LENGTH = "BASE_TYPE_MAX_LENGTH"
MIN_LENGTH = "BASE_TYPE_MIN_LENGTH"
EMBED_SIZE = "MAX_EMBED_SIZE_EXCEEDED"

CONTENT = 2000
EMBEDS = 10
EMBED_TOTAL = 6000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER_TEXT = 2048
AUTHOR_NAME = 256
ACTION_ROWS = 5
ROW_BUTTONS = 5
CUSTOM_ID = 100
BUTTON_LABEL = 80
SELECT_PLACEHOLDER = 150
SELECT_OPTIONS = 25
OPTION_TEXT = 100
MODAL_TITLE = 45
TEXT_INPUT_LABEL = 45
TEXT_INPUT_PLACEHOLDER = 100
TEXT_INPUT_VALUE = 4000
CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
COMMAND_NAME = 32
COMMAND_DESCRIPTION = 100
COMMAND_OPTIONS = 25
ATTACHMENTS = 10
POLL_QUESTION = 300
POLL_ANSWERS = 10
POLL_ANSWER_TEXT = 55
POLL_MAX_HOURS = 768  # 32 days
EVENT_NAME = 100
EVENT_DESCRIPTION = 1000
EVENT_LOCATION = 100
NUMBER_TYPE_MAX = "NUMBER_TYPE_MAX"
NUMBER_TYPE_MIN = "NUMBER_TYPE_MIN"
NUMBER_TYPE_COERCE = "NUMBER_TYPE_COERCE"
INVALID_NAME = "APPLICATION_COMMAND_INVALID_NAME"
ENUM_TYPE_COERCE = "ENUM_TYPE_COERCE"
# The locales Discord accepts as keys of name_localizations / description_localizations.
LOCALES = frozenset((
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi",
    "th", "zh-CN", "ja", "zh-TW", "ko"))
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024  # bytes: Discord's default upload limit
REQUEST_TOO_LARGE = 40005

_ACTION_ROW, _BUTTON, _TEXT_INPUT = 1, 2, 4
_SELECTS = (3, 5, 6, 7, 8)


class FormErrors:
    """Collects errors into Discord's nested ``errors`` shape."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: tuple[str | int, ...], value: Any, limit: int) -> None:
        if isinstance(value, str | list) and len(value) > limit:
            self.add(path, MAX_LENGTH, f"Must be {limit} or fewer in length.")

    def length(self, path: tuple[str | int, ...], value: Any, low: int, high: int) -> None:
        if isinstance(value, str | list):
            if len(value) < low:
                self.add(path, MIN_LENGTH, f"Must be {low} or more in length.")
            self.max_length(path, value, high)

    def __bool__(self) -> bool:
        return bool(self.tree)


def embed_size(embed: dict[str, Any]) -> int:
    """The characters Discord counts towards the 6,000 of a message."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    return total


def _embed(errors: FormErrors, path: tuple[str | int, ...], embed: dict[str, Any]) -> None:
    errors.max_length((*path, "title"), embed.get("title"), EMBED_TITLE)
    errors.max_length((*path, "description"), embed.get("description"), EMBED_DESCRIPTION)
    fields = embed.get("fields") or []
    errors.max_length((*path, "fields"), fields, EMBED_FIELDS)
    for n, field in enumerate(fields):
        errors.length((*path, "fields", n, "name"), field.get("name"), 1, FIELD_NAME)
        errors.length((*path, "fields", n, "value"), field.get("value"), 1, FIELD_VALUE)
    errors.max_length((*path, "footer", "text"), (embed.get("footer") or {}).get("text"),
                      FOOTER_TEXT)
    errors.max_length((*path, "author", "name"), (embed.get("author") or {}).get("name"),
                      AUTHOR_NAME)


def _component(errors: FormErrors, path: tuple[str | int, ...], item: dict[str, Any]) -> None:
    kind = item.get("type")
    errors.max_length((*path, "custom_id"), item.get("custom_id"), CUSTOM_ID)
    if kind == _BUTTON:
        errors.max_length((*path, "label"), item.get("label"), BUTTON_LABEL)
    elif kind in _SELECTS:
        errors.max_length((*path, "placeholder"), item.get("placeholder"), SELECT_PLACEHOLDER)
        if kind == 3:
            options = item.get("options") or []
            errors.length((*path, "options"), options, 1, SELECT_OPTIONS)
            for n, option in enumerate(options):
                for key in ("label", "value"):
                    errors.length((*path, "options", n, key), option.get(key), 1, OPTION_TEXT)
                errors.max_length((*path, "options", n, "description"),
                                  option.get("description"), OPTION_TEXT)
    elif kind == _TEXT_INPUT:
        errors.max_length((*path, "label"), item.get("label"), TEXT_INPUT_LABEL)
        errors.max_length((*path, "placeholder"), item.get("placeholder"),
                          TEXT_INPUT_PLACEHOLDER)
        errors.max_length((*path, "value"), item.get("value"), TEXT_INPUT_VALUE)


def _rows(errors: FormErrors, path: tuple[str | int, ...], rows: list[dict[str, Any]]) -> None:
    errors.max_length(path, rows, ACTION_ROWS)
    for r, row in enumerate(rows):
        if row.get("type") != _ACTION_ROW:
            _component(errors, (*path, r), row)
            continue
        children = row.get("components") or []
        selects = [c for c in children if c.get("type") in _SELECTS]
        limit = 1 if selects else ROW_BUTTONS
        errors.length((*path, r, "components"), children, 1, limit)
        for c, child in enumerate(children):
            _component(errors, (*path, r, "components", c), child)


def message_errors(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """Discord's ``errors`` for a message body (create or edit), or None when it is valid."""
    if not body:
        return None
    errors = FormErrors()
    errors.max_length(("content",), body.get("content"), CONTENT)
    embeds = body.get("embeds") or []
    errors.max_length(("embeds",), embeds, EMBEDS)
    for n, embed in enumerate(embeds):
        _embed(errors, ("embeds", n), embed or {})
    if sum(embed_size(e or {}) for e in embeds) > EMBED_TOTAL:
        errors.add(("embeds",), EMBED_SIZE, f"Embed size exceeds maximum size of {EMBED_TOTAL}")
    _rows(errors, ("components",), body.get("components") or [])
    if body.get("poll"):
        _poll(errors, ("poll",), body["poll"])
    return errors.tree or None


def _poll(errors: FormErrors, path: tuple[str | int, ...], poll: dict[str, Any]) -> None:
    errors.length((*path, "question", "text"), (poll.get("question") or {}).get("text") or "",
                  1, POLL_QUESTION)
    answers = poll.get("answers") or []
    errors.length((*path, "answers"), answers, 1, POLL_ANSWERS)
    for n, answer in enumerate(answers):
        text = (answer.get("poll_media") or {}).get("text") or ""
        errors.length((*path, "answers", n, "poll_media", "text"), text, 1, POLL_ANSWER_TEXT)
    duration = poll.get("duration", 24)
    where = (*path, "duration")
    if not isinstance(duration, int | float) or float(duration) != int(duration):
        errors.add(where, NUMBER_TYPE_COERCE, f"Value \"{duration}\" is not int.")
    elif duration < 1:
        errors.add(where, NUMBER_TYPE_MIN, "int value should be greater than or equal to 1.")
    elif duration > POLL_MAX_HOURS:
        errors.add(where, NUMBER_TYPE_MAX,
                   f"int value should be less than or equal to {POLL_MAX_HOURS}.")


def event_errors(body: dict[str, Any], *, partial: bool = False) -> dict[str, Any] | None:
    """Errors of a scheduled event's create (or, `partial`, edit) body, or None."""
    errors = FormErrors()
    if "name" in body or not partial:
        errors.length(("name",), body.get("name") or "", 1, EVENT_NAME)
    errors.max_length(("description",), body.get("description"), EVENT_DESCRIPTION)
    location = (body.get("entity_metadata") or {}).get("location")
    if location is not None:
        errors.length(("entity_metadata", "location"), location, 1, EVENT_LOCATION)
    return errors.tree or None


def attachments_errors(files: list[Any]) -> dict[str, Any] | None:
    """Errors of a message's uploaded files (count only; sizes are `oversized_files`)."""
    errors = FormErrors()
    errors.max_length(("attachments",), list(files), ATTACHMENTS)
    return errors.tree or None


def oversized_files(files: list[Any], limit: int = ATTACHMENT_SIZE_LIMIT) -> list[str]:
    """Names of uploaded files (objects with ``filename`` and ``data``) over `limit` bytes."""
    return [f.filename for f in files if len(f.data) > limit]


def modal_errors(data: dict[str, Any]) -> dict[str, Any] | None:
    """Errors of a modal (interaction callback type 9)'s data, or None."""
    errors = FormErrors()
    errors.length(("title",), data.get("title"), 1, MODAL_TITLE)
    errors.length(("custom_id",), data.get("custom_id"), 1, CUSTOM_ID)
    _rows(errors, ("components",), data.get("components") or [])
    return errors.tree or None


def choices_errors(choices: list[dict[str, Any]], *,
                   path: tuple[str | int, ...] = ("choices",)) -> dict[str, Any] | None:
    """Errors of autocomplete (or command option) choices, or None."""
    errors = FormErrors()
    _choices(errors, path, choices)
    return errors.tree or None


def valid_command_name(name: Any) -> bool:
    """Discord's rule for command and option names (and their localisations):
    ^[-_\\p{L}\\p{N}]{1,32}$, and lowercase wherever a letter has a lowercase form."""
    return (isinstance(name, str) and 1 <= len(name) <= COMMAND_NAME and name == name.lower()
            and all(ch.isalnum() or ch in "-_" for ch in name))


def _localizations(errors: FormErrors, path: tuple[str | int, ...], values: Any,
                   *, names: bool, high: int) -> None:
    """A `name_localizations` (names=True) or `description_localizations` map."""
    if not values:
        return
    for locale, text in values.items():
        if locale not in LOCALES:
            errors.add((*path, locale), ENUM_TYPE_COERCE,
                       f'Value "{locale}" is not a valid enum value.')
        elif names and not valid_command_name(text):
            errors.add((*path, locale), INVALID_NAME, "Command name is invalid")
        else:
            errors.length((*path, locale), text, 1, high)


def _choices(errors: FormErrors, path: tuple[str | int, ...],
             choices: list[dict[str, Any]]) -> None:
    errors.max_length(path, choices, CHOICES)
    for n, choice in enumerate(choices):
        errors.length((*path, n, "name"), choice.get("name"), 1, CHOICE_NAME)
        _localizations(errors, (*path, n, "name_localizations"),
                       choice.get("name_localizations"), names=False, high=CHOICE_NAME)
        value = choice.get("value")
        if isinstance(value, str):
            errors.max_length((*path, n, "value"), value, CHOICE_VALUE)


def _options(errors: FormErrors, path: tuple[str | int, ...],
             options: list[dict[str, Any]]) -> None:
    errors.max_length(path, options, COMMAND_OPTIONS)
    for n, option in enumerate(options):
        _named(errors, (*path, n), option)
        errors.length((*path, n, "description"), option.get("description"), 1,
                      COMMAND_DESCRIPTION)
        _choices(errors, (*path, n, "choices"), option.get("choices") or [])
        _options(errors, (*path, n, "options"), option.get("options") or [])


def _named(errors: FormErrors, path: tuple[str | int, ...], item: dict[str, Any]) -> None:
    """A chat-input command's or option's name, description localisations included."""
    name = item.get("name")
    if isinstance(name, str) and 1 <= len(name) <= COMMAND_NAME \
            and not valid_command_name(name):
        errors.add((*path, "name"), INVALID_NAME, "Command name is invalid")
    else:
        errors.length((*path, "name"), name, 1, COMMAND_NAME)
    _localizations(errors, (*path, "name_localizations"), item.get("name_localizations"),
                   names=True, high=COMMAND_NAME)
    _localizations(errors, (*path, "description_localizations"),
                   item.get("description_localizations"), names=False,
                   high=COMMAND_DESCRIPTION)


def command_errors(command: dict[str, Any], *,
                   path: tuple[str | int, ...] = ()) -> dict[str, Any] | None:
    """Errors of one application command definition, or None."""
    errors = FormErrors()
    if command.get("type", 1) == 1:  # only chat-input commands have a description
        _named(errors, path, command)
        errors.length((*path, "description"), command.get("description"), 1,
                      COMMAND_DESCRIPTION)
    else:  # user and message commands: any name of 1-32 characters, not localised here
        errors.length((*path, "name"), command.get("name"), 1, COMMAND_NAME)
    _options(errors, (*path, "options"), command.get("options") or [])
    return errors.tree or None


def nest(key: str, errors: dict[str, Any] | None) -> dict[str, Any] | None:
    """`errors` under `key` (an interaction callback's errors sit under "data")."""
    return {key: errors} if errors else None


def flatten(errors: dict[str, Any], prefix: str = "") -> list[str]:
    """``"embeds.0.title: Must be 256 or fewer in length."`` lines, for assertion messages."""
    lines = []
    for key, value in errors.items():
        if key == "_errors":
            lines += [f"{prefix or '<body>'}: {e['message']}" for e in value]
        else:
            lines += flatten(value, f"{prefix}.{key}" if prefix else key)
    return lines
