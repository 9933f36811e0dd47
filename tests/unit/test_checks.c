/* Every control's rule through every status path: a fully compliant one-table account passes,
 * then one change at a time makes each control Remediate, and a missing, denied or failed call
 * makes it Review (fail closed). */
#include "snapshot_fixture.h"

#include "buf.h"

#define R "eu-west-1"
#define TABLE_ARN "arn:aws:dynamodb:eu-west-1:111122223333:table/t1"
#define KEY_ID "1234abcd-12ab-34cd-56ef-1234567890ab"
#define KEY_ARN "arn:aws:kms:eu-west-1:111122223333:key/" KEY_ID

static const char *describe_table(const char *sse, const char *billing, const char *extra)
{
    static char text[4096];
    snprintf(text, sizeof(text),
             "{\"Table\": {\"TableName\": \"t1\", \"TableStatus\": \"ACTIVE\", "
             "\"TableArn\": \"" TABLE_ARN "\", %s%s \"DeletionProtectionEnabled\": true %s}}",
             sse ? sse : "", billing ? billing : "", extra ? extra : "");
    return text;
}

#define SSE_CMK                                                                                    \
    "\"SSEDescription\": {\"Status\": \"ENABLED\", \"SSEType\": \"KMS\", \"KMSMasterKeyArn\": "    \
    "\"" KEY_ARN "\"},"
#define ON_DEMAND "\"BillingModeSummary\": {\"BillingMode\": \"PAY_PER_REQUEST\"},"
#define STREAM                                                                                     \
    ", \"StreamSpecification\": {\"StreamEnabled\": true, \"StreamViewType\": \"NEW_IMAGE\"}"

static const char *const all_tags =
    "{\"Tags\": [{\"Key\": \"Security\", \"Value\": \"high\"}, {\"Key\": \"Confidentiality\", "
    "\"Value\": \"Confidential\"}, {\"Key\": \"Environment\", \"Value\": \"prod\"}]}";

/* A compliant account: one table in eu-west-1 and everything around it. */
static void base(struct fixture *fx)
{
    fx_init(fx);
    fx_call(fx, R, "dynamodb", "ListTables", NULL, "{\"TableNames\": [\"t1\"]}");
    fx_call(fx, R, "dynamodb", "DescribeTable", "t1", describe_table(SSE_CMK, ON_DEMAND, NULL));
    fx_call(fx, R, "dynamodb", "DescribeContinuousBackups", "t1",
            "{\"ContinuousBackupsDescription\": {\"ContinuousBackupsStatus\": \"ENABLED\", "
            "\"PointInTimeRecoveryDescription\": {\"PointInTimeRecoveryStatus\": \"ENABLED\"}}}");
    fx_call(fx, R, "dynamodb", "ListTagsOfResource", "t1", all_tags);
    fx_call(fx, R, "kms", "DescribeKey", KEY_ID,
            "{\"KeyMetadata\": {\"KeyId\": \"" KEY_ID "\", \"Arn\": \"" KEY_ARN "\", "
            "\"Enabled\": true, \"KeyState\": \"Enabled\", \"KeyManager\": \"CUSTOMER\"}}");
    fx_call(fx, R, "kms", "GetKeyRotationStatus", KEY_ID, "{\"KeyRotationEnabled\": true}");
    fx_call(fx, R, "kms", "GetKeyPolicy", KEY_ID,
            "{\"PolicyName\": \"default\", \"Policy\": \"{\\\"Statement\\\": [{\\\"Effect\\\": "
            "\\\"Allow\\\", \\\"Principal\\\": {\\\"AWS\\\": "
            "\\\"arn:aws:iam::111122223333:root\\\"}, \\\"Action\\\": \\\"kms:*\\\", "
            "\\\"Resource\\\": \\\"*\\\"}]}\"}");
    fx_call(fx, R, "backup", "ListProtectedResources", NULL,
            "{\"Results\": [{\"ResourceArn\": \"" TABLE_ARN
            "\", \"ResourceType\": \"DynamoDB\", \"LastBackupTime\": "
            "\"2026-09-30T03:12:44.310000+00:00\"}]}");
    fx_call(fx, R, "ec2", "DescribeVpcs", NULL, "{\"Vpcs\": [{\"VpcId\": \"vpc-1\"}]}");
    fx_call(fx, R, "ec2", "DescribeVpcEndpoints", NULL,
            "{\"VpcEndpoints\": [{\"VpcEndpointId\": \"vpce-1\", \"VpcEndpointType\": "
            "\"Gateway\", \"VpcId\": \"vpc-1\", \"ServiceName\": \"com.amazonaws.eu-west-1."
            "dynamodb\", \"State\": \"available\"}]}");
    fx_call(fx, R, "cloudtrail", "DescribeTrails", NULL,
            "{\"trailList\": [{\"Name\": \"org\", \"TrailARN\": "
            "\"arn:aws:cloudtrail:eu-west-1:111122223333:trail/org\", \"HomeRegion\": "
            "\"eu-west-1\", \"IsMultiRegionTrail\": true, \"IncludeGlobalServiceEvents\": true, "
            "\"LogFileValidationEnabled\": true, \"KmsKeyId\": \"" KEY_ARN "\"}]}");
    fx_call(fx, R, "cloudtrail", "GetTrailStatus", "org", "{\"IsLogging\": true}");
    fx_call(fx, R, "cloudtrail", "GetEventSelectors", "org",
            "{\"TrailARN\": \"arn:aws:cloudtrail:eu-west-1:111122223333:trail/org\", "
            "\"AdvancedEventSelectors\": [{\"Name\": \"mgmt\", \"FieldSelectors\": [{\"Field\": "
            "\"eventCategory\", \"Equals\": [\"Management\"]}]}, {\"Name\": \"ddb\", "
            "\"FieldSelectors\": [{\"Field\": \"eventCategory\", \"Equals\": [\"Data\"]}, "
            "{\"Field\": \"resources.type\", \"Equals\": [\"AWS::DynamoDB::Table\"]}]}]}");
    fx_call(fx, R, "logs", "DescribeMetricFilters", NULL,
            "{\"metricFilters\": [{\"filterName\": \"ddb-destroy\", \"filterPattern\": \"{ "
            "($.eventName = DeleteTable) || ($.eventName = DeleteBackup) || ($.eventName = "
            "CreateTable) }\", \"metricTransformations\": [{\"metricName\": \"Destroy\", "
            "\"metricNamespace\": \"Audit\", \"metricValue\": \"1\"}], \"logGroupName\": "
            "\"trail\"}]}");
    fx_call(fx, R, "cloudwatch", "DescribeAlarms", NULL,
            "{\"MetricAlarms\": [{\"AlarmName\": \"destroy\", \"MetricName\": \"Destroy\", "
            "\"Namespace\": \"Audit\", \"ActionsEnabled\": true, \"AlarmActions\": "
            "[\"arn:aws:sns:eu-west-1:111122223333:sec\"]}], \"CompositeAlarms\": []}");
    fx_call(fx, R, "events", "ListRules", NULL,
            "{\"Rules\": [{\"Name\": \"iam\", \"State\": \"ENABLED\", \"EventPattern\": "
            "\"{\\\"source\\\": [\\\"aws.iam\\\"], \\\"detail\\\": {\\\"eventName\\\": "
            "[\\\"PutRolePolicy\\\", \\\"PutUserPolicy\\\", \\\"PutGroupPolicy\\\", "
            "\\\"CreatePolicyVersion\\\", \\\"AttachRolePolicy\\\", \\\"AttachUserPolicy\\\", "
            "\\\"AttachGroupPolicy\\\", \\\"SetDefaultPolicyVersion\\\"]}}\"}]}");
    fx_call(
        fx, R, "events", "ListTargetsByRule", "iam",
        "{\"Targets\": [{\"Id\": \"1\", \"Arn\": \"arn:aws:sns:eu-west-1:111122223333:sec\"}]}");
    fx_call(fx, R, "application-autoscaling", "DescribeScalableTargets", NULL,
            "{\"ScalableTargets\": []}");
    fx_call(fx, R, "dax", "DescribeClusters", NULL,
            "{\"Clusters\": [{\"ClusterName\": \"c1\", \"ClusterArn\": "
            "\"arn:aws:dax:eu-west-1:111122223333:cache/c1\", \"SSEDescription\": {\"Status\": "
            "\"ENABLED\"}, \"ClusterEndpointEncryptionType\": \"TLS\"}]}");
    fx_file(
        fx, "attestations.yaml",
        "attestations:\n"
        "  - control: DDB-01\n    statement: SOC 2 Type II covers DynamoDB\n"
        "    attested_by: auditor@example.com\n    date: 2026-05-15\n    max_age_days: 365\n"
        "    regions: [eu-west-1]\n    artifacts: [{url: https://example.com/soc2}]\n"
        "  - control: DDB-06\n    statement: inherited\n    attested_by: a@example.com\n"
        "    date: 2025-01-10\n    max_age_days: 365\n"
        "  - control: DDB-24\n    resource: '*:table/t1'\n    statement: encrypted client-side\n"
        "    attested_by: dev@example.com\n    date: 2026-09-01\n    max_age_days: 365\n");
}

