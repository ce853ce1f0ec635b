"""Runtime dependencies: few, pinned, and no JavaScript build step."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def runtime_requirements():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.claim("C-7.2a")
def test_every_runtime_dependency_is_pinned():
    requirements = runtime_requirements()

    assert requirements
    for requirement in requirements:
        assert "==" in requirement, f"{requirement} is not pinned to one version"


@pytest.mark.claim("C-7.2a")
def test_no_javascript_build_step():
    assert not list(ROOT.glob("package.json"))
    assert not list((ROOT / "app").rglob("package.json"))
    assert not list((ROOT / "app").rglob("node_modules"))


@pytest.mark.claim("C-7.2a")
def test_pages_load_assets_from_the_appliance_only():
    templates = (ROOT / "app" / "promax" / "templates").glob("*.jinja2")

    for template in templates:
        text = template.read_text()
        assert "http://" not in text, template.name
        assert "https://" not in text, template.name
        assert "//cdn" not in text, template.name
