#!/usr/bin/env python3
"""Create the stack's tables, bucket and topic in a local moto server, exactly as template.yaml
declares them (template.yaml is the one source of truth: key schemas, billing mode and TTL
attributes are read from it, not repeated here).

Usage: bootstrap.py --endpoint http://127.0.0.1:5000 --prefix local [--template template.yaml]
Prints a JSON object: {"CallsTable": "<name>", ..., "RecordingsBucket": "<name>",
"VoicemailTopic": "<arn>"}, one entry per created resource, keyed by logical id.
Idempotent: resources that already exist are reused.
"""
import argparse
import json
import os
import sys

import boto3
import yaml


class CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (!Ref, !Sub, ...) as plain values."""


def _tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


CfnLoader.add_multi_constructor("!", _tag)


def load_template(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)


def physical_name(prefix, logical_id):
    return f"{prefix}-{logical_id}".lower()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--template", default=os.path.join(os.path.dirname(__file__), "..", "..", "template.yaml"))
    ap.add_argument("--region", default=os.environ.get("AWS_REGION", "ca-central-1"))
    args = ap.parse_args()

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=args.region
    )
    ddb = session.client("dynamodb", endpoint_url=args.endpoint)
    s3 = session.client("s3", endpoint_url=args.endpoint)
    sns = session.client("sns", endpoint_url=args.endpoint)
    sesv2 = session.client("sesv2", endpoint_url=args.endpoint)

    template = load_template(args.template)
    # The contact form's sender must be an SES-verified identity (moto verifies at once).
    sender = template.get("Parameters", {}).get("ContactSender", {}).get("Default")
    if sender:
        try:
            sesv2.create_email_identity(EmailIdentity=sender)
        except sesv2.exceptions.AlreadyExistsException:
            pass
    created = {}
    for logical_id, res in template["Resources"].items():
        kind, props = res["Type"], res.get("Properties", {})
        name = physical_name(args.prefix, logical_id)
        if kind == "AWS::DynamoDB::Table":
            try:
                extra = {}
                if props.get("GlobalSecondaryIndexes"):
                    extra["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
                ddb.create_table(
                    TableName=name,
                    AttributeDefinitions=props["AttributeDefinitions"],
                    KeySchema=props["KeySchema"],
                    BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
                    **extra,
                )
            except ddb.exceptions.ResourceInUseException:
                pass
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                ddb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl["Enabled"])},
                )
            created[logical_id] = name
        elif kind == "AWS::S3::Bucket":
            try:
                s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": args.region})
            except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
                pass
            created[logical_id] = name
        elif kind == "AWS::SNS::Topic":
            created[logical_id] = sns.create_topic(Name=name)["TopicArn"]
    json.dump(created, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
