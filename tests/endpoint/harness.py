"""Test harness for `ddbaudit collect` (tests only): starts moto_server and the project's own
endpoint on free loopback ports, turns moto's request authentication on, populates an account
with boto3, runs the AWS CLI (/usr/bin/aws) for the same calls, and compares snapshots.

Every server started here is stopped by the caller (use `with Servers() as s:`)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "123456789012"
NO_FILE = "/nonexistent/ddbaudit-test/aws-config"
BOOT_KEY = ("AKIAIOSFODNN7EXAMPLE", "bootstrap-secret")


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(77)


def require_tools(need_cli=True):
    try:
        import boto3  # noqa: F401
        import botocore  # noqa: F401
    except ImportError:
        skip("boto3/botocore not installed for python3")
    if not shutil.which("moto_server"):
        skip("moto_server not on PATH (pip install 'moto[server]')")
    if need_cli and not os.path.exists("/usr/bin/aws"):
        skip("/usr/bin/aws (Debian awscli) not installed")
    if not os.environ.get("DDBAUDIT_BIN") or not os.path.exists(os.environ["DDBAUDIT_BIN"]):
        skip("DDBAUDIT_BIN not built")
    probe = subprocess.run([os.environ["DDBAUDIT_BIN"], "collect", "--help"],
                           capture_output=True, text=True)
    if "usage: ddbaudit collect" not in probe.stdout + probe.stderr:
        skip("this ddbaudit has no collect command (command_collect is not in src/cmd.c's "
             "table yet)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early ({proc.returncode}) before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url} not ready after {timeout}s")


class Servers:
    """moto (+ optionally the project endpoint proxying to it). Stops them on exit."""

    def __init__(self, endpoint=False, endpoint_args=()):
        self.procs = []
        self.want_endpoint = endpoint
        self.endpoint_args = list(endpoint_args)
        self.tmp = tempfile.mkdtemp(prefix="ddbaudit-collect-")

    def __enter__(self):
        self.moto_port = free_port()
        log = open(os.path.join(self.tmp, "moto.log"), "wb")
        proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.moto_port)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        self.moto_url = f"http://127.0.0.1:{self.moto_port}"
        wait_http(self.moto_url + "/moto-api/", proc=proc)
        self.url = self.moto_url
        return self

    def start_endpoint(self, *args, credentials):
        self.endpoint_port = free_port()
        log = open(os.path.join(self.tmp, "endpoint.log"), "wb")
        cmd = [sys.executable, os.path.join(HERE, "endpoint.py"), "--port", str(self.endpoint_port),
               "--upstream", self.moto_url, "--access-key", credentials[0],
               "--secret-key", credentials[1], *args]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        self.endpoint_url = f"http://127.0.0.1:{self.endpoint_port}"
        wait_http(self.endpoint_url + "/__endpoint/health", proc=proc)
        return self.endpoint_url

    def control(self, **settings):
        req = urllib.request.Request(self.endpoint_url + "/__endpoint/config",
                                     data=json.dumps(settings).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read() or b"{}")

    def stats(self):
        with urllib.request.urlopen(self.endpoint_url + "/__endpoint/stats", timeout=5) as r:
            return json.loads(r.read())

    def __exit__(self, *exc):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if os.environ.get("DDBAUDIT_KEEP_TMP"):
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def client(service, url, region, credentials):
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=url, region_name=region,
                        aws_access_key_id=credentials[0], aws_secret_access_key=credentials[1],
                        config=Config(retries={"max_attempts": 8, "mode": "standard"}))


def enable_auth(url):
    """Creates an admin IAM user in moto and turns request authentication on. Returns its key."""
    iam = client("iam", url, "us-east-1", BOOT_KEY)
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    req = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req, timeout=10).read()
    return key["AccessKeyId"], key["SecretAccessKey"]


def populate(url, credentials, regions, tables_per_region, rich=True):
    """An account with what the controls look at. rich=False: only tables (benchmarks)."""
    iam = client("iam", url, "us-east-1", credentials)
    if rich:
        iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "Service": "dax.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        iam.put_role_policy(RoleName="app", PolicyName="ddb", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
                "dynamodb:GetItem", "dynamodb:Query"], "Resource": "*"}]}))
        iam.create_policy(PolicyName="ReadOrders", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
                "dynamodb:Scan", "Resource": "arn:aws:dynamodb:*:*:table/orders-0"}]}))
        iam.create_group(GroupName="ops")
        iam.add_user_to_group(GroupName="ops", UserName="auditor")
        iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com",
                                            ClientIDList=["sts.amazonaws.com"],
                                            ThumbprintList=["a" * 40])
        iam.create_saml_provider(Name="corp", SAMLMetadataDocument="<md:EntityDescriptor "
                                 "xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' "
                                 "entityID='corp'/>" + "x" * 1000)
    for region in regions:
        ddb = client("dynamodb", url, region, credentials)
        kms = client("kms", url, region, credentials)
        key_arn = None
        if rich:
            key = kms.create_key(Description=f"tables {region}")["KeyMetadata"]
            key_arn = key["Arn"]
            kms.enable_key_rotation(KeyId=key["KeyId"])
        for i in range(tables_per_region):
            name = f"orders-{i}"
            args = dict(TableName=name,
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST",
                        Tags=[{"Key": "owner", "Value": f"team-{i % 3}"}])
            if rich and i % 2 == 0:
                args["SSESpecification"] = {"Enabled": True, "SSEType": "KMS",
                                            "KMSMasterKeyId": key_arn}
                args["StreamSpecification"] = {"StreamEnabled": True,
                                               "StreamViewType": "NEW_AND_OLD_IMAGES"}
                args["DeletionProtectionEnabled"] = True
            table = ddb.create_table(**args)["TableDescription"]
            if rich and i % 2 == 0:
                ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": True})
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                    "Enabled": True, "AttributeName": "expires"})
                ddb.put_resource_policy(ResourceArn=table["TableArn"], Policy=json.dumps({
                    "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                        "Action": "dynamodb:*", "Resource": table["TableArn"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
        if not rich:
            continue
        ec2 = client("ec2", url, region, credentials)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
        ec2.create_vpc_endpoint(VpcId=vpc["VpcId"], ServiceName=f"com.amazonaws.{region}.dynamodb",
                                VpcEndpointType="Gateway")
        s3 = client("s3", url, region, credentials)
        bucket = f"trail-{region}"
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={
                "LocationConstraint": region})
        ct = client("cloudtrail", url, region, credentials)
        ct.create_trail(Name=f"audit-{region}", S3BucketName=bucket, IsMultiRegionTrail=False,
                        EnableLogFileValidation=True)
        ct.start_logging(Name=f"audit-{region}")
        ct.put_event_selectors(TrailName=f"audit-{region}", EventSelectors=[{
            "ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [{
                "Type": "AWS::DynamoDB::Table", "Values": ["arn:aws:dynamodb"]}]}])
        logs = client("logs", url, region, credentials)
        logs.create_log_group(logGroupName="trail")
        logs.put_metric_filter(logGroupName="trail", filterName="ddb-changes",
                               filterPattern='{ $.eventSource = "dynamodb.amazonaws.com" }',
                               metricTransformations=[{"metricName": "DdbChanges",
                                                       "metricNamespace": "Audit",
                                                       "metricValue": "1"}])
        cw = client("cloudwatch", url, region, credentials)
        cw.put_metric_alarm(AlarmName="ddb-changes", MetricName="DdbChanges", Namespace="Audit",
                            Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanOrEqualToThreshold")
        events = client("events", url, region, credentials)
        events.put_rule(Name="ddb-api", EventPattern=json.dumps({"source": ["aws.dynamodb"]}))
        events.put_targets(Rule="ddb-api", Targets=[{"Id": "1", "Arn":
            f"arn:aws:sns:{region}:{ACCOUNT}:alerts"}])
        aas = client("application-autoscaling", url, region, credentials)
        aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId="table/orders-1",
                                     ScalableDimension="dynamodb:table:ReadCapacityUnits",
                                     MinCapacity=1, MaxCapacity=10)
        dax = client("dax", url, region, credentials)
        dax.create_cluster(ClusterName="cache", NodeType="dax.t3.small", ReplicationFactor=1,
                           IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/app",
                           SSESpecification={"Enabled": True})


def cli_name(operation):
    import botocore
    return botocore.xform_name(operation, "-")


def run_cli(service, operation, parameters, region, url, credentials):
    """What /usr/bin/aws prints for the call (parsed), or raises with its stderr."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=credentials[0],
               AWS_SECRET_ACCESS_KEY=credentials[1], TZ="UTC", AWS_PAGER="",
               AWS_CONFIG_FILE=NO_FILE, AWS_SHARED_CREDENTIALS_FILE=NO_FILE)
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("AWS_PROFILE", None)
    cmd = ["/usr/bin/aws", service, cli_name(operation), "--region", region,
           "--endpoint-url", url, "--output", "json"]
    if parameters:
        cmd += ["--cli-input-json", json.dumps(parameters)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}: {done.stderr.strip()}")
    return json.loads(done.stdout) if done.stdout.strip() else {}


