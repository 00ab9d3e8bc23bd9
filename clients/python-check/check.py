"""Against a running customers service: the generated Python client parses a 404 as a typed Problem,
and a created customer as CustomerRead. Run by run.sh with the generated packages on sys.path."""

from __future__ import annotations

import os
import sys
import uuid
from http import HTTPStatus

from customers_client import AuthenticatedClient
from customers_client.api.customers import create_customer, get_customer
from customers_client.models import CustomerCreate, CustomerRead, Problem


def main() -> int:
    client = AuthenticatedClient(base_url=os.environ["CREDITFLOW_CUSTOMERS_URL"], token=os.environ["CREDITFLOW_TOKEN"])
    missing = get_customer.sync_detailed(customer_id=uuid.uuid4(), client=client)
    assert missing.status_code == HTTPStatus.NOT_FOUND, missing.status_code
    assert isinstance(missing.parsed, Problem), type(missing.parsed)
    assert missing.parsed.status == 404 and missing.parsed.type_.endswith("/not-found"), missing.parsed
    print(f"404 parsed as Problem: {missing.parsed.title!r}, request {missing.parsed.request_id}")
    body = CustomerCreate.from_dict({"name": f"Python check {uuid.uuid4().hex[:6]}", "kind": "commercial"})
    created = create_customer.sync_detailed(client=client, body=body)
    assert isinstance(created.parsed, CustomerRead), (created.status_code, created.content[:300])
    print(f"201 parsed as CustomerRead: {created.parsed.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
