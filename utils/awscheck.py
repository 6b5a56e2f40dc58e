"""Before anything costs money: can this machine use AWS, where would the lab go, and for how much?

    python -m utils.awscheck        # or: make check-aws

Only reads (STS GetCallerIdentity, then Head/Get/Describe calls): it creates nothing and
costs nothing. It tells a learner

- whether their AWS credentials work, and as whom (account, ARN);
- which region (and, if ``AWS_ENDPOINT_URL`` is set, which endpoint) they are about to use;
- whether each lab resource exists: the two buckets, the IAM role, the database secret,
  the RDS instance, the Glue database, connection, job and crawler, the Athena workgroup's
  output location;
- what ``terraform apply`` in infra/terraform creates and roughly what the lab costs, from
  :data:`PRICES` (list prices, with their date and source).

With no credentials it says so in one line (exit status 2), without a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from utils.config import (
    DB_SECRET_NAME,
    GLUE_CONNECTION,
    GLUE_CRAWLER,
    GLUE_DATABASE,
    GLUE_JOB,
    GLUE_ROLE,
    RDS_INSTANCE_ID,
    SETTINGS,
    Settings,
    get_settings,
)

# ------------------------------------------------------------------------------- prices

PRICES_AS_OF = "2026-10"
PRICES_SOURCE = ("AWS public list prices for us-east-1 (aws.amazon.com/<service>/pricing), read "
                 f"{PRICES_AS_OF}; other regions differ by a few percent. "
                 "Check them before you rely on them.")


@dataclass(frozen=True)
class Price:
    """One list price the lab's cost depends on."""

    item: str
    usd: float
    unit: str


PRICES: tuple[Price, ...] = (
    Price("Glue job (Glue 5.0, 2 x G.1X = 2 DPU)", 0.44, "per DPU-hour, billed per second, 1-minute minimum"),
    Price("Glue crawler", 0.44, "per DPU-hour, billed per second, 10-minute minimum per run"),
    Price("Glue Data Catalog", 0.0, "first million objects stored and requests per month free"),
    Price("Athena SQL queries", 5.00, "per TB scanned, 10 MB minimum per query"),
    Price("S3 Standard storage", 0.023, "per GB-month"),
    Price("S3 PUT/COPY/LIST requests", 0.005, "per 1,000 requests (GET: $0.0004 per 1,000)"),
    Price("KMS requests (AWS managed key aws/s3)", 0.03, "per 10,000 requests; the key itself is free"),
    Price("Secrets Manager secret", 0.40, "per secret-month, prorated by the hour, + $0.05 per 10,000 calls"),
    Price("RDS MySQL db.t3.micro, Single-AZ (not created here)", 0.017,
          "per hour while it exists, + $0.115 per GB-month of storage"),
    Price("NAT gateway (only if your VPC needs one)", 0.045, "per hour while it exists, + $0.045 per GB"),
)

# One lab session: 3 job runs of ~2 minutes, 2 crawls, 50 Athena queries, a day of the secret.
SESSION_ESTIMATE_USD = (3 * 2 * (2 / 60) * 0.44      # job: 2 DPU x 2 min x 3 runs
                        + 2 * 1 * (10 / 60) * 0.44   # crawler: >= 1 DPU x 10-min minimum x 2 runs
                        + 50 * 10e-6 * 5.00          # Athena: 50 queries at the 10 MB minimum
                        + 0.40 / 30)                 # the secret for a day


# ------------------------------------------------------------------------------ checking


@dataclass(frozen=True)
class ResourceStatus:
    """Whether one lab resource exists, and a detail (its state, or what creates it)."""

    kind: str
    name: str
    exists: bool | None  # None: could not be told (no permission, or an error)
    detail: str = ""

    def line(self) -> str:
        """``  [exists ] glue job   de-c1w2-etl-job   Glue 5.0 glueetl``."""
        mark = {True: "exists ", False: "missing", None: "unknown"}[self.exists]
        return f"  [{mark}] {self.kind:<24} {self.name}" + (f"  ({self.detail})" if self.detail else "")


@dataclass
class AwsCheck:
    """The outcome of :func:`check`."""

    ok: bool
    problem: str = ""  # one line when credentials or the endpoint do not work
    account: str = ""
    arn: str = ""
    region: str = ""
    endpoint: str = ""
    target: str = ""
    resources: list[ResourceStatus] = field(default_factory=list)

    def resource(self, kind: str) -> ResourceStatus:
        """The status of the (first) resource of ``kind``."""
        return next(r for r in self.resources if r.kind == kind)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _aws_settings(account: str) -> Settings:
    """The lab's settings as they would be with ``DELAB_TARGET=aws`` in this account."""
    with _environment(DELAB_TARGET="aws", DELAB_AWS_ACCOUNT=account):
        return get_settings()


