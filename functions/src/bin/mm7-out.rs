//! The `mm7-out` Lambda function: SQS events of the `mm7-out` queue to `handlers::handle`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mmsc_functions::run(mmsc_shared::ports::queues::MM7_OUT).await
}