/* ---- DDB-04 encryption at rest ---- */

static void encryption_customer_key_passes(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-04", NULL), "table/t1", STATUS_PASS, "customer managed");
    fx_free(&fx);
}

static void encryption_owned_key_on_confidential_table_remediates(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1", describe_table(NULL, ON_DEMAND, NULL));
    fx_expect(fx_evaluate(&fx, "DDB-04", NULL), "table/t1", STATUS_REMEDIATE, "AWS owned");
    fx_free(&fx);
}

static void encryption_owned_key_on_internal_table_passes(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1", describe_table(NULL, ON_DEMAND, NULL));
    fx_call(&fx, R, "dynamodb", "ListTagsOfResource", "t1",
            "{\"Tags\": [{\"Key\": \"Confidentiality\", \"Value\": \"Internal\"}]}");
    fx_expect(fx_evaluate(&fx, "DDB-04", NULL), "table/t1", STATUS_PASS, "AWS owned");
    fx_free(&fx);
}

static void encryption_missing_key_description_reviews(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_call(&fx, R, "kms", "DescribeKey", KEY_ID, NULL);
    fx_expect(fx_evaluate(&fx, "DDB-04", NULL), "table/t1", STATUS_REVIEW, "not collected");
    fx_free(&fx);
}

static void encryption_denied_describe_table_reviews(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_error(&fx, R, "dynamodb", "DescribeTable", "t1", "AccessDeniedException");
    struct control_result *r = fx_evaluate(&fx, "DDB-04", NULL);
    fx_expect(r, "table/t1", STATUS_REVIEW, "denied");
    assert_non_null(strstr(fx_finding(r, "table/t1")->reason, "dynamodb:DescribeTable"));
    fx_free(&fx);
}

static void missing_list_tables_reviews_the_region(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_error(&fx, R, "dynamodb", "ListTables", NULL, "ThrottlingException");
    struct control_result *r = fx_evaluate(&fx, "DDB-04", NULL);
    fx_expect(r, "eu-west-1:111122223333:*", STATUS_REVIEW, "ThrottlingException");
    assert_int_equal(r->status, STATUS_REVIEW);
    fx_free(&fx);
}

/* ---- DDB-13 keys ---- */

static void key_rotating_passes_and_pending_deletion_remediates(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-13", NULL), KEY_ID, STATUS_PASS, "rotates");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "kms", "DescribeKey", KEY_ID,
            "{\"KeyMetadata\": {\"KeyId\": \"" KEY_ID "\", \"Enabled\": false, \"KeyState\": "
            "\"PendingDeletion\", \"KeyManager\": \"CUSTOMER\"}}");
    fx_expect(fx_evaluate(&fx, "DDB-13", NULL), KEY_ID, STATUS_REMEDIATE, "PendingDeletion");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "kms", "GetKeyRotationStatus", KEY_ID, "{\"KeyRotationEnabled\": false}");
    fx_expect(fx_evaluate(&fx, "DDB-13", NULL), KEY_ID, STATUS_REMEDIATE, "rotation is off");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "kms", "DescribeKey", KEY_ID,
            "{\"KeyMetadata\": {\"KeyId\": \"" KEY_ID "\", \"Enabled\": true, \"KeyState\": "
            "\"Enabled\", \"KeyManager\": \"CUSTOMER\", \"Origin\": \"EXTERNAL\"}}");
    fx_expect(fx_evaluate(&fx, "DDB-13", NULL), KEY_ID, STATUS_REVIEW, "imported key material");
    fx_free(&fx);
    base(&fx);
    fx_error(&fx, R, "kms", "GetKeyRotationStatus", KEY_ID, "AccessDeniedException");
    fx_expect(fx_evaluate(&fx, "DDB-13", NULL), KEY_ID, STATUS_REVIEW, "denied");
    fx_free(&fx);
}

static void owned_keys_leave_key_management_not_applicable(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1", describe_table(NULL, ON_DEMAND, NULL));
    struct control_result *r = fx_evaluate(&fx, "DDB-13", NULL);
    assert_int_equal(r->status, STATUS_NOT_APPLICABLE);
    fx_free(&fx);
}

/* ---- DDB-19, 20, 21, 23 ---- */

static void pitr(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-19", NULL), "table/t1", STATUS_PASS, "enabled");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1",
            "{\"ContinuousBackupsDescription\": {\"ContinuousBackupsStatus\": \"ENABLED\", "
            "\"PointInTimeRecoveryDescription\": {\"PointInTimeRecoveryStatus\": \"DISABLED\"}}}");
    fx_expect(fx_evaluate(&fx, "DDB-19", NULL), "table/t1", STATUS_REMEDIATE, "DISABLED");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1", NULL);
    fx_expect(fx_evaluate(&fx, "DDB-19", NULL), "table/t1", STATUS_REVIEW, "not collected");
    fx_free(&fx);
}

static void backups_and_deletion_protection(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_PASS, "deletion protection");
    fx_free(&fx);
    /* Backups may exist outside AWS Backup: not proven absent, so Review. */
    base(&fx);
    fx_call(&fx, R, "backup", "ListProtectedResources", NULL, "{\"Results\": []}");
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_REVIEW, "AWS Backup");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1",
            "{\"Table\": {\"TableName\": \"t1\", \"DeletionProtectionEnabled\": false}}");
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_REMEDIATE,
              "deletion protection is off");
    fx_free(&fx);
    base(&fx);
    fx_error(&fx, R, "backup", "ListProtectedResources", NULL, "AccessDeniedException");
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_REVIEW, "denied");
    fx_free(&fx);
}

static void tags(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-21", NULL), "table/t1", STATUS_PASS, "every required tag");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "ListTagsOfResource", "t1",
            "{\"Tags\": [{\"Key\": \"Environment\", \"Value\": \"prod\"}]}");
    fx_expect(fx_evaluate(&fx, "DDB-21", NULL), "table/t1", STATUS_REMEDIATE,
              "Security, Confidentiality");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "ListTagsOfResource", "t1", NULL);
    fx_expect(fx_evaluate(&fx, "DDB-21", NULL), "table/t1", STATUS_REVIEW, "not collected");
    fx_free(&fx);
}

