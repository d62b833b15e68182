"""Errors raised by the data package."""


class DatasetUnavailableError(RuntimeError):
    """No source of a dataset could provide it.

    The message lists every place that was tried, why each failed, and how to
    provide the data.
    """


class SourceUnavailableError(Exception):
    """One source cannot provide its dataset; the message says why."""
