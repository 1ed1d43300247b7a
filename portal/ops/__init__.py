"""Running the portal in production: health, readiness, metrics, request ids and logs."""
