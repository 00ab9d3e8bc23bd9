"""Request and response models of the credit API, one module per resource.

Money is ``Decimal`` (a JSON string), percentages are 0–100 unless a field says ``fraction``.
Range rules that belong to the domain (factor scores 0–100, non-negative balance-sheet figures,
terms) are checked by ``services.credit.domain`` and ``shared.terms`` so they live in one place;
the models here check shape, types and currency codes."""
