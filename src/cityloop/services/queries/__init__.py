"""The read side: work queues, case search, case pages (DESIGN.md layout)."""
