"""STS GetCallerIdentity: the account comes from the access key."""
import pytest

from conftest import make_client


@pytest.mark.parametrize("access_key,account", [
    ("test", "000000000000"),          # not an account id: the server's default account
    ("123456789012", "123456789012"),  # a 12-digit key is its own account
])
def test_get_caller_identity(endpoint, access_key, account):
    sts = make_client(endpoint, "sts", access_key=access_key)
    identity = sts.get_caller_identity()
    assert sts.protocol == "query"
    assert (identity["Account"], identity["UserId"], identity["Arn"]) == (
        account, account, f"arn:aws:iam::{account}:root")
    assert identity["ResponseMetadata"]["HTTPStatusCode"] == 200
