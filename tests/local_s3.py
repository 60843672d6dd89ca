"""A local S3-compatible server (moto in server mode) for the storage tests and the cluster.

In the test process it runs as a thread (`LocalS3().start()`); the cluster runs moto's
`moto_server` command as its own process. Either way boto3 talks real S3 HTTP to it.
"""

from __future__ import annotations

from moto.server import ThreadedMotoServer

REGION = "ap-south-1"
# moto accepts any credentials; boto3 insists on having some.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "adremix-local", "AWS_SECRET_ACCESS_KEY": "adremix-local"}


def s3_environment(endpoint_url: str, bucket: str) -> dict[str, str]:
    """The settings that point the app's storage at `bucket` on this endpoint."""
    return {
        "ADREMIX_S3_BUCKET": bucket,
        "ADREMIX_S3_ENDPOINT_URL": endpoint_url,
        "ADREMIX_S3_REGION": REGION,
        **CREDENTIALS,
    }


def create_bucket(endpoint_url: str, bucket: str) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})


class LocalS3:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> LocalS3:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def environment(self, bucket: str) -> dict[str, str]:
        return s3_environment(self.endpoint_url, bucket)

    def create_bucket(self, bucket: str) -> None:
        create_bucket(self.endpoint_url, bucket)
