"""PDPA duties: the privacy notice, protected citizen IDs, retention and data-subject access."""
