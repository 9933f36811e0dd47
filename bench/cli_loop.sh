#!/usr/bin/env bash
# The baseline ddbaudit collect is measured against: the same calls, in the same dependency
# order, as a shell loop of AWS CLI invocations, each output written to a file.
# usage: bench/cli_loop.sh ENDPOINT_URL OUT_DIR REGION...
# Uses Debian's AWS CLI v2 (/usr/bin/aws); dynamodb get-resource-policy is newer than its
# models, so that one call goes through the `aws` on PATH (a newer CLI) when there is one.
set -euo pipefail
url=$1 out=$2
shift 2
cli=/usr/bin/aws
newer_cli=$(command -v aws || echo "$cli")
mkdir -p "$out"
n=0
call() { # call FILE CLI ARGS...
    local file=$1 bin=$2
    shift 2
    "$bin" --endpoint-url "$url" --output json "$@" >"$out/$file.json" 2>"$out/$file.err" || true
    n=$((n + 1))
}
call sts "$cli" sts get-caller-identity --region "$1"
for what in get-account-authorization-details get-account-summary list-saml-providers \
    list-open-id-connect-providers generate-credential-report get-credential-report; do
    call "iam-$what" "$cli" iam "$what" --region "$1"
done
for region in "$@"; do
    call "$region-list-tables" "$cli" dynamodb list-tables --region "$region"
    keys=""
    for table in $(jq -r '.TableNames[]' "$out/$region-list-tables.json"); do
        call "$region-$table-describe" "$cli" dynamodb describe-table --region "$region" --table-name "$table"
        arn=$(jq -r '.Table.TableArn' "$out/$region-$table-describe.json")
        key=$(jq -r '.Table.SSEDescription.KMSMasterKeyArn // empty' "$out/$region-$table-describe.json")
        [ -n "$key" ] && keys="$keys $key"
        call "$region-$table-backups" "$cli" dynamodb describe-continuous-backups --region "$region" --table-name "$table"
        call "$region-$table-ttl" "$cli" dynamodb describe-time-to-live --region "$region" --table-name "$table"
        call "$region-$table-tags" "$cli" dynamodb list-tags-of-resource --region "$region" --resource-arn "$arn"
        call "$region-$table-policy" "$newer_cli" dynamodb get-resource-policy --region "$region" --resource-arn "$arn"
    done
    for key in $(tr ' ' '\n' <<<"$keys" | sort -u); do
        id=${key##*/}
        call "$region-$id-key" "$cli" kms describe-key --region "$region" --key-id "$key"
        call "$region-$id-rotation" "$cli" kms get-key-rotation-status --region "$region" --key-id "$key"
        call "$region-$id-policy" "$cli" kms get-key-policy --region "$region" --key-id "$key" --policy-name default
    done
    call "$region-vpcs" "$cli" ec2 describe-vpcs --region "$region"
    call "$region-vpce" "$cli" ec2 describe-vpc-endpoints --region "$region"
    call "$region-trails" "$cli" cloudtrail describe-trails --region "$region"
    call "$region-filters" "$cli" logs describe-metric-filters --region "$region"
    call "$region-alarms" "$cli" cloudwatch describe-alarms --region "$region"
    call "$region-rules" "$cli" events list-rules --region "$region"
    call "$region-scaling" "$cli" application-autoscaling describe-scalable-targets --region "$region" --service-namespace dynamodb
    call "$region-backup" "$cli" backup list-protected-resources --region "$region"
    call "$region-dax" "$cli" dax describe-clusters --region "$region"
done
echo "$n"
