"""The service catalogue: which services the office offers and what each one's form asks."""
