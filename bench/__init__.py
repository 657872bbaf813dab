"""`make bench`: each figure measured against a baseline taken in the same run, on this machine."""
