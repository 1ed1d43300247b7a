"""SMS: the transactional outbox, message texts, and the developer's view of the outbox."""
