"""The add-on tests share the server tests' media fixtures."""

from tests.server.conftest import long_video  # noqa: F401
