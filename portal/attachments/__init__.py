"""Photos and PDFs citizens attach to a request, and staff's "after" photos (issue 9).

This package holds what every audience shares: the store (``storage``), the checks and
re-encoding (``processing``), the rows (``records``), the citizen's pending uploads
(``pending``, ``form_uploads``), staff's photos (``after_photos``), a request's media
(``media``) and reading files with their access checks (``downloads``). The routes live with
their audience: ``citizen.upload_routes``, ``tracking.attachment_routes``,
``staff.attachment_routes``; nothing here imports them.
"""
