"""Shared settings of the testinfra suite that checks a converged appliance."""


def pytest_configure(config):
    """Register the claim marker, which links a test to a security-policy claim id."""
    config.addinivalue_line(
        "markers",
        "claim(id): the security-policy claim (C-x.yz) that a test proves",
    )