def _status(kind: str, name: str, probe: Callable[[], str | None], missing_codes: tuple[str, ...],
            creator: str) -> ResourceStatus:
    """Run ``probe`` (a read); it returns a detail when the resource exists."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return ResourceStatus(kind, name, True, probe() or "")
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code in missing_codes:
            return ResourceStatus(kind, name, False, f"created by {creator}")
        if code in ("403", "AccessDenied", "Forbidden") and kind == "s3 bucket":
            return ResourceStatus(kind, name, None, "the name is taken by another account, or you may not "
                                  "read it: set DELAB_DATA_LAKE_BUCKET / DELAB_SCRIPTS_BUCKET to free names")
        return ResourceStatus(kind, name, None, f"{code or 'error'}: could not tell")
    except BotoCoreError as exc:
        return ResourceStatus(kind, name, None, f"{type(exc).__name__}: could not tell")


def resource_statuses(settings: Settings) -> list[ResourceStatus]:
    """Every lab resource, read-only, in the order the lab uses them."""
    import boto3

    region = settings.region
    s3, iam = boto3.client("s3", region_name=region), boto3.client("iam", region_name=region)
    secrets, rds = boto3.client("secretsmanager", region_name=region), boto3.client("rds", region_name=region)
    glue, athena = boto3.client("glue", region_name=region), boto3.client("athena", region_name=region)
    tf = "terraform apply (infra/terraform)"

    def bucket(name: str) -> ResourceStatus:
        return _status("s3 bucket", name, lambda: s3.head_bucket(Bucket=name) and None,
                       ("404", "NoSuchBucket", "NotFound"), tf)

    def rds_instance() -> str:
        db = rds.describe_db_instances(DBInstanceIdentifier=RDS_INSTANCE_ID)["DBInstances"][0]
        endpoint = db.get("Endpoint") or {}
        return (f"{db.get('Engine')} {db.get('DBInstanceClass')}, {db.get('DBInstanceStatus')}, "
                f"{endpoint.get('Address', '?')}:{endpoint.get('Port', '?')}")

    def job() -> str:
        found = glue.get_job(JobName=GLUE_JOB)["Job"]
        runtime = (found.get("GlueVersion", "?"), found.get("Command", {}).get("Name", "?"))
        note = "" if runtime == ("5.0", "glueetl") else "; infra/terraform defines Glue 5.0 glueetl"
        return f"Glue {runtime[0]} {runtime[1]}{note}"

    def workgroup_output() -> ResourceStatus:
        name = "athena workgroup output"
        try:
            config = athena.get_work_group(WorkGroup="primary")["WorkGroup"].get("Configuration", {})
        except Exception as exc:  # noqa: BLE001 - any failure means: could not tell
            return ResourceStatus(name, "primary", None, f"{type(exc).__name__}: could not tell")
        output = config.get("ResultConfiguration", {}).get("OutputLocation")
        if output:
            return ResourceStatus(name, "primary", True, output)
        return ResourceStatus(name, "primary", False,
                              f"not set; README step 5 sets it to {settings.athena_output}"
                              " (else awswrangler creates a bucket aws-athena-query-results-...)")

    return [
        bucket(settings.data_lake_bucket),
        bucket(settings.scripts_bucket),
        _status("iam role", GLUE_ROLE, lambda: iam.get_role(RoleName=GLUE_ROLE) and None,
                ("NoSuchEntity",), tf),
        _status("secretsmanager secret", DB_SECRET_NAME,
                lambda: secrets.describe_secret(SecretId=DB_SECRET_NAME) and None,
                ("ResourceNotFoundException",), tf),
        _status("rds db instance", RDS_INSTANCE_ID, rds_instance,
                ("DBInstanceNotFound", "DBInstanceNotFoundFault"),
                "you (README step 2): Terraform expects it"),
        _status("glue database", GLUE_DATABASE, lambda: glue.get_database(Name=GLUE_DATABASE) and None,
                ("EntityNotFoundException",), tf),
        _status("glue connection", GLUE_CONNECTION,
                lambda: glue.get_connection(Name=GLUE_CONNECTION) and None,
                ("EntityNotFoundException",), tf),
        _status("glue job", GLUE_JOB, job, ("EntityNotFoundException",), tf),
        _status("glue crawler", GLUE_CRAWLER, lambda: glue.get_crawler(Name=GLUE_CRAWLER) and None,
                ("EntityNotFoundException",), tf),
        workgroup_output(),
    ]


def _no_credentials_line() -> str:
    return ("No AWS credentials found: run `aws configure` (or set AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then `make check-aws` again.")


def check(settings: Settings | None = None) -> AwsCheck:
    """Identity, region and every lab resource; never raises for missing or bad credentials."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    # get_settings() asks STS for the account when DELAB_TARGET=aws: read the region without it
    region = (settings.region if settings else None) or os.environ.get("AWS_DEFAULT_REGION") \
        or os.environ.get("AWS_REGION") or str(SETTINGS["AWS_DEFAULT_REGION"][0])
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    target = os.environ.get("DELAB_TARGET") or (settings.target if settings else "")
    result = AwsCheck(ok=False, region=region, endpoint=endpoint, target=target)
    try:
        if boto3.Session().get_credentials() is None:
            result.problem = _no_credentials_line()
            return result
        identity = boto3.client("sts", region_name=region).get_caller_identity()
    except NoCredentialsError:
        result.problem = _no_credentials_line()
        return result
    except ClientError as err:
        error = err.response.get("Error", {})
        result.problem = (f"AWS refused these credentials ({error.get('Code', 'error')}: "
                          f"{error.get('Message', '').strip()}); fix them with `aws configure` "
                          "and run again.")
        return result
    except BotoCoreError as exc:
        where = endpoint or f"AWS STS in {region}"
        result.problem = (f"Could not reach {where} ({exc}); check the network, the region and "
                          "AWS_ENDPOINT_URL.")
        return result
    result.ok, result.account, result.arn = True, identity["Account"], identity.get("Arn", "")
    lab = settings or _aws_settings(result.account)
    result.region = lab.region
    result.resources = resource_statuses(lab)
    return result


