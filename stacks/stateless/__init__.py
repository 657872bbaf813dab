"""The stateless stack: the REST API and the receiver, processor and status reader functions."""
