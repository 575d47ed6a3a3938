"""Domain rules of the product, each in one home: the rating scale (`scores`), movie titles
(`titles`), release years (`years`) and genres (`genres`).

Pure Python, no I/O: cogs, the service layer, storage, the catalog importers, config validation
and the console all import their limits and checks from here, so a rule changes in one place.
Each check raises `DomainError` (a `ValueError`) whose message is written for a member to read.
"""

from bot.domain.errors import DomainError

__all__ = ["DomainError"]
