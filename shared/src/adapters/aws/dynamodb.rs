//! [`StateStore`] on one DynamoDB table.
//!
//! The port's keys map one to one onto the table's keys, so the access patterns of
//! [`crate::handlers::records`] become single-partition requests:
//!
//! | pattern | key | request |
//! |---|---|---|
//! | a message, its recipients and events | `pk = msg#<id>`, `sk = meta` / `rcpt#00000` / `event#...` | one `Query` (consistent) |
//! | transaction-id / message-id correlation | `pk = alias#our-txn#<id>` etc., `sk = -` | `GetItem` |
//! | idempotency key | `pk = alias#dedup#<iface>#<peer>#<txn>`, `sk = -` | conditional `PutItem` |
//! | state transition | any | conditional `PutItem` on `ver` |
//!
//! Nothing scans. Item attributes:
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `pk`, `sk` | S | partition and sort key (table key schema) |
//! | `val` | B | the value (opaque bytes) |
//! | `ver` | N | version, 1 for a new record, +1 per write (compare-and-set) |
//! | `exp_ms` | N | expiry in Unix milliseconds; absent: never |
//! | `ttl` | N | the same expiry in Unix seconds (rounded up): the table's TTL attribute, so DynamoDB deletes expired items on its own, days later |
//!
//! Expiry is decided by `exp_ms` against the store's clock, in every condition and on
//! every read, so an expired item that DynamoDB has not yet deleted behaves as absent.
//! Requests per call: `get`, `create`, `update`, `delete` one each; `put` one (a
//! conditional `UpdateItem` with `if_not_exists`), two when it replaces an expired item;
//! `query` one per 1 MB page.

use super::error_message;
use crate::domain::Timestamp;
use crate::ports::{Clock, Item, Key, StateStore, StoreError, Version};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use std::collections::HashMap;
use std::sync::Arc;

const PK: &str = "pk";
const SK: &str = "sk";
const VAL: &str = "val";
const VER: &str = "ver";
const EXP: &str = "exp_ms";
/// The table's TTL attribute (Unix seconds), as Terraform and [`super::provision`] set it.
pub const TTL_ATTRIBUTE: &str = "ttl";

/// Condition: the item is absent or expired (`create`, replacing an expired item).
const ABSENT_OR_EXPIRED: &str = "attribute_not_exists(#pk) OR #exp <= :now";
/// Condition: the item, if present, is live (`put`).
const NOT_EXPIRED: &str = "attribute_not_exists(#exp) OR #exp > :now";
/// Condition: the item is live at the expected version (`update`).
const LIVE_AT_VERSION: &str = "#ver = :expected AND (attribute_not_exists(#exp) OR #exp > :now)";

pub struct DynamoStateStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoStateStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String, clock: Arc<dyn Clock>) -> Self {
        DynamoStateStore {
            client,
            table,
            clock,
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn now(&self) -> AttributeValue {
        num(self.clock.now().millis())
    }

    fn key_attrs(key: &Key) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_string(), AttributeValue::S(key.pk.clone())),
            (SK.to_string(), AttributeValue::S(key.sk.clone())),
        ])
    }

    fn full_item(
        key: &Key,
        value: &[u8],
        version: Version,
        expires_at: Option<Timestamp>,
    ) -> HashMap<String, AttributeValue> {
        let mut item = Self::key_attrs(key);
        item.insert(VAL.into(), AttributeValue::B(Blob::new(value)));
        item.insert(VER.into(), num(version));
        if let Some(t) = expires_at {
            item.insert(EXP.into(), num(t.millis()));
            item.insert(TTL_ATTRIBUTE.into(), num(ttl_secs(t)));
        }
        item
    }

    fn parse(&self, attrs: &HashMap<String, AttributeValue>) -> Result<Option<Item>, StoreError> {
        let s = |name: &str| match attrs.get(name) {
            Some(AttributeValue::S(s)) => Ok(s.clone()),
            _ => Err(corrupt(name)),
        };
        let n = |name: &str| -> Result<Option<i64>, StoreError> {
            match attrs.get(name) {
                None => Ok(None),
                Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| corrupt(name)),
                Some(_) => Err(corrupt(name)),
            }
        };
        let expires_at = n(EXP)?.map(Timestamp);
        if expires_at.is_some_and(|t| t <= self.clock.now()) {
            return Ok(None);
        }
        let value = match attrs.get(VAL) {
            Some(AttributeValue::B(b)) => b.clone().into_inner(),
            None => Vec::new(),
            Some(_) => return Err(corrupt(VAL)),
        };
        let version = n(VER)?.ok_or_else(|| corrupt(VER))?;
        Ok(Some(Item {
            key: Key::new(s(PK)?, s(SK)?),
            value,
            version: u64::try_from(version).map_err(|_| corrupt(VER))?,
            expires_at,
        }))
    }

    /// Writes a whole item with version 1 if no live item has its key.
    async fn put_new(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        let r = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::full_item(key, value, 1, expires_at)))
            .condition_expression(ABSENT_OR_EXPIRED)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#exp", EXP)
            .expression_attribute_values(":now", self.now())
            .send()
            .await;
        match r {
            Ok(_) => Ok(1),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Err(conflict(key))
            }
            Err(e) => Err(backend("PutItem", key, error_message(&e))),
        }
    }
}

