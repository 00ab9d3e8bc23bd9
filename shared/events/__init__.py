"""Every event type of the suite. Importing this package fills ``EVENT_TYPES``."""

from shared.events import collections, credit, customers, survey
from shared.events.base import EVENT_TYPES, Envelope, Event

__all__ = ["EVENT_TYPES", "Envelope", "Event", "collections", "credit", "customers", "survey"]