static void capacity(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-23", NULL), "table/t1", STATUS_PASS, "on-demand");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1", describe_table(SSE_CMK, NULL, NULL));
    fx_call(&fx, R, "application-autoscaling", "DescribeScalableTargets", NULL,
            "{\"ScalableTargets\": [{\"ServiceNamespace\": \"dynamodb\", \"ResourceId\": "
            "\"table/t1\", \"ScalableDimension\": \"dynamodb:table:ReadCapacityUnits\", "
            "\"MinCapacity\": 1, \"MaxCapacity\": 10}]}");
    fx_expect(fx_evaluate(&fx, "DDB-23", NULL), "table/t1", STATUS_REMEDIATE, "for writes");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1", describe_table(SSE_CMK, NULL, NULL));
    fx_call(&fx, R, "application-autoscaling", "DescribeScalableTargets", NULL, NULL);
    fx_expect(fx_evaluate(&fx, "DDB-23", NULL), "table/t1", STATUS_REVIEW, "not collected");
    fx_free(&fx);
}

/* ---- DDB-18 replicas ---- */

static void replicas(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    assert_int_equal(fx_evaluate(&fx, "DDB-18", NULL)->status, STATUS_NOT_APPLICABLE);
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1",
            describe_table(SSE_CMK, ON_DEMAND,
                           ", \"Replicas\": [{\"RegionName\": \"us-east-1\", \"ReplicaStatus\": "
                           "\"CREATING\"}]"));
    fx_expect(fx_evaluate(&fx, "DDB-18", NULL), "us-east-1:111122223333:table/t1", STATUS_REVIEW,
              "CREATING");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1",
            describe_table(SSE_CMK, ON_DEMAND,
                           ", \"Replicas\": [{\"RegionName\": \"us-east-1\", \"ReplicaStatus\": "
                           "\"INACCESSIBLE_ENCRYPTION_CREDENTIALS\"}]"));
    fx_expect(fx_evaluate(&fx, "DDB-18", NULL), "us-east-1:111122223333:table/t1", STATUS_REMEDIATE,
              "INACCESSIBLE_ENCRYPTION_CREDENTIALS");
    fx_free(&fx);
    /* A replica of confidential data on the AWS managed key fails DDB-04's rule. */
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1",
            describe_table(SSE_CMK, ON_DEMAND,
                           ", \"Replicas\": [{\"RegionName\": \"us-east-1\", \"ReplicaStatus\": "
                           "\"ACTIVE\"}]"));
    fx_call(&fx, "us-east-1", "dynamodb", "DescribeTable", "t1",
            "{\"Table\": {\"TableName\": \"t1\", \"SSEDescription\": {\"Status\": \"ENABLED\", "
            "\"SSEType\": \"KMS\", \"KMSMasterKeyArn\": "
            "\"arn:aws:kms:us-east-1:111122223333:key/aws-managed-1\"}}}");
    fx_call(&fx, "us-east-1", "dynamodb", "ListTagsOfResource", "t1", all_tags);
    fx_call(&fx, "us-east-1", "kms", "DescribeKey", "aws-managed-1",
            "{\"KeyMetadata\": {\"KeyId\": \"aws-managed-1\", \"KeyManager\": \"AWS\", "
            "\"KeyState\": \"Enabled\", \"Enabled\": true}}");
    fx_expect(fx_evaluate(&fx, "DDB-18", NULL), "us-east-1:111122223333:table/t1", STATUS_REMEDIATE,
              "weaker");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1",
            describe_table(SSE_CMK, ON_DEMAND,
                           ", \"Replicas\": [{\"RegionName\": \"us-east-1\", \"ReplicaStatus\": "
                           "\"ACTIVE\"}]"));
    /* The replica's region was not collected: its encryption is unknown. */
    fx_expect(fx_evaluate(&fx, "DDB-18", NULL), "us-east-1:111122223333:table/t1", STATUS_REVIEW,
              "not collected");
    fx_free(&fx);
}

/* ---- DDB-08, 25 ---- */

static void vpc_endpoints(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-08", NULL), "vpc/vpc-1", STATUS_PASS, "gateway");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "ec2", "DescribeVpcEndpoints", NULL, "{\"VpcEndpoints\": []}");
    fx_expect(fx_evaluate(&fx, "DDB-08", NULL), "vpc/vpc-1", STATUS_REMEDIATE, "no available");
    fx_free(&fx);
    base(&fx);
    fx_error(&fx, R, "ec2", "DescribeVpcs", NULL, "UnauthorizedOperation");
    fx_expect(fx_evaluate(&fx, "DDB-08", NULL), "eu-west-1:111122223333:*", STATUS_REVIEW,
              "denied");
    fx_free(&fx);
}

static void dax(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-25", NULL), "cache/c1", STATUS_PASS, "TLS");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dax", "DescribeClusters", NULL,
            "{\"Clusters\": [{\"ClusterName\": \"c1\", \"ClusterArn\": "
            "\"arn:aws:dax:eu-west-1:111122223333:cache/c1\", \"SSEDescription\": {\"Status\": "
            "\"DISABLED\"}, \"ClusterEndpointEncryptionType\": \"NONE\"}]}");
    fx_expect(fx_evaluate(&fx, "DDB-25", NULL), "cache/c1", STATUS_REMEDIATE, "TLS");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dax", "DescribeClusters", NULL, "{\"Clusters\": []}");
    assert_int_equal(fx_evaluate(&fx, "DDB-25", NULL)->status, STATUS_NOT_APPLICABLE);
    fx_free(&fx);
}

/* ---- DDB-16, 17, 22 ---- */

static void auditing(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-16", NULL), "trail/org", STATUS_PASS, "multi-region");
    fx_free(&fx);
    /* Data events for one table of two: the trail is otherwise fine, so a person decides. */
    base(&fx);
    fx_call(&fx, R, "dynamodb", "ListTables", NULL, "{\"TableNames\": [\"t1\", \"t2\"]}");
    fx_call(&fx, R, "cloudtrail", "GetEventSelectors", "org",
            "{\"AdvancedEventSelectors\": [{\"Name\": \"mgmt\", \"FieldSelectors\": [{\"Field\": "
            "\"eventCategory\", \"Equals\": [\"Management\"]}]}, {\"Name\": \"ddb\", "
            "\"FieldSelectors\": [{\"Field\": \"eventCategory\", \"Equals\": [\"Data\"]}, "
            "{\"Field\": \"resources.type\", \"Equals\": [\"AWS::DynamoDB::Table\"]}, "
            "{\"Field\": \"resources.ARN\", \"Equals\": [\"" TABLE_ARN "\"]}]}]}");
    fx_expect(fx_evaluate(&fx, "DDB-16", NULL), "trail/org", STATUS_REVIEW, "1 of 2 tables");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "cloudtrail", "GetTrailStatus", "org", "{\"IsLogging\": false}");
    fx_expect(fx_evaluate(&fx, "DDB-16", NULL), "trail/org", STATUS_REMEDIATE, "not logging");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "cloudtrail", "DescribeTrails", NULL, "{\"trailList\": []}");
    fx_expect(fx_evaluate(&fx, "DDB-16", NULL), ":root", STATUS_REMEDIATE, "no CloudTrail");
    fx_free(&fx);
    base(&fx);
    fx_error(&fx, R, "cloudtrail", "DescribeTrails", NULL, "AccessDeniedException");
    fx_expect(fx_evaluate(&fx, "DDB-16", NULL), "eu-west-1:111122223333:*", STATUS_REVIEW,
              "denied");
    fx_free(&fx);
}

