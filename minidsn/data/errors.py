"""The one exception type of minidsn.data: a missing, malformed or unverifiable data file (message names it)."""


class DataError(RuntimeError):
    """A data file is missing, malformed, fails its checksum, or cannot be downloaded."""
