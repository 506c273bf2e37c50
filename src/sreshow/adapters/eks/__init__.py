"""The `eks` platform: the shipped Terraform configuration (`configuration.py`) and its
lifecycle (`lifecycle.py`)."""
