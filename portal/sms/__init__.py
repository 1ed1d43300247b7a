"""SMS: the transactional outbox, the dispatcher that empties it, gateways, delivery reports.

- ``outbox``: ``enqueue`` (rows written in the caller's transaction) and the developer's list;
- ``queue`` and ``dispatcher``: claiming due rows and sending them with retries;
- ``budget``: each office's daily budget (``sms_daily_budget``, by default
  PORTAL_SMS_DAILY_LIMIT) and the platform's ceiling (PORTAL_SMS_PLATFORM_DAILY_LIMIT) over a
  rolling 24 hours: what counts, who waits;
- ``providers/``: ``outbox``, ``webhook``, ``thaibulksms``, ``twilio`` behind one interface;
- ``background``: the dispatcher in ``portal serve``'s lifespan and as ``portal sms worker``;
- ``delivery`` and ``report_routes``: delivery reports from gateways;
- ``history``: a request's messages and the daily budget, for the back office;
- ``texts`` (templates in ``templates/sms/``) and ``routes`` (``/dev/sms``).
"""