/* A DescribeTrails answer with more trails than the check keeps (CloudTrail's quota never allows
 * it, but a snapshot is input): the report says some were not judged. */
static void too_many_trails_are_noted(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    struct buf list;
    buf_init(&list, 0);
    buf_puts(&list, "{\"trailList\": [");
    for (int i = 0; i < 300; i++)
        buf_printf(&list,
                   "%s{\"Name\": \"t%03d\", \"TrailARN\": "
                   "\"arn:aws:cloudtrail:eu-west-1:111122223333:trail/t%03d\", "
                   "\"HomeRegion\": \"eu-west-1\", \"IsMultiRegionTrail\": false}",
                   i ? ", " : "", i, i);
    buf_puts(&list, "]}");
    fx_call(&fx, R, "cloudtrail", "DescribeTrails", NULL, buf_cstr(&list));
    buf_free(&list);
    struct control_result *r = fx_evaluate(&fx, "DDB-16", NULL);
    int noted = 0;
    for (size_t i = 0; i < json_array_size(r->notes); i++)
        noted |= strstr(json_string_value(json_array_get(r->notes, i)),
                        "44 trails beyond the first 256") != NULL;
    assert_true(noted);
    assert_int_not_equal(r->status, STATUS_PASS);
    fx_free(&fx);
}

static void alerting(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    struct control_result *r = fx_evaluate(&fx, "DDB-17", NULL);
    fx_expect(r, "alert/DeleteTable", STATUS_PASS, "alarm destroy");
    fx_expect(r, "alert/IAMPolicyChanges", STATUS_PASS, "EventBridge rule iam");
    assert_int_equal(r->status, STATUS_PASS);
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "events", "ListTargetsByRule", "iam", "{\"Targets\": []}");
    r = fx_evaluate(&fx, "DDB-17", NULL);
    fx_expect(r, "alert/IAMPolicyChanges", STATUS_REMEDIATE, "PutRolePolicy");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "cloudwatch", "DescribeAlarms", NULL, NULL);
    r = fx_evaluate(&fx, "DDB-17", NULL);
    fx_expect(r, "alert/DeleteTable", STATUS_REVIEW, NULL);
    fx_free(&fx);
}

static void data_plane(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-22", NULL), "table/t1", STATUS_PASS, "data events");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "cloudtrail", "GetEventSelectors", "org",
            "{\"EventSelectors\": [{\"ReadWriteType\": \"All\", \"IncludeManagementEvents\": "
            "true, \"DataResources\": []}]}");
    fx_expect(fx_evaluate(&fx, "DDB-22", NULL), "table/t1", STATUS_REMEDIATE, "no stream");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "cloudtrail", "GetEventSelectors", "org",
            "{\"EventSelectors\": [{\"ReadWriteType\": \"All\", \"IncludeManagementEvents\": "
            "true, \"DataResources\": []}]}");
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1", describe_table(SSE_CMK, ON_DEMAND, STREAM));
    fx_expect(fx_evaluate(&fx, "DDB-22", NULL), "table/t1", STATUS_PASS, "stream");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "cloudtrail", "GetEventSelectors", "org", NULL);
    fx_expect(fx_evaluate(&fx, "DDB-22", NULL), "table/t1", STATUS_REVIEW, "not collected");
    fx_free(&fx);
}

/* ---- attestations: DDB-01, 06, 24 ---- */

static void attested_controls(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-01", NULL), "eu-west-1:111122223333:*", STATUS_PASS, "covers");
    fx_free(&fx);
    /* A region with tables that the report does not cover. */
    base(&fx);
    fx_call(&fx, "us-east-1", "dynamodb", "ListTables", NULL, "{\"TableNames\": [\"t2\"]}");
    fx_expect(fx_evaluate(&fx, "DDB-01", NULL), "us-east-1:111122223333:*", STATUS_REMEDIATE,
              "does not list");
    fx_free(&fx);
    /* The same report a year and a half later is stale: Review, never Pass. */
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-01", "2027-11-20"), ":root", STATUS_REVIEW, "stale");
    fx_free(&fx);
    /* DDB-06's attestation is older than 365 days at the as-of date. */
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-06", NULL), ":root", STATUS_REVIEW, "stale");
    fx_free(&fx);
    base(&fx);
    fx_expect(fx_evaluate(&fx, "DDB-06", "2025-06-01"), ":root", STATUS_PASS, "inherited");
    fx_free(&fx);
}

static void client_side_encryption(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    /* Confidential is not in required_values (Restricted): out of scope. */
    assert_int_equal(fx_evaluate(&fx, "DDB-24", NULL)->status, STATUS_NOT_APPLICABLE);
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "ListTagsOfResource", "t1",
            "{\"Tags\": [{\"Key\": \"Confidentiality\", \"Value\": \"Restricted\"}]}");
    fx_expect(fx_evaluate(&fx, "DDB-24", NULL), "table/t1", STATUS_PASS, "attested");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "ListTagsOfResource", "t1",
            "{\"Tags\": [{\"Key\": \"Confidentiality\", \"Value\": \"Restricted\"}]}");
    fx_file(&fx, "attestations.yaml", "attestations: []\n");
    fx_expect(fx_evaluate(&fx, "DDB-24", NULL), "table/t1", STATUS_REVIEW, "no attestation");
    fx_free(&fx);
}

/* ---- DDB-10 derived ---- */

static void supporting_services_take_the_worst(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_call(&fx, R, "kms", "GetKeyRotationStatus", KEY_ID, "{\"KeyRotationEnabled\": false}");
    struct control_result *r = fx_evaluate(&fx, "DDB-10", NULL);
    fx_expect(r, "service:KMS", STATUS_REMEDIATE, "DDB-13");
    fx_expect(r, "service:VPC", STATUS_PASS, "DDB-08");
    assert_int_equal(r->status, STATUS_REMEDIATE);
    fx_free(&fx);
}

/* ---- risk acceptances ---- */

static void acceptance_applies_until_it_expires(void **state)
{
    (void)state;
    static const char exceptions[] =
        "exceptions:\n  - control: DDB-19\n    resource: 'arn:aws:dynamodb:*:*:table/t1'\n"
        "    ticket: {id: RISK-1, url: 'https://tickets.example.com/RISK-1'}\n"
        "    approved_by: ciso@example.com\n    reason: migration window\n"
        "    expires: 2026-09-30\n";
    struct fixture fx;
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1",
            "{\"ContinuousBackupsDescription\": {\"ContinuousBackupsStatus\": \"ENABLED\", "
            "\"PointInTimeRecoveryDescription\": {\"PointInTimeRecoveryStatus\": \"DISABLED\"}}}");
    fx_file(&fx, "exceptions.yaml", exceptions);
    struct control_result *r = fx_evaluate(&fx, "DDB-19", "2026-09-30");
    fx_expect(r, "table/t1", STATUS_ACCEPTED, "DISABLED");
    assert_int_equal(fx_finding(r, "table/t1")->original_status, STATUS_REMEDIATE);
    assert_int_equal(r->status, STATUS_ACCEPTED);
    fx_free(&fx);

    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1",
            "{\"ContinuousBackupsDescription\": {\"ContinuousBackupsStatus\": \"ENABLED\", "
            "\"PointInTimeRecoveryDescription\": {\"PointInTimeRecoveryStatus\": \"DISABLED\"}}}");
    fx_file(&fx, "exceptions.yaml", exceptions);
    r = fx_evaluate(&fx, "DDB-19", "2026-10-01");
    fx_expect(r, "table/t1", STATUS_REMEDIATE, "risk acceptance RISK-1 expired on 2026-09-30");
    fx_free(&fx);

    /* An acceptance for a finding that passes matches nothing and is reported. */
    base(&fx);
    fx_file(&fx, "exceptions.yaml", exceptions);
    r = fx_evaluate(&fx, "DDB-19", "2026-09-01");
    assert_int_equal(r->status, STATUS_PASS);
    assert_int_equal(json_array_size(fx.results->exceptions_unmatched), 1);
    fx_free(&fx);
}

