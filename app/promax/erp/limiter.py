"""A host-wide limit on concurrent requests per ERP account, built on flock(2).

Each account gets a directory of SLOTS lock files. A request holds an
exclusive flock on one slot file while it runs. flock locks belong to the
open file description, so the limit holds across threads and processes that
share the directory, and the kernel releases a slot when its holder dies.
"""

import fcntl
import hashlib
import logging
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

SLOTS = 4
DEFAULT_LOCK_DIR = "/run/promax/erp-locks"
LOCK_DIR_ENV = "PROMAX_ERP_LOCK_DIR"
LOCK_DIR_SETTING = "promax.erp_lock_dir"


class SlotTimeout(Exception):
    """Raised when no request slot of an ERP account became free in time."""


def account_id(site_url: str, api_key: str) -> str:
    """Return the 16-hex-digit id of an ERP account; it reveals neither the URL nor the key."""
    digest = hashlib.sha256(site_url.encode("utf-8") + b"\0" + api_key.encode("utf-8"))
    return digest.hexdigest()[:16]


def _usable(directory: Path) -> bool:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def resolve_lock_dir(settings=None, environ=None) -> Path:
    """Return the lock directory: the configured one, else the default, else a temp directory.

    A directory set in PROMAX_ERP_LOCK_DIR or the ``promax.erp_lock_dir`` INI key
    must be usable, or this raises OSError. Only the default falls back, to
    ``<tempdir>/promax-erp-locks-<uid>``, which limits the processes of this
    user only, and logs a warning.
    """
    environ = os.environ if environ is None else environ
    configured = environ.get(LOCK_DIR_ENV)
    if not configured and settings is not None:
        configured = settings.extra.get(LOCK_DIR_SETTING)
    if configured:
        directory = Path(configured)
        if not _usable(directory):
            raise OSError(f"ERP lock directory {directory} cannot be created or is not writable")
        return directory

    directory = Path(DEFAULT_LOCK_DIR)
    if _usable(directory):
        return directory
    fallback = Path(tempfile.gettempdir()) / f"promax-erp-locks-{os.getuid()}"
    if not _usable(fallback):
        raise OSError(f"neither {directory} nor {fallback} is usable as the ERP lock directory")
    log.warning(
        "default ERP lock directory is not writable; using a per-user temporary directory",
        extra={"default_lock_dir": str(directory), "lock_dir": str(fallback)},
    )
    return fallback


class AccountSemaphore:
    """At most ``slots`` holders at once per account, across every process on the host."""

    def __init__(self, lock_dir, account, *, slots=SLOTS, poll_seconds=0.05, timeout_seconds=300):
        self.directory = Path(lock_dir) / account
        self.account = account
        self.slots = slots
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _try_slot(self, index):
        path = self.directory / f"slot-{index}.lock"
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        return descriptor

    def acquire(self):
        """Take a free slot, polling until one frees up; return its file descriptor."""
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            for index in range(self.slots):
                descriptor = self._try_slot(index)
                if descriptor is not None:
                    return descriptor
            if time.monotonic() >= deadline:
                raise SlotTimeout(
                    f"no ERP request slot of account {self.account} became free within "
                    f"{self.timeout_seconds} s"
                )
            time.sleep(self.poll_seconds)

    @staticmethod
    def release(descriptor):
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)

    @contextmanager
    def slot(self):
        descriptor = self.acquire()
        try:
            yield
        finally:
            self.release(descriptor)