def collect_env(url, credentials, env_extra=None):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=credentials[0],
               AWS_SECRET_ACCESS_KEY=credentials[1], AWS_ENDPOINT_URL=url,
               AWS_CONFIG_FILE=NO_FILE, AWS_SHARED_CREDENTIALS_FILE=NO_FILE,
               AWS_EC2_METADATA_DISABLED="true")
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    if env_extra:
        env.update(env_extra)
    return env


def run_collect(out, url, credentials, *args, env_extra=None, timeout=600):
    return subprocess.run([os.environ["DDBAUDIT_BIN"], "collect", "--out", out, *args],
                          env=collect_env(url, credentials, env_extra), capture_output=True,
                          text=True, timeout=timeout)


def load_manifest(out):
    with open(os.path.join(out, "manifest.json")) as f:
        return json.load(f)


# Volatile values the two runs cannot share (moto fills them per request).
VOLATILE = {
    ("iam", "GenerateCredentialReport"),
    ("iam", "GetCredentialReport"),
}


# Fields that moto computes from the clock at each request.
VOLATILE_FIELDS = {
    ("cloudtrail", "GetTrailStatus"): ["LatestDeliveryAttemptTime", "LatestDeliveryTime",
                                       "LatestNotificationAttemptTime", "StartLoggingTime",
                                       "TimeLoggingStarted", "LatestDeliveryAttemptSucceeded"],
}