/* ---- review regressions: evidence that must not pass ---- */

static void not_found_is_only_an_answer_where_absence_means_something(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    /* "Not found" for DescribeTable is a failure to look, not an AWS owned key. */
    fx_error(&fx, R, "dynamodb", "DescribeTable", "t1", "PolicyNotFoundException");
    fx_expect(fx_evaluate(&fx, "DDB-04", NULL), "table/t1", STATUS_REVIEW, "not found");
    fx_free(&fx);
}

static void a_file_describing_another_table_is_not_evidence(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1",
            "{\"Table\": {\"TableName\": \"other\", \"DeletionProtectionEnabled\": true}}");
    fx_expect(fx_evaluate(&fx, "DDB-04", NULL), "table/t1", STATUS_REVIEW, "does not describe");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1", "{}");
    fx_expect(fx_evaluate(&fx, "DDB-04", NULL), "table/t1", STATUS_REVIEW, "does not describe");
    fx_free(&fx);
}

static void a_renewed_acceptance_wins_over_an_expired_one(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1",
            "{\"ContinuousBackupsDescription\": {\"ContinuousBackupsStatus\": \"ENABLED\", "
            "\"PointInTimeRecoveryDescription\": {\"PointInTimeRecoveryStatus\": \"DISABLED\"}}}");
    fx_file(&fx, "exceptions.yaml",
            "exceptions:\n"
            "  - {control: DDB-19, resource: '*:table/t1', ticket: {id: OLD-1, url: "
            "'https://t.example.com/1'}, approved_by: a, reason: r, expires: 2026-09-30}\n"
            "  - {control: DDB-19, resource: '*:table/t1', ticket: {id: NEW-2, url: "
            "'https://t.example.com/2'}, approved_by: a, reason: r, expires: 2027-03-31}\n");
    struct control_result *r = fx_evaluate(&fx, "DDB-19", "2026-10-01");
    fx_expect(r, "table/t1", STATUS_ACCEPTED, "DISABLED");
    assert_string_equal(
        json_string_value(json_object_get(fx_finding(r, "table/t1")->exception, "id")), "NEW-2");
    assert_int_equal(json_array_size(fx.results->exceptions_unmatched), 0);
    fx_free(&fx);
}

static void acceptances_never_cover_missing_evidence(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_error(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1", "AccessDeniedException");
    fx_file(&fx, "exceptions.yaml",
            "exceptions:\n"
            "  - {control: DDB-19, resource: '*:table/t1', ticket: {id: R-1, url: "
            "'https://t.example.com/1'}, approved_by: a, reason: r, expires: 2027-03-31}\n");
    fx_expect(fx_evaluate(&fx, "DDB-19", NULL), "table/t1", STATUS_REVIEW, "denied");
    fx_free(&fx);
}

static void attestation_age_is_capped_by_the_catalog(void **state)
{
    (void)state;
    struct fixture fx;
    /* The attestation claims 3000 days; the catalog's 365 applies. Day 365 is current, 366 is
     * stale. */
    base(&fx);
    fx_file(&fx, "attestations.yaml",
            "attestations:\n  - control: DDB-06\n    statement: s\n    attested_by: a\n"
            "    date: 2025-10-01\n    max_age_days: 3000\n");
    fx_expect(fx_evaluate(&fx, "DDB-06", "2026-10-01"), ":root", STATUS_PASS, "inherited");
    fx_free(&fx);
    base(&fx);
    fx_file(&fx, "attestations.yaml",
            "attestations:\n  - control: DDB-06\n    statement: s\n    attested_by: a\n"
            "    date: 2025-10-01\n    max_age_days: 3000\n");
    fx_expect(fx_evaluate(&fx, "DDB-06", "2026-10-02"), ":root", STATUS_REVIEW, "stale");
    fx_free(&fx);
    /* A future-dated typo does not hide a current attestation. */
    base(&fx);
    fx_file(&fx, "attestations.yaml",
            "attestations:\n  - {control: DDB-06, statement: s, attested_by: a, date: 2026-06-01, "
            "max_age_days: 365}\n  - {control: DDB-06, statement: typo, attested_by: a, date: "
            "2062-06-01, max_age_days: 365}\n");
    fx_expect(fx_evaluate(&fx, "DDB-06", "2026-10-01"), ":root", STATUS_PASS, "inherited");
    fx_free(&fx);
}

static void trails_that_do_not_cover_a_table(void **state)
{
    (void)state;
    struct fixture fx;
    /* EndsWith narrows the ARNs: t1 is covered, t2 is not. */
    base(&fx);
    fx_call(&fx, R, "dynamodb", "ListTables", NULL, "{\"TableNames\": [\"t1\", \"t2\"]}");
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t2",
            "{\"Table\": {\"TableName\": \"t2\", \"DeletionProtectionEnabled\": true}}");
    fx_call(&fx, R, "cloudtrail", "GetEventSelectors", "org",
            "{\"AdvancedEventSelectors\": [{\"Name\": \"ddb\", \"FieldSelectors\": [{\"Field\": "
            "\"eventCategory\", \"Equals\": [\"Data\"]}, {\"Field\": \"resources.type\", "
            "\"Equals\": [\"AWS::DynamoDB::Table\"]}, {\"Field\": \"resources.ARN\", "
            "\"EndsWith\": [\"table/t1\"]}]}]}");
    struct control_result *r = fx_evaluate(&fx, "DDB-22", NULL);
    fx_expect(r, "table/t1", STATUS_PASS, "data events");
    fx_expect(r, "table/t2", STATUS_REMEDIATE, "no logging trail");
    fx_free(&fx);
    /* A single-region trail in eu-west-1 does not record us-east-1's tables. */
    base(&fx);
    fx_call(&fx, "us-east-1", "dynamodb", "ListTables", NULL, "{\"TableNames\": [\"t9\"]}");
    fx_call(&fx, "us-east-1", "dynamodb", "DescribeTable", "t9",
            "{\"Table\": {\"TableName\": \"t9\"}}");
    fx_call(&fx, "us-east-1", "cloudtrail", "DescribeTrails", NULL, "{\"trailList\": []}");
    fx_call(&fx, R, "cloudtrail", "DescribeTrails", NULL,
            "{\"trailList\": [{\"Name\": \"org\", \"TrailARN\": "
            "\"arn:aws:cloudtrail:eu-west-1:111122223333:trail/org\", \"HomeRegion\": "
            "\"eu-west-1\", \"IsMultiRegionTrail\": false}]}");
    r = fx_evaluate(&fx, "DDB-22", NULL);
    fx_expect(r, "table/t1", STATUS_PASS, "data events");
    fx_expect(r, "us-east-1:111122223333:table/t9", STATUS_REMEDIATE, "no logging trail");
    fx_free(&fx);
    /* Trails denied everywhere: absence is not proven. */
    base(&fx);
    fx_error(&fx, R, "cloudtrail", "DescribeTrails", NULL, "AccessDeniedException");
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1", describe_table(SSE_CMK, ON_DEMAND, NULL));
    fx_expect(fx_evaluate(&fx, "DDB-22", NULL), "table/t1", STATUS_REVIEW, "denied");
    fx_free(&fx);
}

