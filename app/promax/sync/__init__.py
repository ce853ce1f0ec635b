"""Incremental copy of ERP documents into an organisation's tenant schema."""
