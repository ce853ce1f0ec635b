"""The read-only ERP client against the simulator: methods, retries, errors, concurrency."""

import json
import logging
import multiprocessing
import threading
import time

import pytest
from support.erpsim import API_KEY, API_SECRET

from promax.erp.client import ErpAuthError, ErpClient, ErpError, ErpNotFound, ErpReadOnlyError
from promax.erp.limiter import AccountSemaphore, SlotTimeout, account_id
from promax.erpsim.dataset import build_dataset
from promax.erpsim.server import Simulator


class SleepRecorder:
    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


def make_client(simulator, lock_dir, secret=API_SECRET, sleep=None):
    return ErpClient(
        simulator.url, API_KEY, secret, lock_dir=lock_dir, sleep=sleep or SleepRecorder()
    )


@pytest.mark.claim("C-5.4b")
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_non_get_raises_before_io(simulator, lock_dir, method):
    client = make_client(simulator, lock_dir)

    with pytest.raises(ErpReadOnlyError):
        client.request(method, "/api/resource/Customer")
    with pytest.raises(ErpReadOnlyError):
        client.session.request(method, simulator.url + "/api/resource/Customer")

    assert sum(simulator.app.methods.values()) == 0


@pytest.mark.claim("C-5.4b")
def test_simulator_counts_rejected_methods(simulator):
    import urllib.request

    request = urllib.request.Request(simulator.url + "/api/resource/Customer", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)

    assert raised.value.code == 405
    assert simulator.app.rejected_methods == 1


@pytest.mark.claim("C-5.4d")
def test_429_retry_delays_are_1_2_4(simulator, lock_dir):
    sleep = SleepRecorder()
    client = make_client(simulator, lock_dir, sleep=sleep)
    simulator.app.inject(429, count=3)

    assert client.get_logged_user() == "promax-reader@example.com"
    assert sleep.delays == [1, 2, 4]


@pytest.mark.claim("C-5.4d")
def test_429_retry_waits_real_seconds(simulator, lock_dir):
    """With the real sleep, the simulator sees the retries 1, 2 and 4 seconds apart."""
    client = make_client(simulator, lock_dir, sleep=time.sleep)
    simulator.app.inject(429, count=3)

    client.get_logged_user()

    arrivals = [moment for moment, _status, _path in simulator.app.timeline]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    assert [status for _moment, status, _path in simulator.app.timeline] == [429, 429, 429, 200]
    for gap, expected in zip(gaps, [1, 2, 4]):
        assert expected <= gap < expected + 0.5


@pytest.mark.claim("C-5.4d")
def test_retry_after_is_honoured_and_capped(simulator, lock_dir):
    sleep = SleepRecorder()
    client = make_client(simulator, lock_dir, sleep=sleep)
    simulator.app.inject(429, count=1, retry_after=7)
    simulator.app.inject(429, count=1, retry_after=3600)

    client.get_logged_user()

    assert sleep.delays == [7, 60]


@pytest.mark.claim("C-5.4d")
def test_429_gives_up_after_three_retries(simulator, lock_dir):
    sleep = SleepRecorder()
    client = make_client(simulator, lock_dir, sleep=sleep)
    simulator.app.inject(429, count=4)

    with pytest.raises(ErpError) as raised:
        client.get_logged_user()

    assert raised.value.status == 429
    assert sleep.delays == [1, 2, 4]


def test_503_is_retried(simulator, lock_dir):
    sleep = SleepRecorder()
    client = make_client(simulator, lock_dir, sleep=sleep)
    simulator.app.inject(503, count=2)

    assert client.get_logged_user() == "promax-reader@example.com"
    assert sleep.delays == [1, 2]


def test_connection_error_is_retried_then_raised(lock_dir):
    sleep = SleepRecorder()
    # Port 9 on loopback: nothing listens there, so every connect is refused.
    client = ErpClient("http://127.0.0.1:9", API_KEY, API_SECRET, lock_dir=lock_dir, sleep=sleep)

    with pytest.raises(ErpError) as raised:
        client.get_logged_user()

    assert "ConnectionError" in str(raised.value)
    assert sleep.delays == [1, 2, 4]


