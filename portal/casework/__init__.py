"""A request's life after filing: status changes and the timeline (DESIGN.md section 6)."""
