#!/usr/bin/env python3
"""The deploy rehearsal (issue 23 §4): template.yaml transformed by the SAM translator into the
CloudFormation template AWS would run, and optionally created as a stack on a local moto server.

Runs with the lint venv's Python (`.venv-lint`: aws-sam-translator, boto3, PyYAML).

Usage:
  rehearsal.py transform --template template.yaml
      Prints {"functions": {"<binary>": {"<VAR>": <value as CloudFormation has it>}}}: the
      environment SAM gives each function (Globals merged), before any value is resolved.
  rehearsal.py receive --endpoint URL --queue QUEUE_URL
      Prints the bodies of the messages waiting on one of the deploy's queues (each topic of the
      stack has one subscribed: its `queues` in the deploy's output).
  rehearsal.py deploy --template template.yaml --endpoint http://127.0.0.1:5000 --stack NAME
                      [--param Key=Value ...]
      Creates the stack on moto (the code of every function a placeholder zip in a bucket of its
      own), waits for CREATE_COMPLETE, and prints {"status", "resources": {"<logical id>":
      "<physical id>"}, "functions": {"<binary>": {"<VAR>": "<value>"}}} with each function's
      environment as Lambda holds it. moto leaves some values unresolved that CloudFormation
      resolves (a `${Resource}` inside `Fn::Sub`, a dynamic `{{resolve:secretsmanager:…}}`
      reference, a `Ref` to a Cognito client): those are resolved here the way CloudFormation
      does, from the stack's own resources and secrets, and nothing else is added.
Exit status 1 (with the failed resources on stderr) when the stack is not created.
"""
import argparse
import io
import json
import os
import re
import sys
import time
import zipfile

import yaml

REGION = "ca-central-1"
CODE_BUCKET = "rehearsal-code"
CODE_KEY = "bootstrap.zip"


class CfnLoader(yaml.SafeLoader):
    """Keeps CloudFormation's short-form tags as their long form (`!Ref X` → `{"Ref": "X"}`)."""


def _tag(loader, suffix, node):
    key = suffix if suffix in ("Ref", "Condition") else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


CfnLoader.add_multi_constructor("!", _tag)


def transformed(path):
    """The CloudFormation template SAM makes of `path`, every function's code at the rehearsal
    bucket, and the logical id → binary of each function."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.setdefault("AWS_REGION", REGION)
    from samtranslator.translator.transform import transform

    with open(path, encoding="utf-8") as f:
        sam = yaml.load(f, Loader=CfnLoader)
    sam["Globals"]["Function"]["CodeUri"] = f"s3://{CODE_BUCKET}/{CODE_KEY}"
    binaries = {}
    for logical, res in sam["Resources"].items():
        if res["Type"] == "AWS::Serverless::Function":
            binaries[logical] = res["Metadata"]["BuildProperties"]["Binary"]
            res["Properties"].pop("CodeUri", None)
            res.pop("Metadata", None)

    class NoManagedPolicies:
        def load(self):
            return {}

    return transform(sam, {}, NoManagedPolicies()), binaries


def template_envs(cfn, binaries):
    return {
        binaries[logical]: cfn["Resources"][logical]["Properties"]
        .get("Environment", {})
        .get("Variables", {})
        for logical in binaries
    }


def client(name, endpoint):
    import boto3

    return boto3.client(
        name,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def resolve(value, physical, params, secrets):
    """A template value as CloudFormation resolves it, from the stack's resources and params."""
    if isinstance(value, dict):
        if "Ref" in value:
            name = value["Ref"]
            return params.get(name, physical.get(name, REGION if name == "AWS::Region" else ""))
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]

            def sub(m):
                name = m.group(1)
                return str(params.get(name, physical.get(name, REGION if name == "AWS::Region" else m.group(0))))

            return resolve(re.sub(r"\$\{([A-Za-z0-9:]+)\}", sub, text), physical, params, secrets)
        if "Fn::If" in value:
            return ""
        return ""
    if isinstance(value, str):

        def dynamic(m):
            return secrets(m.group(1))

        return re.sub(r"\{\{resolve:secretsmanager:([^:}]+(?::[^:}]+){0,6}?):SecretString\}\}", dynamic, value)
    return str(value)


