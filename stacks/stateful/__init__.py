"""The stateful stack: the refund table and the refund queue with its dead-letter queue."""
