"""Code every refund function shares: the refund record, the request contract, the adapters."""
