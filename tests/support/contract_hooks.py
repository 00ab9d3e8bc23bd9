"""Schemathesis hooks of the contract runs (loaded through SCHEMATHESIS_HOOKS): an NDJSON upload is text,
sent as generated (the invoice import refuses what is not one invoice a line, per line or with a 4xx)."""

from __future__ import annotations

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