def deploy(args):
    cfn_template, binaries = transformed(args.template)
    s3 = client("s3", args.endpoint)
    try:
        s3.create_bucket(Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    s3.put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=code.getvalue())
    params = dict(p.split("=", 1) for p in args.param)
    for name, spec in cfn_template.get("Parameters", {}).items():
        if "Default" in spec:
            params.setdefault(name, str(spec["Default"]))
    cfn = client("cloudformation", args.endpoint)
    cfn.create_stack(
        StackName=args.stack,
        TemplateBody=json.dumps(cfn_template, default=str),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    for _ in range(300):
        stack = cfn.describe_stacks(StackName=args.stack)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS"):
            break
        time.sleep(0.5)
    summaries = []
    token = None
    while True:
        kw = {"StackName": args.stack, **({"NextToken": token} if token else {})}
        page = cfn.list_stack_resources(**kw)
        summaries += page["StackResourceSummaries"]
        token = page.get("NextToken")
        if not token:
            break
    failed = [r for r in summaries if r["ResourceStatus"] != "CREATE_COMPLETE"]
    if stack["StackStatus"] != "CREATE_COMPLETE" or failed:
        print(stack["StackStatus"], stack.get("StackStatusReason"), file=sys.stderr)
        for r in failed:
            print(r["LogicalResourceId"], r["ResourceType"], r["ResourceStatus"], r.get("ResourceStatusReason"), file=sys.stderr)
        sys.exit(1)
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries if r["LogicalResourceId"]}
    sm = client("secretsmanager", args.endpoint)
    # moto accepts resource types it does not model (secrets, Cognito, API Gateway v2, alarms)
    # without creating them: a secret is created here as CloudFormation would (a generated
    # string), any other such resource gets a stand-in physical id.
    import secrets as random

    for logical, res in cfn_template["Resources"].items():
        if logical in physical:
            continue
        if res["Type"] == "AWS::SecretsManager::Secret":
            name = f"{args.stack}-{logical}"
            arn = sm.create_secret(Name=name, SecretString=random.token_hex(32))["ARN"]
            physical[logical] = arn
        else:
            physical[logical] = f"{args.stack}-{logical}".lower()

    def secret(secret_id):
        return sm.get_secret_value(SecretId=secret_id)["SecretString"]

    # What the stack publishes, observable: an SQS queue subscribed to each topic (raw delivery).
    sns, sqs = client("sns", args.endpoint), client("sqs", args.endpoint)
    queues = {}
    for logical, res in cfn_template["Resources"].items():
        if res["Type"] == "AWS::SNS::Topic":
            url = sqs.create_queue(QueueName=f"{args.stack}-{logical}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=physical[logical], Protocol="sqs", Endpoint=arn,
                          Attributes={"RawMessageDelivery": "true"})
            queues[logical] = url
    lam = client("lambda", args.endpoint)
    wanted = template_envs(cfn_template, binaries)
    functions = {}
    for logical, binary in binaries.items():
        created = lam.get_function_configuration(FunctionName=physical[logical])
        env = {k: str(v) for k, v in created.get("Environment", {}).get("Variables", {}).items()}
        for var, value in wanted[binary].items():
            if var not in env or "${" in env[var] or "{{resolve:" in env[var]:
                env[var] = resolve(value, physical, params, secret)
        functions[binary] = env
    json.dump(
        {"status": stack["StackStatus"], "resources": physical, "functions": functions, "queues": queues},
        sys.stdout,
        indent=1,
    )


def receive(args):
    """Every message waiting on the queue, as a JSON list of message bodies."""
    sqs = client("sqs", args.endpoint)
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=args.queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        bodies += [m["Body"] for m in got]
        for m in got:
            sqs.delete_message(QueueUrl=args.queue, ReceiptHandle=m["ReceiptHandle"])
    json.dump(bodies, sys.stdout)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("transform")
    t.add_argument("--template", required=True)
    d = sub.add_parser("deploy")
    d.add_argument("--template", required=True)
    d.add_argument("--endpoint", required=True)
    d.add_argument("--stack", required=True)
    d.add_argument("--param", action="append", default=[])
    r = sub.add_parser("receive")
    r.add_argument("--endpoint", required=True)
    r.add_argument("--queue", required=True)
    args = ap.parse_args()
    if args.command == "receive":
        receive(args)
    elif args.command == "transform":
        cfn_template, binaries = transformed(args.template)
        json.dump({"functions": template_envs(cfn_template, binaries)}, sys.stdout, indent=1, default=str)
    else:
        deploy(args)


if __name__ == "__main__":
    main()