static void deletion_protection_not_stated_is_review(void **state)
{
    (void)state;
    struct fixture fx;
    base(&fx);
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1", "{\"Table\": {\"TableName\": \"t1\"}}");
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_REVIEW, "old AWS CLI");
    fx_free(&fx);
}

static void key_policies_for_provider_access(void **state)
{
    (void)state;
    static const char *const open_policies[] = {
        /* another account whose role name contains ours */
        "\\\"Principal\\\": {\\\"AWS\\\": \\\"arn:aws:iam::444455556666:role/111122223333-ro\\\"}",
        /* everyone but one principal */
        "\\\"NotPrincipal\\\": {\\\"AWS\\\": \\\"arn:aws:iam::111122223333:root\\\"}",
    };
    for (size_t i = 0; i < 2; i++) {
        char policy[1024];
        snprintf(policy, sizeof(policy),
                 "{\"PolicyName\": \"default\", \"Policy\": \"{\\\"Statement\\\": "
                 "[{\\\"Effect\\\": \\\"Allow\\\", %s, \\\"Action\\\": "
                 "\\\"kms:Decrypt\\\", \\\"Resource\\\": \\\"*\\\"}]}\"}",
                 open_policies[i]);
        struct fixture fx;
        base(&fx);
        fx_call(&fx, R, "kms", "GetKeyPolicy", KEY_ID, policy);
        fx_file(&fx, "attestations.yaml",
                "attestations:\n  - {control: DDB-07, statement: s, attested_by: a, date: "
                "2026-06-01, max_age_days: 365}\n");
        fx_expect(fx_evaluate(&fx, "DDB-07", NULL), KEY_ID, STATUS_REMEDIATE, "outside");
        fx_free(&fx);
    }
    struct fixture fx;
    base(&fx);
    fx_file(&fx, "attestations.yaml",
            "attestations:\n  - {control: DDB-07, statement: s, attested_by: a, date: 2026-06-01, "
            "max_age_days: 365}\n");
    struct control_result *r = fx_evaluate(&fx, "DDB-07", NULL);
    fx_expect(r, KEY_ID, STATUS_PASS, "only within");
    fx_expect(r, ":root", STATUS_PASS, "attested");
    fx_free(&fx);
    base(&fx);
    fx_call(&fx, R, "kms", "DescribeKey", KEY_ID, NULL);
    fx_expect(fx_evaluate(&fx, "DDB-07", NULL), KEY_ID, STATUS_REVIEW, "not collected");
    fx_free(&fx);
}

/* DDB-07 through the policy engine: who may use and administer a customer key, and whether
 * the policy opens it beyond the account. Expected answers from the KMS key policy
 * documentation (default key policy, kms:CallerAccount, kms:ViaService). */
static struct control_result *key_policy_verdict(struct fixture *fx, const char *statements)
{
    char policy[4096];
    json_t *document = json_loads(statements, 0, NULL);
    assert_non_null(document);
    json_t *full = json_pack("{s:s, s:O}", "Version", "2012-10-17", "Statement", document);
    char *text = json_dumps(full, JSON_COMPACT);
    json_decref(full);
    json_t *wrapped = json_pack("{s:s, s:s}", "PolicyName", "default", "Policy", text);
    char *out = json_dumps(wrapped, 0);
    snprintf(policy, sizeof(policy), "%s", out);
    free(out);
    free(text);
    json_decref(wrapped);
    json_decref(document);
    base(fx);
    fx_call(fx, R, "kms", "GetKeyPolicy", KEY_ID, policy);
    fx_file(fx, "attestations.yaml",
            "attestations:\n  - {control: DDB-07, statement: s, attested_by: a, date: "
            "2026-06-01, max_age_days: 365}\n");
    return fx_evaluate(fx, "DDB-07", NULL);
}

#define USE_ACTIONS                                                                                \
    "[\"kms:Encrypt\", \"kms:Decrypt\", \"kms:ReEncrypt*\", \"kms:GenerateDataKey*\", "            \
    "\"kms:CreateGrant\", \"kms:DescribeKey\"]"

static void key_policy_users_administrators_and_openings(void **state)
{
    (void)state;
    struct fixture fx;
    /* The shape of DynamoDB's own key policy: "*" confined to this account and to DynamoDB. */
    struct control_result *r = key_policy_verdict(
        &fx,
        "[{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::111122223333:root\"}, "
        "\"Action\": \"kms:*\", \"Resource\": \"*\"}, "
        "{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
        "\"arn:aws:iam::111122223333:role/keys\"}, "
        "\"Action\": [\"kms:Put*\", \"kms:ScheduleKeyDeletion\"], \"Resource\": \"*\"}, "
        "{\"Sid\": \"ViaDynamoDB\", \"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"*\"}, "
        "\"Action\": " USE_ACTIONS ", \"Resource\": \"*\", \"Condition\": {\"StringEquals\": "
        "{\"kms:CallerAccount\": \"111122223333\", \"kms:ViaService\": "
        "\"dynamodb.eu-west-1.amazonaws.com\"}}}]");
    fx_expect(r, KEY_ID, STATUS_PASS,
              "use (Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*, CreateGrant): account "
              "111122223333 (its IAM policies decide) and any principal of this account; "
              "administration (PutKeyPolicy, ScheduleKeyDeletion, DisableKey): account "
              "111122223333 (its IAM policies decide) and arn:aws:iam::111122223333:role/keys; "
              "kms:ViaService limits a grant of use to calls through "
              "dynamodb.eu-west-1.amazonaws.com");
    const struct finding *f = fx_finding(r, KEY_ID);
    int cited = 0;
    for (size_t i = 0; i < json_array_size(f->evidence); i++) {
        json_t *value = json_object_get(json_array_get(f->evidence, i), "value");
        json_t *admins = json_object_get(value, "administer");
        if (admins && json_array_size(admins) == 2 &&
            !strcmp(json_string_value(json_array_get(admins, 1)),
                    "arn:aws:iam::111122223333:role/keys"))
            cited = 1;
    }
    assert_true(cited);
    fx_free(&fx);

    /* kms:ViaService alone confines the service, not the caller's account: a person judges. */
    r = key_policy_verdict(&fx, "[{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
                                "\"kms:Decrypt\", \"Resource\": \"*\", \"Condition\": "
                                "{\"StringEquals\": {\"kms:ViaService\": "
                                "\"dynamodb.eu-west-1.amazonaws.com\"}}}]");
    fx_expect(r, KEY_ID, STATUS_REVIEW, "kms:ViaService alone does not confine");
    fx_free(&fx);

    /* kms:CallerAccount naming another account opens the key to it. */
    r = key_policy_verdict(&fx, "[{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"*\"}, "
                                "\"Action\": \"kms:GenerateDataKey*\", \"Resource\": \"*\", "
                                "\"Condition\": {\"StringEquals\": {\"kms:CallerAccount\": "
                                "[\"111122223333\", \"444455556666\"]}}}]");
    fx_expect(r, KEY_ID, STATUS_REMEDIATE, "every principal of an account outside this one");
    fx_free(&fx);

    /* A negated account condition confines nothing. */
    r = key_policy_verdict(&fx,
                           "[{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
                           "\"kms:Decrypt\", \"Resource\": \"*\", \"Condition\": "
                           "{\"StringNotEquals\": {\"kms:CallerAccount\": \"444455556666\"}}}]");
    fx_expect(r, KEY_ID, STATUS_REVIEW, "behind conditions");
    fx_free(&fx);

    /* Administration by another account is as open as use: it can take the key away. */
    r = key_policy_verdict(&fx, "[{\"Sid\": \"Admin\", \"Effect\": \"Allow\", \"Principal\": "
                                "{\"AWS\": \"arn:aws:iam::444455556666:role/ops\"}, \"Action\": "
                                "\"kms:ScheduleKeyDeletion\", \"Resource\": \"*\"}]");
    fx_expect(r, KEY_ID, STATUS_REMEDIATE,
              "statement 0 (Sid \"Admin\") grants a principal of another account "
              "(arn:aws:iam::444455556666:role/ops)");
    fx_free(&fx);

    /* NotAction "kms:Encrypt" still allows Decrypt to everyone. */
    r = key_policy_verdict(&fx, "[{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"*\"}, "
                                "\"NotAction\": \"kms:Encrypt\", \"Resource\": \"*\"}]");
    fx_expect(r, KEY_ID, STATUS_REMEDIATE, "every principal (public)");
    fx_free(&fx);

    /* Another account that may only describe the key can neither use nor administer it. */
    r = key_policy_verdict(&fx, "[{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
                                "\"444455556666\"}, \"Action\": [\"kms:DescribeKey\", "
                                "\"kms:GetKeyPolicy\"], \"Resource\": \"*\"}]");
    fx_expect(r, KEY_ID, STATUS_PASS,
              "use (Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*, "
              "CreateGrant): no principal");
    fx_free(&fx);

    /* A Deny never opens a key. */
    r = key_policy_verdict(&fx, "[{\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": "
                                "\"kms:*\", \"Resource\": \"*\", \"Condition\": {\"Bool\": "
                                "{\"aws:SecureTransport\": \"false\"}}}]");
    fx_expect(r, KEY_ID, STATUS_PASS, "only within");
    int noted = 0;
    for (size_t i = 0; i < json_array_size(r->notes); i++)
        noted |= strstr(json_string_value(json_array_get(r->notes, i)), "ListGrants") != NULL;
    assert_true(noted);
    fx_free(&fx);

    /* A malformed policy is a finding, not a crash. */
    base(&fx);
    fx_call(&fx, R, "kms", "GetKeyPolicy", KEY_ID,
            "{\"PolicyName\": \"default\", \"Policy\": \"{\\\"Statement\\\": [{\\\"Effect\\\": "
            "\\\"Allow\\\", \\\"Action\\\": 7}]}\"}");
    fx_expect(fx_evaluate(&fx, "DDB-07", NULL), KEY_ID, STATUS_REVIEW,
              "the key policy cannot be read: statement 0: Action must be a string");
    fx_free(&fx);
}

