//! The `expire` Lambda function: SQS events of the `expire` queue to `handlers::handle`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mmsc_functions::run(mmsc_shared::ports::queues::EXPIRE).await
}
