//! The `mm1-notify` Lambda function: SQS events of the `mm1-notify` queue to `handlers::handle`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mmsc_functions::run(mmsc_shared::ports::queues::MM1_NOTIFY).await
}