/* ---- DDB-19, 20, 23: how recent the backups are, and suspended scaling ---- */

/* ListProtectedResources naming t1 with this LastBackupTime (a JSON value, quoted or not). */
static void protected_backup(struct fixture *fx, const char *last_backup_time)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"Results\": [{\"ResourceArn\": \"" TABLE_ARN "\", \"ResourceType\": "
             "\"DynamoDB\", \"LastRecoveryPointArn\": \"arn:aws:backup:eu-west-1:111122223333:"
             "recovery-point:rp-1\"%s%s}]}",
             last_backup_time ? ", \"LastBackupTime\": " : "",
             last_backup_time ? last_backup_time : "");
    fx_call(fx, R, "backup", "ListProtectedResources", NULL, text);
}

/* The finding cites `pointer` of some evidence document. */
static int cites(const struct finding *f, const char *pointer)
{
    size_t i;
    json_t *item;
    if (!f)
        return 0;
    json_array_foreach(f->evidence, i, item)
    {
        const char *cited = json_string_value(json_object_get(item, "pointer"));
        if (cited && strcmp(cited, pointer) == 0)
            return 1;
    }
    return 0;
}

static void backup_recency_decides_the_pass(void **state)
{
    (void)state;
    struct fixture fx;
    /* The as-of date is 2026-10-01; the catalog allows 7 days. */
    base(&fx);
    protected_backup(&fx, "\"2026-09-24T23:59:59.000000+00:00\"");
    struct control_result *r = fx_evaluate(&fx, "DDB-20", NULL);
    fx_expect(r, "table/t1", STATUS_PASS, "newest recovery point is from 2026-09-24, 7 days");
    assert_true(cites(fx_finding(r, "table/t1"), "/Results/0/LastBackupTime"));
    fx_free(&fx);

    /* Eight days old: the plan may have stopped, so no Pass; the date is named and cited. */
    base(&fx);
    protected_backup(&fx, "\"2026-09-23T10:00:00.000000+00:00\"");
    r = fx_evaluate(&fx, "DDB-20", NULL);
    fx_expect(r, "table/t1", STATUS_REVIEW, "from 2026-09-23, 8 days before 2026-10-01");
    assert_true(cites(fx_finding(r, "table/t1"), "/Results/0/LastBackupTime"));
    fx_free(&fx);

    /* The as-of date, not the clock, measures the age: the same backup is current on an
     * earlier as-of date. */
    base(&fx);
    protected_backup(&fx, "\"2026-09-23T10:00:00.000000+00:00\"");
    fx_expect(fx_evaluate(&fx, "DDB-20", "2026-09-28"), "table/t1", STATUS_PASS, "5 days");
    fx_free(&fx);

    /* A time zone offset moves the backup to its UTC day; epoch seconds are read too. */
    base(&fx);
    protected_backup(&fx, "\"2026-09-24T22:00:00-03:00\"");
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_PASS, "from 2026-09-25");
    fx_free(&fx);
    base(&fx);
    protected_backup(&fx, "1790000000.5"); /* 2026-09-21T14:13:20Z */
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_REVIEW, "from 2026-09-21");
    fx_free(&fx);

    /* No date, an unreadable one, or one after the as-of date: fail closed. */
    base(&fx);
    protected_backup(&fx, NULL);
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_REVIEW, "LastBackupTime");
    fx_free(&fx);
    base(&fx);
    protected_backup(&fx, "\"yesterday\"");
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_REVIEW, "LastBackupTime");
    fx_free(&fx);
    base(&fx);
    protected_backup(&fx, "\"2026-10-05T00:00:00Z\"");
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_REVIEW,
              "dated 2026-10-05, after the as-of date");
    fx_free(&fx);

    /* Deletion protection off stays Remediate and still names the newest backup. */
    base(&fx);
    protected_backup(&fx, "\"2026-09-01T00:00:00Z\"");
    fx_call(&fx, R, "dynamodb", "DescribeTable", "t1",
            "{\"Table\": {\"TableName\": \"t1\", \"DeletionProtectionEnabled\": false}}");
    fx_expect(fx_evaluate(&fx, "DDB-20", NULL), "table/t1", STATUS_REMEDIATE,
              "deletion protection is off (AWS Backup's newest recovery point is from 2026-09-01)");
    fx_free(&fx);
}