# ------------------------------------------------------------------------------- report


def price_table() -> str:
    """The prices the estimate uses, one per line, with their date and source."""
    width = max(len(p.item) for p in PRICES)
    lines = [f"  {p.item:<{width}}  ${p.usd:<6g} {p.unit}" for p in PRICES]
    return "\n".join([*lines, f"  ({PRICES_SOURCE})"])


def report(result: AwsCheck) -> str:
    """The text ``make check-aws`` prints (one line when credentials do not work)."""
    if not result.ok:
        return result.problem
    missing = [r for r in result.resources if r.exists is False]
    lines = [
        "AWS check: reads only; nothing was created and nothing was billed.",
        f"credentials  ok: {result.arn}",
        f"account      {result.account}",
        f"region       {result.region}" + ("" if os.environ.get("AWS_DEFAULT_REGION") else " (default; set "
                                           "AWS_DEFAULT_REGION to change it)"),
    ]
    if result.endpoint:
        lines.append(f"endpoint     {result.endpoint} (AWS_ENDPOINT_URL is set: this is NOT AWS itself)")
    if result.target != "aws":
        lines.append(f"target       DELAB_TARGET={result.target or 'local'}: the notebooks use the "
                     "local cloud "
                     "until you set DELAB_TARGET=aws")
    lines += ["lab resources:", *[r.line() for r in result.resources]]
    lines += [
        "`terraform apply` in infra/terraform creates: 2 S3 buckets (SSE-KMS, public access blocked), "
        "the IAM role and its policy, the database secret, the Glue database, connection, job and crawler, "
        "and uploads the job script. It needs the RDS instance to exist already.",
        "what it costs (list prices):",
        price_table(),
        f"  A lab session (3 job runs, 2 crawls, 50 queries, the secret for a day) costs about "
        f"${SESSION_ESTIMATE_USD:.2f}, plus the RDS instance while it exists (~$0.41 a day) and a NAT "
        "gateway if your VPC needs one (~$1.08 a day). `terraform destroy` removes what Terraform "
        "created; delete the RDS instance yourself (README).",
        f"{len(missing)} resource(s) missing." if missing else "Every lab resource exists.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: print the report; exit 0 (credentials work), 2 (they do not)."""
    del argv
    try:
        result = check()
    except ValueError as exc:  # a bad setting, e.g. DELAB_TARGET=azure
        print(f"check-aws: {exc}", file=sys.stderr)
        return 2
    print(report(result))
    return 0 if result.ok else 2


if __name__ == "__main__":
    sys.exit(main())