# moto moves DAX clusters from "creating" to "available" (adding nodes) between requests.
VOLATILE_CLUSTER_FIELDS = ["Status", "Nodes", "ClusterDiscoveryEndpoint", "TotalNodes",
                           "ActiveNodes"]


def normalise_volatile(service, operation, doc):
    for field in VOLATILE_FIELDS.get((service, operation), []):
        if field in doc:
            doc[field] = "<volatile>"
    if (service, operation) == ("dax", "DescribeClusters"):
        for cluster in doc.get("Clusters", []):
            for field in VOLATILE_CLUSTER_FIELDS:
                cluster.pop(field, None)


DEBIAN_MODELS = "/usr/lib/python3/dist-packages/awscli/botocore/data"
_model_text = {}


def debian_model_knows(service, member):
    """Whether Debian's AWS CLI (an older botocore) knows a member name at all: it drops
    members its model lacks, while we follow botocore 1.43 as the issue asks."""
    if service not in _model_text:
        text = ""
        base = os.path.join(DEBIAN_MODELS, service)
        for root, _, files in os.walk(base):
            if "service-2.json" in files:
                with open(os.path.join(root, "service-2.json")) as f:
                    text += f.read()
        _model_text[service] = text
    return f'"{member}"' in _model_text[service]


def cli_operation_exists(service, operation):
    base = os.path.join(DEBIAN_MODELS, service)
    for root, _, files in os.walk(base):
        if "service-2.json" in files:
            with open(os.path.join(root, "service-2.json")) as f:
                return operation in json.load(f)["operations"]
    return False


def botocore_output(service, operation, parameters, region, url, credentials):
    """What the CLI would print, computed with the machine's botocore (for operations Debian's
    CLI is too old to know): paginated like the CLI, timestamps in ISO 8601."""
    import datetime
    import botocore
    c = client(service, url, region, credentials)
    method = botocore.xform_name(operation)
    if c.can_paginate(method):
        result = c.get_paginator(method).paginate(**parameters).build_full_result()
    else:
        result = getattr(c, method)(**parameters)
    result.pop("ResponseMetadata", None)

    def fix(v):
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, datetime.datetime):
            return v.isoformat()
        if isinstance(v, bytes):
            import base64
            return base64.b64encode(v).decode()
        return v
    return fix(result)


