"""SMS one-time codes: issuing, checking and the limits that keep them from being abused."""
