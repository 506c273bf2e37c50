"""Fixtures of the terraform tier's AWS side: one moto server per module, emptied and
pointed at for each test, in an environment with no AWS setting of the developer's."""

from __future__ import annotations

from tests.terraform.moto_server import aws_env, moto

__all__ = ["aws_env", "moto"]  # the fixtures, for every test module here