def compare_with_cli(out, url, credentials, skip_ops=()):
    """Compares every ok file of the snapshot with the CLI's output for the same call.
    Returns a list of human-readable differences."""
    manifest = load_manifest(out)
    problems = []
    for call in manifest["calls"]:
        if call["outcome"] != "ok" or (call["service"], call["operation"]) in VOLATILE:
            continue
        if (call["service"], call["operation"]) in skip_ops:
            continue
        region = call["region"] if call["region"] != "global" else "us-east-1"
        with open(os.path.join(out, call["path"])) as f:
            ours = json.load(f)
        try:
            if cli_operation_exists(call["service"], call["operation"]):
                theirs = run_cli(call["service"], call["operation"], call["parameters"], region,
                                 url, credentials)
                judge = "the CLI"
            else:
                theirs = botocore_output(call["service"], call["operation"], call["parameters"],
                                         region, url, credentials)
                judge = "botocore (operation unknown to Debian's CLI)"
        except RuntimeError as e:
            problems.append(f"{call['path']}: the CLI failed: {e}")
            continue
        for doc in (ours, theirs):
            normalise_volatile(call["service"], call["operation"], doc)
        diffs = [d for d in differences(ours, theirs)
                 if not (" extra in ours " in d and
                         not debian_model_knows(call["service"], d.split(":")[0].split(".")[-1]))]
        if diffs:
            problems.append(f"{call['path']}: differs from {judge}:\n    " +
                            "\n    ".join(diffs[:20]))
    return problems


def differences(ours, theirs, path="$"):
    """Paths where two JSON values differ (for readable failure messages)."""
    if type(ours) is not type(theirs):
        return [f"{path}: ours {json.dumps(ours)[:200]} theirs {json.dumps(theirs)[:200]}"]
    if isinstance(ours, dict):
        out = []
        for k in sorted(set(ours) | set(theirs)):
            if k not in ours:
                out.append(f"{path}.{k}: missing in ours (theirs {json.dumps(theirs[k])[:200]})")
            elif k not in theirs:
                out.append(f"{path}.{k}: extra in ours ({json.dumps(ours[k])[:200]})")
            else:
                out += differences(ours[k], theirs[k], f"{path}.{k}")
        return out
    if isinstance(ours, list):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items in ours, {len(theirs)} in theirs"]
        out = []
        for i, (a, b) in enumerate(zip(ours, theirs)):
            out += differences(a, b, f"{path}[{i}]")
        return out
    return [] if ours == theirs else [f"{path}: ours {ours!r} theirs {theirs!r}"]


def compare_snapshots(a, b):
    """Differences between two snapshots of the same account: outcomes and file contents."""
    ma, mb = load_manifest(a), load_manifest(b)

    def index(m):
        return {(c["service"], c["operation"], c["region"], c.get("key")): c for c in m["calls"]}
    ia, ib = index(ma), index(mb)
    problems = []
    for key in sorted(set(ia) | set(ib), key=str):
        ca, cb = ia.get(key), ib.get(key)
        if not ca or not cb:
            problems.append(f"{key}: only in {'first' if ca else 'second'} snapshot")
            continue
        if ca["outcome"] != cb["outcome"]:
            problems.append(f"{key}: {ca['outcome']} vs {cb['outcome']} "
                            f"({cb.get('error_code')}: {cb.get('error_message')})")
            continue
        if ca["outcome"] != "ok" or (key[0], key[1]) in VOLATILE:
            continue
        with open(os.path.join(a, ca["path"])) as f:
            da = json.load(f)
        with open(os.path.join(b, cb["path"])) as f:
            db = json.load(f)
        for doc in (da, db):
            normalise_volatile(key[0], key[1], doc)
        if da != db:
            problems.append(f"{key}: contents differ: " + "; ".join(differences(da, db)[:5]))
    return problems


def retries_of(collect_stdout):
    """The retry count from collect's summary line."""
    import re
    m = re.search(r"\((\d+) HTTP requests, (\d+) retries", collect_stdout)
    return int(m.group(2)) if m else -1
