"""The whole refund system on one machine, assembled from the synthesized stacks (`make local`)."""
