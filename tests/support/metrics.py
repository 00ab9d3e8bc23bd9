"""Reading a service's /metrics in tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.support.harness import ServiceHarness


async def scrape(harness: ServiceHarness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on the service's /metrics, keyed by (name, sorted labels)."""
    text = (await harness.client.get("/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
