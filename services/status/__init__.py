"""The status reader: GET /refunds/{refundId} shows a refund as it is stored."""
