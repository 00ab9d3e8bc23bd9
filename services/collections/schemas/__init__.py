"""Request and response models of the collections API, one module per concern."""