fn num(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// DynamoDB TTL wants whole seconds; round up so the item outlives its expiry.
fn ttl_secs(t: Timestamp) -> i64 {
    t.millis().div_euclid(1000) + i64::from(t.millis().rem_euclid(1000) != 0)
}

fn corrupt(attr: &str) -> StoreError {
    StoreError::Backend(format!("DynamoDB item has a missing or mistyped {attr:?}"))
}

fn conflict(key: &Key) -> StoreError {
    StoreError::Conflict {
        pk: key.pk.clone(),
        sk: key.sk.clone(),
    }
}

fn backend(op: &str, key: &Key, message: String) -> StoreError {
    StoreError::Backend(format!("DynamoDB {op} {}/{}: {message}", key.pk, key.sk))
}

#[async_trait]
impl StateStore for DynamoStateStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("GetItem", key, error_message(&e)))?;
        match out.item() {
            Some(attrs) => self.parse(attrs),
            None => Ok(None),
        }
    }

    async fn put(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        // A live or missing item: one UpdateItem continues (or starts) the version
        // sequence. An expired one fails the condition and is replaced by a new item.
        for _ in 0..8 {
            let mut req = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::key_attrs(key)))
                .condition_expression(NOT_EXPIRED)
                .expression_attribute_names("#v", VAL)
                .expression_attribute_names("#ver", VER)
                .expression_attribute_names("#exp", EXP)
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":v", AttributeValue::B(Blob::new(value)))
                .expression_attribute_values(":zero", num(0))
                .expression_attribute_values(":one", num(1))
                .expression_attribute_values(":now", self.now())
                .return_values(ReturnValue::UpdatedNew);
            req = match expires_at {
                Some(t) => req
                    .update_expression(
                        "SET #v = :v, #ver = if_not_exists(#ver, :zero) + :one, #exp = :exp, #ttl = :ttl",
                    )
                    .expression_attribute_values(":exp", num(t.millis()))
                    .expression_attribute_values(":ttl", num(ttl_secs(t))),
                None => req.update_expression(
                    "SET #v = :v, #ver = if_not_exists(#ver, :zero) + :one REMOVE #exp, #ttl",
                ),
            };
            match req.send().await {
                Ok(out) => {
                    return match out.attributes().and_then(|a| a.get(VER)) {
                        Some(AttributeValue::N(v)) => v.parse().map_err(|_| corrupt(VER)),
                        _ => Err(corrupt(VER)),
                    };
                }
                Err(e)
                    if matches!(
                        e.as_service_error(),
                        Some(UpdateItemError::ConditionalCheckFailedException(_))
                    ) => {}
                Err(e) => return Err(backend("UpdateItem", key, error_message(&e))),
            }
            match self.put_new(key, value, expires_at).await {
                Ok(v) => return Ok(v),
                // Someone wrote a live item in between: continue its sequence.
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Backend(format!(
            "DynamoDB put {}/{}: too much contention",
            key.pk, key.sk
        )))
    }

    async fn create(
        &self,
        key: &Key,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        self.put_new(key, value, expires_at).await
    }

    async fn update(
        &self,
        key: &Key,
        expected: Version,
        value: &[u8],
        expires_at: Option<Timestamp>,
    ) -> Result<Version, StoreError> {
        let next = expected + 1;
        let r = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::full_item(key, value, next, expires_at)))
            .condition_expression(LIVE_AT_VERSION)
            .expression_attribute_names("#ver", VER)
            .expression_attribute_names("#exp", EXP)
            .expression_attribute_values(":expected", num(expected))
            .expression_attribute_values(":now", self.now())
            .send()
            .await;
        match r {
            Ok(_) => Ok(next),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Err(conflict(key))
            }
            Err(e) => Err(backend("PutItem", key, error_message(&e))),
        }
    }

    async fn query(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| {
                    StoreError::Backend(format!("DynamoDB Query {pk}: {}", error_message(&e)))
                })?;
            for attrs in out.items() {
                if let Some(item) = self.parse(attrs)? {
                    items.push(item);
                }
            }
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        // DynamoDB orders string sort keys by UTF-8 bytes already; keep the port's
        // promise explicit.
        items.sort_by(|a, b| a.key.sk.cmp(&b.key.sk));
        Ok(items)
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_attrs(key)))
            .send()
            .await
            .map_err(|e| backend("DeleteItem", key, error_message(&e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_rounds_up_to_whole_seconds() {
        assert_eq!(ttl_secs(Timestamp(5_000)), 5);
        assert_eq!(ttl_secs(Timestamp(5_001)), 6);
        assert_eq!(ttl_secs(Timestamp(5_999)), 6);
    }
}
