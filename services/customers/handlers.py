"""Events from other services the customers registry reacts to (none yet in the thin slice)."""

from __future__ import annotations

from shared.consumer import HandlerMap

EVENT_HANDLERS: HandlerMap = {}
