"""Fixtures shared by the tests of several folders under tests/yantai."""
from tests.yantai.app_town import app_town  # noqa: F401 - a fixture
from tests.yantai.credit_city import city  # noqa: F401 - a fixture
from tests.yantai.request_town import town  # noqa: F401 - a fixture
