//! [`ObjectStore`] on one S3 bucket.
//!
//! Keys are the port's keys unchanged. Every `PutObject` asks for server-side
//! encryption (SSE-S3 by default, SSE-KMS with a key id) and carries the content type.
//! Bodies go out as a [`ByteStream`] over the caller's [`Bytes`] (no copy; the SDK
//! streams it with a checksum) and come back by collecting the response stream, so a
//! 10 MiB MM4 message is never held twice. `PutObject` takes up to 5 GiB in one
//! request, far above any MMS size limit, so there is no multipart upload.

use super::error_message;
use crate::ports::{ObjectError, ObjectStore, validate_key};
use async_trait::async_trait;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

/// Server-side encryption of stored objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSideEncryption {
    /// SSE-S3 (`AES256`).
    S3Managed,
    /// SSE-KMS with this key id or ARN.
    Kms(String),
}

pub struct S3ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    sse: ServerSideEncryption,
}

impl S3ObjectStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: String, sse: ServerSideEncryption) -> Self {
        S3ObjectStore {
            client,
            bucket,
            sse,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn backend(what: &str, key: &str, message: String) -> ObjectError {
    ObjectError::Backend(format!("S3 {what} {key}: {message}"))
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), ObjectError> {
        validate_key(key)?;
        let len = body.len() as i64;
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(len)
            .body(ByteStream::from(body));
        req = match &self.sse {
            ServerSideEncryption::S3Managed => {
                req.server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            }
            ServerSideEncryption::Kms(key_id) => req
                .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
                .ssekms_key_id(key_id),
        };
        req.send()
            .await
            .map_err(|e| backend("PutObject", key, error_message(&e)))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, ObjectError> {
        validate_key(key)?;
        let resp = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) {
                    return Ok(None);
                }
                return Err(backend("GetObject", key, error_message(&e)));
            }
        };
        let data = resp
            .body
            .collect()
            .await
            .map_err(|e| backend("GetObject body of", key, e.to_string()))?;
        Ok(Some(data.into_bytes()))
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        validate_key(key)?;
        // S3 answers 204 for a missing key too.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| backend("DeleteObject", key, error_message(&e)))?;
        Ok(())
    }
}
