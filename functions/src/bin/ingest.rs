//! The `ingest` Lambda function: SQS events of the `ingest` queue to `handlers::handle`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mmsc_functions::run(mmsc_shared::ports::queues::INGEST).await
}