@pytest.mark.claim("C-3.2c")
def test_retry_logs_hold_no_credentials(simulator, lock_dir, caplog):
    client = make_client(simulator, lock_dir)
    simulator.app.inject(429, count=2)

    with caplog.at_level(logging.DEBUG):
        client.get_logged_user()

    retries = [record for record in caplog.records if record.getMessage() == "ERP request retried"]
    assert len(retries) == 2
    for record in caplog.records:
        text = json.dumps(record.__dict__, default=str)
        assert API_SECRET not in text
        assert API_KEY not in text


@pytest.mark.claim("C-3.2c")
def test_bad_secret_gives_auth_error_without_secret(simulator, lock_dir):
    client = make_client(simulator, lock_dir, secret="wrong-secret-value")

    with pytest.raises(ErpAuthError) as raised:
        client.list_documents("Customer")

    assert raised.value.status == 401
    assert "wrong-secret-value" not in str(raised.value)
    assert API_KEY not in str(raised.value)
    assert "wrong-secret-value" not in repr(client.session.auth)


def test_unknown_doctype_is_not_found(simulator, lock_dir):
    client = make_client(simulator, lock_dir)

    with pytest.raises(ErpNotFound):
        client.list_documents("Quotation")
    with pytest.raises(ErpNotFound):
        client.get_document("Sales Invoice", "ACC-SINV-1999-00001")


def test_list_and_get_document(simulator, lock_dir):
    client = make_client(simulator, lock_dir)

    page = client.list_documents(
        "Sales Invoice",
        fields=["name", "grand_total", "modified"],
        filters=[["docstatus", "=", 1]],
        order_by="modified asc, name asc",
        limit_page_length=5,
    )
    document = client.get_document("Sales Invoice", page[0]["name"])

    assert len(page) == 5
    assert document["grand_total"] == page[0]["grand_total"]
    assert sum(row["amount"] for row in document["items"]) == document["grand_total"]


def _hold_requests(url, lock_dir, count):
    client = ErpClient(url, API_KEY, API_SECRET, lock_dir=lock_dir)
    threads = [threading.Thread(target=client.get_logged_user) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.claim("C-5.4c")
def test_four_concurrent_requests_across_processes(lock_dir):
    simulator = Simulator(
        build_dataset(), API_KEY, API_SECRET, host="127.0.0.1", port=0, latency_seconds=0.2
    ).start()
    try:
        context = multiprocessing.get_context("fork")
        workers = [
            context.Process(target=_hold_requests, args=(simulator.url, str(lock_dir), 4))
            for _ in range(3)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)

        assert [worker.exitcode for worker in workers] == [0, 0, 0]
        assert simulator.app.methods["GET"] == 12
        assert simulator.app.max_in_flight == 4
    finally:
        simulator.stop()


@pytest.mark.claim("C-5.4c")
def test_fifth_slot_waits(lock_dir):
    account = account_id("https://erp.example.com", "key")
    semaphore = AccountSemaphore(lock_dir, account, poll_seconds=0.01, timeout_seconds=0.2)
    held = [semaphore.acquire() for _ in range(4)]

    with pytest.raises(SlotTimeout):
        semaphore.acquire()

    semaphore.release(held.pop())
    semaphore.release(semaphore.acquire())
    for descriptor in held:
        semaphore.release(descriptor)
    assert sorted(path.name for path in (lock_dir / account).iterdir()) == [
        f"slot-{index}.lock" for index in range(4)
    ]


@pytest.mark.claim("C-5.4c")
def test_accounts_have_separate_slots(lock_dir):
    first = AccountSemaphore(lock_dir, account_id("https://a.example.com", "key"), timeout_seconds=0.1)
    second = AccountSemaphore(lock_dir, account_id("https://b.example.com", "key"), timeout_seconds=0.1)
    held = [first.acquire() for _ in range(4)]

    descriptor = second.acquire()

    second.release(descriptor)
    for each in held:
        first.release(each)
