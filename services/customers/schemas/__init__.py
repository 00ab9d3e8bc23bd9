"""Request and response models of the customers API, one module per resource."""
