"""The office itself: how citizens reach it (the contact page)."""
