"""AWS through boto3: the one place sreshow talks to the AWS API.

    session.py     AwsSession: region and credential checks, `whoami()`, and `call()` /
                   `pages()`, the choke point every request goes through; botocore's
                   errors become sreshow's there (`raise ... from e`):
                     NoCredentialsError, PartialCredentialsError  -> PlatformError (exit 3)
                     NoRegionError, ProfileNotFound               -> UsageError (exit 2)
                     ClientError, connection and timeout errors   -> AwsError (exit 3)
    token.py       `sreshow eks-token`: the EKS bearer token (a presigned STS URL) as a
                   kubectl ExecCredential, cached; imports boto3 only on a cache miss
    token_cache.py the token cache and the ExecCredential, with no boto3 import
    names.py       cluster and region names checked before any request (no boto3)
    eks.py         describe_cluster(), write_kubeconfig() (an exec plugin, no AWS CLI)
    preflight.py   the checks the API can answer before an apply (quotas, AZs, clashes)
    orphans.py     resources tagged `managed-by=sreshow` that are still there

Nothing here is imported by `sreshow --help`: boto3 takes ~0.2 s to import.
"""

# The tags the Terraform configuration puts on every resource (`terraform/`): fixed.
TAG_MANAGED_BY = "managed-by"
MANAGED_BY_SRESHOW = "sreshow"
TAG_OWNER = "sreshow/owner"
TAG_RUN_ID = "sreshow/run-id"
TAG_EXPIRES_AT = "sreshow/expires-at"
