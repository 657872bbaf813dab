"""The receiver: POST /refunds validates a refund request, stores it as PENDING and queues it."""
