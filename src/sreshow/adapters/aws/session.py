"""The choke point for every AWS request: one boto3 session per region, its clients,
and the translation of botocore's exceptions into sreshow's (see the package docstring).

boto3 honours `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_<SERVICE>` on
its own, which is how the tests point it at a moto server on 127.0.0.1: nothing here
knows about moto.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import ReadTimeoutError as BotoReadTimeoutError

from sreshow.adapters.aws.names import NO_REGION_FIX, region_from_env
from sreshow.errors import PlatformError, SreshowError, UsageError

NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
    "or run `aws configure` (or `aws sso login`)"
)
# A request waits at most this long to connect and for an answer, three attempts each.
CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"mode": "standard", "max_attempts": 3},
    user_agent_appid="sreshow",
)
_REJECTED_CREDENTIALS = {
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "RequestExpired",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


class AwsError(PlatformError):
    """An AWS request failed. `code` is AWS's error code (the HTTP status, e.g. "500",
    when the answer had none, as from an API a server does not implement)."""

    def __init__(self, message: str, *, service: str, operation: str, code: str) -> None:
        super().__init__(message)
        self.service = service
        self.operation = operation
        self.code = code


@dataclass(frozen=True)
class CallerIdentity:
    """Who the credentials are (STS GetCallerIdentity) and the region acted on."""

    account: str
    arn: str
    user_id: str
    region: str


class AwsSession:
    """One region's boto3 session; build it with `connect()`, which checks the region
    and that credentials exist (no request is sent for that)."""

    def __init__(self, session: Any, region: str) -> None:
        self._session = session
        self.region = region
        self._clients: dict[str, Any] = {}

    @classmethod
    def connect(cls, region: str | None = None) -> AwsSession:
        """A session for `region` (else AWS_REGION, AWS_DEFAULT_REGION, the profile's);
        UsageError without a region or with an unknown profile, PlatformError without
        credentials."""
        region = region_from_env(region, os.environ)
        try:
            session = boto3.session.Session(region_name=region)
            region = region or session.region_name
            credentials = session.get_credentials()
        except ProfileNotFound as e:
            raise UsageError(
                f"AWS_PROFILE={e.kwargs.get('profile', '?')}: no such profile in the AWS "
                "config; run `aws configure --profile NAME` (or `aws configure sso`), or "
                "unset AWS_PROFILE"
            ) from e
        except (SSOError, TokenRetrievalError) as e:
            raise PlatformError(
                f"the AWS SSO session cannot give credentials ({e}); run `aws sso login`"
            ) from e
        except BotoCoreError as e:
            raise PlatformError(f"AWS credentials could not be loaded: {e}") from e
        if not region:
            raise UsageError(f"no AWS region given: {NO_REGION_FIX}")
        if credentials is None:
            raise PlatformError(NO_CREDENTIALS)
        return cls(session, str(region))

    def client(self, service: str) -> Any:
        """boto3's client for `service` in this region (one per service)."""
        if service not in self._clients:
            self._clients[service] = self._session.client(service, config=CLIENT_CONFIG)
        return self._clients[service]

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """`operation` (boto3's snake_case name) on `service`; errors translated."""
        client = self.client(service)
        try:
            answer: dict[str, Any] = getattr(client, operation)(**params)
        except (BotoCoreError, ClientError) as e:
            raise self._translated(e, service, operation) from e
        return answer

    def pages(self, service: str, operation: str, items: str, **params: Any) -> Iterator[Any]:
        """Every item under key `items` of every page of `operation`; errors translated."""
        paginator = self.client(service).get_paginator(operation)
        try:
            for page in paginator.paginate(**params):
                yield from page.get(items, [])
        except (BotoCoreError, ClientError) as e:
            raise self._translated(e, service, operation) from e

    def presigned_url(
        self, service: str, operation: str, *, params: dict[str, Any], expires_in: int
    ) -> str:
        """A signed GET URL for `operation` that anyone holding it can send (nothing is
        sent here); errors translated."""
        client = self.client(service)
        try:
            url: str = client.generate_presigned_url(
                operation, Params=params, ExpiresIn=expires_in, HttpMethod="GET"
            )
        except (BotoCoreError, ClientError) as e:
            raise self._translated(e, service, operation) from e
        return url

    def whoami(self) -> CallerIdentity:
        """The account and ARN the credentials belong to (STS GetCallerIdentity)."""
        answer = self.call("sts", "get_caller_identity")
        return CallerIdentity(
            account=str(answer["Account"]),
            arn=str(answer["Arn"]),
            user_id=str(answer["UserId"]),
            region=self.region,
        )

    def _translated(self, error: Exception, service: str, operation: str) -> SreshowError:
        """botocore's `error` as sreshow's own exception."""
        client = self.client(service)
        api_name = client.meta.method_to_api_mapping.get(operation, operation)
        return translate(error, service, api_name, endpoint=client.meta.endpoint_url)


def translate(error: Exception, service: str, api_name: str, *, endpoint: str) -> SreshowError:
    """botocore's `error` from `service`'s `api_name` at `endpoint` as a one-line sreshow
    error naming the cause and the fix."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return PlatformError(NO_CREDENTIALS)
    if isinstance(error, NoRegionError):
        return UsageError(f"no AWS region given: {NO_REGION_FIX}")
    if isinstance(error, SSOError | TokenRetrievalError):
        return PlatformError(f"the AWS SSO session has expired ({error}); run `aws sso login`")
    if isinstance(error, BotoConnectionError | BotoReadTimeoutError):
        return AwsError(
            f"AWS {service} at {endpoint} did not answer {api_name} ({error}); check the "
            "network, the region, and AWS_ENDPOINT_URL if you set one",
            service=service,
            operation=api_name,
            code="unreachable",
        )
    if isinstance(error, ClientError):
        return _client_error(error, service, api_name)
    return AwsError(
        f"AWS {service} {api_name} failed: {error}",
        service=service,
        operation=api_name,
        code=type(error).__name__,
    )


def _client_error(error: Any, service: str, api_name: str) -> AwsError:
    details = error.response.get("Error", {})
    code = str(
        details.get("Code")
        or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "unknown")
    )
    # AWS's messages are one line; a server that answers HTML (moto's 500) is not
    cause = " ".join(str(details.get("Message", "")).split())[:200]
    if code in _REJECTED_CREDENTIALS:
        message = (
            f"AWS rejected the credentials calling {service} {api_name} ({code}: {cause}); "
            "refresh them (`aws sso login`, or new AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) "
            "and retry"
        )
    elif code in _DENIED:
        message = (
            f"AWS denied {service}:{api_name} to these credentials ({code}); grant that "
            "permission to the identity `aws sts get-caller-identity` shows, or use another "
            "profile"
        )
    else:
        message = f"AWS {service} {api_name} failed ({code}: {cause or 'no message'})"
    return AwsError(message, service=service, operation=api_name, code=code)
