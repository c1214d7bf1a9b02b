//! The `mm4-out` Lambda function: SQS events of the `mm4-out` queue to `handlers::handle`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mmsc_functions::run(mmsc_shared::ports::queues::MM4_OUT).await
}
