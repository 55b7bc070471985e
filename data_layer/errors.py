"""Named errors shared by loaders, the data layer and the CLI.

Each message is one line a person can act on: what happened, to what, what to do next.
The CLI turns any `StormwaterError` into that line on stderr and a non-zero exit.
"""


class StormwaterError(Exception):
    """Base class: an expected failure with a one-line, user-facing message."""


class SourceUnavailable(StormwaterError):
    """The portal or a file could not be reached or downloaded."""


class SourceInvalid(StormwaterError):
    """A source file is not the CSV we expect (HTML page, empty, missing key columns...)."""


class RejectsOverThreshold(StormwaterError):
    """Too many rows failed validation: the dataset was not published."""


class RefreshLocked(StormwaterError):
    """Another refresh holds the store's lock."""


class LockUnavailable(StormwaterError):
    """The lock file cannot be opened, or its filesystem does not support file locks."""


class StoreMissing(StormwaterError):
    """No published version of a dataset exists yet."""


class NothingToRollBack(StormwaterError):
    """A rollback was asked for but no earlier version is kept."""


class QueryError(StormwaterError):
    """A data-layer query failed; the message names the query."""


class PostgresError(StormwaterError):
    """A migration or sync of the PostgreSQL side failed; nothing was half-written."""
