"""A Frappe-like ERP simulator with a seeded demo dataset, for tests and demonstrations."""
