"""Packaging for the ProMax application (the ``promax`` package under app/)."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements():
    """Return the pinned runtime requirements, without comments."""
    lines = (HERE / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


setup(
    name="promax",
    version="0.1.0",
    description="Self-hosted analytics appliance over a Frappe/ERPNext ERP",
    python_requires=">=3.11",
    package_dir={"": "app"},
    packages=find_packages("app"),
    include_package_data=True,
    package_data={
        "promax": [
            "templates/*.jinja2",
            "static/*",
            "migrations/*/script.py.mako",
            "migrations/*/versions/*.py",
            "auth/common-passwords.txt",
        ],
    },
    install_requires=read_requirements(),
    entry_points={
        "console_scripts": ["promax = promax.cli:main"],
        "paste.app_factory": ["main = promax:main"],
    },
)
