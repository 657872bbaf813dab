"""The processor: decides queued refunds, pays approvals, records each decision."""
