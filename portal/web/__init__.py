"""The HTTP plumbing every feature's pages use: rendering, errors, security headers, cookies,
body limits, request ids and log lines, the language switch.

It imports only the foundation (settings, database) and ``portal.kernel``, never a feature:
what a template needs from a feature (say, how long an OTP code lasts) is handed to
``templating.configure_environment`` as a plain value by ``create_app``.
"""
