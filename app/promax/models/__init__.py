"""Table definitions: the control plane (``control``) and the per-tenant schema (``tenant``)."""
