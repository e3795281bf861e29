"""Django's PostgreSQL backend with one change, in base.py (ENGINE `peatio_mgmt.postgresql`)."""
