"""Running the portal in production: health, readiness, metrics, checks and backups.

Request ids and the log line format are web plumbing (``portal.web.request_id``,
``portal.web.log_format``); the gateway here puts them around the app.
"""
