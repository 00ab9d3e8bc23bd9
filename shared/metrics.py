"""Prometheus metrics of the suite, labelled by service so one process can host several apps in tests."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "creditflow_http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "creditflow_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PUBLISHED = Counter("creditflow_outbox_published_total", "Outbox events published", ["service"])
OUTBOX_FAILURES = Counter("creditflow_outbox_relay_failures_total", "Relay batches that failed", ["service"])
OUTBOX_REPLAYED = Counter(
    "creditflow_outbox_replayed_total", "Outbox events marked for republishing after broker loss", ["service"]
)
OUTBOX_PENDING = Gauge("creditflow_outbox_pending", "Outbox events not yet published", ["service"])
CONSUMED = Counter(
    "creditflow_consumer_messages_total", "Consumed messages by outcome", ["service", "topic", "outcome"]
)
CONSUMER_LATENCY = Histogram(
    "creditflow_consumer_batch_duration_seconds", "Time to apply one fetched batch", ["service"]
)
JOB_RUNS = Counter("creditflow_job_runs_total", "Periodic job runs", ["service", "job", "outcome"])

# What an on-call engineer alerts on (deploy/ alerts use these exact names).
OUTBOX_OLDEST_AGE = Gauge(
    "creditflow_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest outbox event not yet published (0 when none is waiting)",
    ["service"],
)
CONSUMER_LAG = Gauge(
    "creditflow_consumer_lag",
    "Messages behind the partition's high watermark, per consumer group",
    ["topic", "partition", "group"],
)
DLQ_MESSAGES = Gauge(
    "creditflow_dlq_messages",
    "Messages on the service's dead-letter topic (its depth; raised at once when a message is parked)",
    ["service", "topic"],
)
CONSUMER_RETRYING = Gauge(
    "creditflow_consumer_retrying",
    "1 while the consumer waits to retry a transient failure (partitions paused)",
    ["service"],
)
CONSUMER_RETRIES = Counter(
    "creditflow_consumer_retries_total", "Transient failures after which the consumer paused and retried", ["service"]
)
IMPORT_CHUNK_FAILURES = Counter(
    "creditflow_invoice_import_chunk_failures_total",
    "Failed attempts at a chunk of an invoice import (outcome: retrying after a backoff, or failed: the import ended)",
    ["service", "outcome"],
)
