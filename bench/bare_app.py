"""The baseline of the GET bench: a bare FastAPI endpoint returning a small JSON document by id."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, HTTPException

app = FastAPI()
ITEM_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
ITEMS = {ITEM_ID: {"id": str(ITEM_ID), "name": "Acme Trading Co.", "kind": "commercial", "lifecycle": "active"}}


@app.get("/items/{item_id}")
async def get_item(item_id: uuid.UUID) -> dict[str, str]:
    item = ITEMS.get(item_id)
    if item is None:
        raise HTTPException(404)
    return item