static void pitr_latest_restorable_time(void **state)
{
    (void)state;
    struct fixture fx;
/* A literal format (a macro, not a variable) so -Wformat-nonliteral holds at every -O level. */
#define shape                                                                                      \
    "{\"ContinuousBackupsDescription\": {\"ContinuousBackupsStatus\": \"ENABLED\", "               \
    "\"PointInTimeRecoveryDescription\": {\"PointInTimeRecoveryStatus\": \"%s\", "                 \
    "\"RecoveryPeriodInDays\": 35, \"EarliestRestorableDateTime\": "                               \
    "\"2026-08-27T09:25:00+00:00\", \"LatestRestorableDateTime\": %s}}}"
    char text[1024];
    /* Minutes before collection: Pass. */
    base(&fx);
    snprintf(text, sizeof(text), shape, "ENABLED", "\"2026-10-01T09:25:00.000000+00:00\"");
    fx_call(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1", text);
    struct control_result *r = fx_evaluate(&fx, "DDB-19", NULL);
    fx_expect(r, "table/t1", STATUS_PASS, "35-day recovery period");
    assert_true(cites(fx_finding(r, "table/t1"),
                      "/ContinuousBackupsDescription/PointInTimeRecoveryDescription/"
                      "LatestRestorableDateTime"));
    fx_free(&fx);
    /* Enabled, but nothing restorable after 2026-09-20: Review, naming the date. */
    base(&fx);
    snprintf(text, sizeof(text), shape, "ENABLED", "\"2026-09-20T00:00:00Z\"");
    fx_call(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1", text);
    fx_expect(fx_evaluate(&fx, "DDB-19", NULL), "table/t1", STATUS_REVIEW,
              "latest restorable time is 2026-09-20, 11 days before 2026-10-01");
    fx_free(&fx);
    /* Unreadable: Review. Disabled: Remediate whatever the dates say. */
    base(&fx);
    snprintf(text, sizeof(text), shape, "ENABLED", "true");
    fx_call(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1", text);
    fx_expect(fx_evaluate(&fx, "DDB-19", NULL), "table/t1", STATUS_REVIEW, "cannot be read");
    fx_free(&fx);
    base(&fx);
    snprintf(text, sizeof(text), shape, "DISABLED", "\"2026-10-01T09:25:00Z\"");
    fx_call(&fx, R, "dynamodb", "DescribeContinuousBackups", "t1", text);
    fx_expect(fx_evaluate(&fx, "DDB-19", NULL), "table/t1", STATUS_REMEDIATE, "DISABLED");
    fx_free(&fx);
#undef shape
}

/* Provisioned t1 with read and write scalable targets carrying these SuspendedState values
 * (JSON, or NULL for none). */
static void scaled_table(struct fixture *fx, const char *read_state, const char *write_state)
{
    char text[2048];
    fx_call(fx, R, "dynamodb", "DescribeTable", "t1", describe_table(SSE_CMK, NULL, NULL));
    snprintf(text, sizeof(text),
             "{\"ScalableTargets\": [{\"ServiceNamespace\": \"dynamodb\", \"ResourceId\": "
             "\"table/t1\", \"ScalableDimension\": \"dynamodb:table:ReadCapacityUnits\", "
             "\"MinCapacity\": 1, \"MaxCapacity\": 10%s%s}, {\"ServiceNamespace\": "
             "\"dynamodb\", \"ResourceId\": \"table/t1\", \"ScalableDimension\": "
             "\"dynamodb:table:WriteCapacityUnits\", \"MinCapacity\": 1, \"MaxCapacity\": "
             "10%s%s}]}",
             read_state ? ", \"SuspendedState\": " : "", read_state ? read_state : "",
             write_state ? ", \"SuspendedState\": " : "", write_state ? write_state : "");
    fx_call(fx, R, "application-autoscaling", "DescribeScalableTargets", NULL, text);
}

static void suspended_scaling_is_not_scaling(void **state)
{
    (void)state;
    struct fixture fx;
    static const char running[] =
        "{\"DynamicScalingInSuspended\": true, \"DynamicScalingOutSuspended\": false, "
        "\"ScheduledScalingSuspended\": true}";
    static const char out_suspended[] =
        "{\"DynamicScalingInSuspended\": false, \"DynamicScalingOutSuspended\": true, "
        "\"ScheduledScalingSuspended\": false}";
    /* Scale-in or scheduled scaling suspended still scales out under load: Pass. */
    base(&fx);
    scaled_table(&fx, running, NULL);
    fx_expect(fx_evaluate(&fx, "DDB-23", NULL), "table/t1", STATUS_PASS,
              "auto scaling for reads and writes");
    fx_free(&fx);
    /* Scale-out suspended on writes: Remediate, citing the state. */
    base(&fx);
    scaled_table(&fx, NULL, out_suspended);
    struct control_result *r = fx_evaluate(&fx, "DDB-23", NULL);
    fx_expect(r, "table/t1", STATUS_REMEDIATE, "auto scaling for writes is suspended");
    assert_true(cites(fx_finding(r, "table/t1"), "/ScalableTargets/1/SuspendedState"));
    fx_free(&fx);
    base(&fx);
    scaled_table(&fx, out_suspended, out_suspended);
    fx_expect(fx_evaluate(&fx, "DDB-23", NULL), "table/t1", STATUS_REMEDIATE,
              "reads and writes is suspended");
    fx_free(&fx);
    /* A state that cannot be read: Review. */
    base(&fx);
    scaled_table(&fx, "{\"DynamicScalingOutSuspended\": \"yes\"}", NULL);
    fx_expect(fx_evaluate(&fx, "DDB-23", NULL), "table/t1", STATUS_REVIEW,
              "SuspendedState that cannot be read");
    fx_free(&fx);
    base(&fx);
    scaled_table(&fx, NULL, "[true]");
    fx_expect(fx_evaluate(&fx, "DDB-23", NULL), "table/t1", STATUS_REVIEW, "for writes");
    fx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encryption_customer_key_passes),
        cmocka_unit_test(encryption_owned_key_on_confidential_table_remediates),
        cmocka_unit_test(encryption_owned_key_on_internal_table_passes),
        cmocka_unit_test(encryption_missing_key_description_reviews),
        cmocka_unit_test(encryption_denied_describe_table_reviews),
        cmocka_unit_test(missing_list_tables_reviews_the_region),
        cmocka_unit_test(key_rotating_passes_and_pending_deletion_remediates),
        cmocka_unit_test(owned_keys_leave_key_management_not_applicable),
        cmocka_unit_test(pitr),
        cmocka_unit_test(backups_and_deletion_protection),
        cmocka_unit_test(tags),
        cmocka_unit_test(capacity),
        cmocka_unit_test(replicas),
        cmocka_unit_test(vpc_endpoints),
        cmocka_unit_test(dax),
        cmocka_unit_test(auditing),
        cmocka_unit_test(too_many_trails_are_noted),
        cmocka_unit_test(alerting),
        cmocka_unit_test(data_plane),
        cmocka_unit_test(attested_controls),
        cmocka_unit_test(client_side_encryption),
        cmocka_unit_test(supporting_services_take_the_worst),
        cmocka_unit_test(acceptance_applies_until_it_expires),
        cmocka_unit_test(not_found_is_only_an_answer_where_absence_means_something),
        cmocka_unit_test(a_file_describing_another_table_is_not_evidence),
        cmocka_unit_test(a_renewed_acceptance_wins_over_an_expired_one),
        cmocka_unit_test(acceptances_never_cover_missing_evidence),
        cmocka_unit_test(attestation_age_is_capped_by_the_catalog),
        cmocka_unit_test(trails_that_do_not_cover_a_table),
        cmocka_unit_test(deletion_protection_not_stated_is_review),
        cmocka_unit_test(key_policies_for_provider_access),
        cmocka_unit_test(key_policy_users_administrators_and_openings),
        cmocka_unit_test(backup_recency_decides_the_pass),
        cmocka_unit_test(pitr_latest_restorable_time),
        cmocka_unit_test(suspended_scaling_is_not_scaling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
