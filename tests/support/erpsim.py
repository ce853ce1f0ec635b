"""A running ERP simulator on 127.0.0.1 with an ephemeral port, for tests."""

import pytest

from promax.erpsim.dataset import build_dataset
from promax.erpsim.server import Simulator

API_KEY = "sim-key-0123456789"
API_SECRET = "sim-secret-9f8e7d6c5b4a"


@pytest.fixture
def simulator():
    server = Simulator(build_dataset(), API_KEY, API_SECRET, host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def lock_dir(tmp_path):
    directory = tmp_path / "erp-locks"
    directory.mkdir()
    return directory


@pytest.fixture
def acme(promax, environ, tmp_path):
    """Organisation ``acme`` with its tenant schema, and an ERP lock directory of its own."""
    environ["PROMAX_ERP_LOCK_DIR"] = str(tmp_path / "erp-locks")
    promax("db", "upgrade")
    return promax("tenant", "create", "acme")
