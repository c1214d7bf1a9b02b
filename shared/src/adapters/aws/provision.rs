//! Creates the AWS resources of one deployment on LocalStack or a moto server (and the
//! tests' fresh resources): the bucket, the table with its TTL attribute, and every
//! queue with its dead-letter queue and redrive policy. Idempotent: existing resources
//! are left as they are. On AWS, Terraform (`infra/terraform`) creates the same shapes.

use super::{AwsContext, AwsResources, AwsSetupError, dynamodb::TTL_ATTRIBUTE, error_message};
use crate::ports::queues;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use std::time::Duration;

fn failed(what: impl Into<String>, message: String) -> AwsSetupError {
    AwsSetupError::Request {
        what: what.into(),
        message,
    }
}

/// The queues a deployment uses (each gets a `-dlq` twin).
pub const DEPLOYMENT_QUEUES: [&str; 4] = queues::ALL;

/// Creates the bucket, the table and `queue_names` (logical names) with dead-letter
/// queues after `max_receives` receives. `visibility` is the queues' default
/// visibility timeout (Lambda needs it at least as long as the function timeout).
pub async fn create_resources(
    ctx: &AwsContext,
    res: &AwsResources,
    queue_names: &[&str],
    max_receives: u32,
    visibility: Duration,
) -> Result<(), AwsSetupError> {
    create_bucket(ctx, &res.bucket).await?;
    create_table(ctx, &res.table).await?;
    for q in queue_names {
        create_queue_pair(
            ctx,
            &format!("{}{q}", res.queue_prefix),
            max_receives,
            visibility,
        )
        .await?;
    }
    Ok(())
}

pub async fn create_bucket(ctx: &AwsContext, bucket: &str) -> Result<(), AwsSetupError> {
    let s3 = ctx.s3();
    let mut req = s3.create_bucket().bucket(bucket);
    // us-east-1 takes no location constraint; every other region needs one.
    if let Some(region) = ctx.sdk.region().map(|r| r.as_ref().to_string())
        && region != "us-east-1"
    {
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_str(),
                ))
                .build(),
        );
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error().is_some_and(|s| {
                s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
            }) =>
        {
            Ok(())
        }
        Err(e) => Err(failed(
            format!("creating bucket {bucket}"),
            error_message(&e),
        )),
    }
}

pub async fn create_table(ctx: &AwsContext, table: &str) -> Result<(), AwsSetupError> {
    let ddb = ctx.dynamodb();
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| failed("building the table definition", e.to_string()))
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| failed("building the table definition", e.to_string()))
    };
    let created = ddb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(failed(format!("creating table {table}"), error_message(&e))),
    }
    // Wait until it is ACTIVE (moto: at once; LocalStack: a moment).
    for _ in 0..60 {
        let d = ddb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| failed(format!("describing table {table}"), error_message(&e)))?;
        if d.table()
            .and_then(|t| t.table_status())
            .is_some_and(|s| s.as_str() == "ACTIVE")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(TTL_ATTRIBUTE)
        .enabled(true)
        .build()
        .map_err(|e| failed("building the TTL specification", e.to_string()))?;
    match ddb
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // "TimeToLive is already enabled" on a second run.
        Err(e) if error_message(&e).contains("already enabled") => Ok(()),
        Err(e) => Err(failed(
            format!("enabling TTL on table {table}"),
            error_message(&e),
        )),
    }
}

/// Creates `<name>-dlq` and `<name>` redriving to it after `max_receives` receives.
/// Returns the URL of `<name>`.
pub async fn create_queue_pair(
    ctx: &AwsContext,
    name: &str,
    max_receives: u32,
    visibility: Duration,
) -> Result<String, AwsSetupError> {
    let sqs = ctx.sqs();
    let dlq_name = queues::dead_letter(name);
    let dlq_url = sqs
        .create_queue()
        .queue_name(&dlq_name)
        // Dead letters wait for an operator: keep them the longest SQS allows (14 days).
        .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
        .send()
        .await
        .map_err(|e| failed(format!("creating queue {dlq_name}"), error_message(&e)))?
        .queue_url()
        .unwrap_or_default()
        .to_string();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| failed(format!("reading the ARN of {dlq_name}"), error_message(&e)))?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| failed(format!("reading the ARN of {dlq_name}"), "no ARN".into()))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": max_receives.to_string(),
    });
    let url = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility.as_secs().to_string(),
        )
        .send()
        .await
        .map_err(|e| failed(format!("creating queue {name}"), error_message(&e)))?
        .queue_url()
        .unwrap_or_default()
        .to_string();
    Ok(url)
}
