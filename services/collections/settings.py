"""Settings of the collections service: env prefix CREDITFLOW_COLLECTIONS_."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CollectionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_COLLECTIONS_", extra="ignore")
    service_name = "collections"

    default_credit_terms: str = Field(
        "n/30", description="credit terms of an invoice when neither the request nor the customer's contract gives any"
    )
    require_known_customer: bool = Field(
        True, description="refuse invoices for customers the registry has not announced (422)"
    )
    registry_url: str | None = Field(
        None,
        description="customers service base URL: a customer not known yet is asked for there before an invoice"
        " is refused (`creditflow up` sets it)",
    )
    registry_timeout_seconds: float = Field(1.0, gt=0, description="how long to wait for the registry")
    registry_token: SecretStr | None = Field(
        None, description="bearer token for the registry; minted with the HS256 secret when unset"
    )
    sweep_enabled: bool = Field(True, description="run the overdue sweep periodically")
    sweep_chunk_size: int = Field(
        5000,
        ge=1,
        description="cases a sweep examines (and at most moves) per transaction, in id order: a payment on a "
        "case being swept waits at most for one chunk",
    )
    sweep_pipelined: bool = Field(
        True,
        description="PostgreSQL: decide the next chunk on a second connection while a chunk locks and commits "
        "(faster where the database has a free core; off: one connection, one chunk after the other)",
    )
    sweep_interval_seconds: float = Field(3600.0, gt=0, description="seconds between periodic sweeps")
    collectors: list[str] = Field(
        default_factory=lambda: ["collector-1", "collector-2"],
        description="collectors assigned to visits, in turn by case",
    )
    visit_lead_days: int = Field(3, ge=0, description="days between entering the visit stage and the visit")
    creditor_name: str = Field("Credit Control Department", description="signature of collection letters")
    court_name: str = Field("competent people's court", description="court named in litigation filings")
    charge_penalty_interest: bool = Field(
        True,
        description="bill the debtor the penalty interest accrued daily at the policy's rate (it is then "
        "settled before principal); off: the interest is computed, shown and claimed in legal "
        "filings, but a payment of the outstanding principal settles the invoice",
    )
    charge_action_costs: bool = Field(
        True,
        description="bill the debtor the recoverable cost of each collection action once carried out (settled "
        "first; the policy's stages say which are recoverable); off: costs are only recorded for the cost report",
    )
    bulk_invoice_limit: int = Field(10_000, ge=1, description="most invoices in one bulk request")
    import_chunk_lines: int = Field(
        5_000, ge=1, le=10_000, description="lines of an invoice import recorded per transaction (one bulk call)"
    )
    import_max_lines: int = Field(
        1_000_000, ge=1, description="most lines in one invoice import (blank ones too); more is 413"
    )
    import_max_bytes: int = Field(
        2 * 1024**3, ge=1024, description="largest invoice import upload (spooled to a temporary file); more is 413"
    )
    import_max_line_bytes: int = Field(
        16_384, ge=256, description="longest line of an invoice import; a longer line is rejected on its own"
    )
    import_worker_enabled: bool = Field(True, description="process queued invoice imports in this replica")
    import_poll_seconds: float = Field(1.0, gt=0, description="seconds between looks for queued invoice imports")
    import_lease_seconds: float = Field(
        60.0, gt=0, description="how long an import stays claimed by a replica that stopped renewing (crashed)"
    )
    import_max_attempts: int = Field(
        8,
        ge=1,
        description="attempts at one chunk of an invoice import that fails for a reason other than its lines (the "
        "database or the registry away, a bug) before the import ends `failed` (POST …/retry resumes it)",
    )
    import_retry_backoff_seconds: float = Field(
        5.0, gt=0, description="wait before the second attempt at a failed import chunk; doubled at each further one"
    )
    import_max_retry_backoff_seconds: float = Field(
        300.0, gt=0, description="longest wait between two attempts at a failed import chunk"
    )
    billing_intake_enabled: bool = Field(
        True,
        description="apply the invoices billing systems publish on `billing_invoices_topic` (CloudEvents or plain "
        "JSON, the schema of one item of `POST /v1/invoices/bulk`); bad records go to the dead-letter topic",
    )
    billing_invoices_topic: str = Field(
        "creditflow.billing.invoices", min_length=1, description="the topic billing systems publish invoices on"
    )
    billing_wait_for_customer: bool = Field(
        True,
        description="an invoice published for a customer collections has not heard of (nor the registry, when "
        "asked) waits for the customer's registration and is recorded when it arrives; off: it is dead-lettered",
    )
    payment_backdate_window_days: int = Field(
        30, ge=0, description="a payment dated further back than this needs the scope collections:backdate"
    )
    contact_weekly_cap: int = Field(
        3,
        ge=1,
        description="most contacts (letters, visits, calls...) with one customer in any rolling 7 days; "
        "further contacts are deferred until the window frees up",
    )
    contact_quiet_start: time = Field(time(21, 0), description="start of the quiet hours (customer's local time)")
    contact_quiet_end: time = Field(time(8, 0), description="end of the quiet hours (customer's local time)")
    contact_default_time_zone: str = Field(
        "Asia/Shanghai", description="IANA time zone of customers who have not given one"
    )
    cheque_bounce_fee: Decimal = Field(
        Decimal("0"),
        ge=0,
        max_digits=18,
        decimal_places=2,
        description="fee charged to the debtor as a cost when a cheque bounces (0: none)",
    )
