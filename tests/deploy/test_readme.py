"""deploy/README.md: its settings table is what the settings classes say, and it covers what operators need."""

from __future__ import annotations

import re

import pytest

from services.credit.settings import CreditSettings
from shared.settings import EMBEDDED_JWT_SECRET
from tests.deploy.support import DEPLOY, SETTINGS, load_module

generator = load_module(DEPLOY / "gen_settings_table.py", "creditflow_deploy_gen_settings_table")
README_TEXT = (DEPLOY / "README.md").read_text(encoding="utf-8")


def test_settings_table_is_current() -> None:
    """Fails after a setting is added, removed or redescribed until gen_settings_table.py --write is run."""
    assert generator.with_table(README_TEXT, generator.settings_table()) == README_TEXT


def test_settings_table_lists_every_field_of_every_service() -> None:
    table = generator.settings_table()
    for service, settings_class in SETTINGS.items():
        for name in settings_class.model_fields:
            common = f"`CREDITFLOW_<SERVICE>_{name.upper()}`"
            own = f"`CREDITFLOW_{service.upper()}_{name.upper()}`"
            assert common in table or own in table, f"{service}.{name}"


def test_a_stale_table_is_noticed() -> None:
    stale = README_TEXT.replace("| `CREDITFLOW_<SERVICE>_HOST` |", "| `CREDITFLOW_<SERVICE>_HOSTNAME` |", 1)
    assert stale != README_TEXT
    assert generator.with_table(stale, generator.settings_table()) != stale


def test_table_never_prints_a_secret_default() -> None:
    assert EMBEDDED_JWT_SECRET not in generator.settings_table()


class FakeCreditSettings(CreditSettings):
    """credit with a setting of its own, and another default for a setting every service has."""

    fake_only_setting: float = 60.0
    port: int = 9002


def test_service_specific_settings_name_their_service() -> None:
    table = generator.settings_table({**SETTINGS, "credit": FakeCreditSettings})
    (row,) = [line for line in table.splitlines() if "FAKE_ONLY_SETTING" in line]
    assert row.startswith("| `CREDITFLOW_CREDIT_FAKE_ONLY_SETTING` | float | `60.0` | credit |")


def test_a_default_that_differs_by_service_gets_its_own_row() -> None:
    table = generator.settings_table({**SETTINGS, "credit": FakeCreditSettings})
    port_rows = [line for line in table.splitlines() if line.startswith("| `CREDITFLOW_") and "_PORT` " in line]
    assert len(port_rows) == 2
    assert any(row.startswith("| `CREDITFLOW_CREDIT_PORT` | int | `9002` | credit |") for row in port_rows)
    assert any(
        row.startswith(
            "| `CREDITFLOW_CUSTOMERS_PORT` `CREDITFLOW_COLLECTIONS_PORT` `CREDITFLOW_SURVEY_PORT`"
            " | int | `0` | customers, collections, survey |"
        )
        for row in port_rows
    )


@pytest.mark.parametrize(
    "heading",
    [
        "## The image",
        "## Docker Compose (one host)",
        "## Kubernetes",
        "### Secrets to create (none are committed)",
        "## Settings",
        "## How replicas share the work",
        "## Scaling",
        "## Backup and restore",
        "## Upgrades and migrations",
        "## Metrics and logs",
    ],
)
def test_operations_guide_has_section(heading: str) -> None:
    assert re.search(rf"^{re.escape(heading)}$", README_TEXT, re.MULTILINE)


def test_compose_variables_in_the_guide_are_those_the_compose_file_reads() -> None:
    compose_text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    read = set(re.findall(r"\$\{((?:CREDITFLOW|CONSOLE)_[A-Z_]+)", compose_text))
    assert "CONSOLE_OIDC_ISSUER" in read
    section = README_TEXT.split("## Docker Compose (one host)")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `((?:CREDITFLOW|CONSOLE)_[A-Z_]+)` \|", section, re.MULTILINE))
    assert documented == read
