//! [`Ingestor`]: turns request bodies into durable batches. Parsing, the
//! minimum-level filter and block encoding run on blocking threads, so
//! concurrent requests use every core; the encoded batch goes to the
//! StoreWriter and the answer waits for its fsync. A body with any bad event
//! stores nothing.

use actix::prelude::*;
use skein_store::block::{encode_block, EncodedBlock};
use skein_store::event::model::raw_name_eq;
use skein_store::event::{parse_clef_with, parse_legacy_with, JsonMap};

use crate::messages::{AppendBatch, IngestBody, IngestError, IngestFormat, Ingested};

/// The ingestion actor.
pub struct Ingestor {
    writer: Recipient<AppendBatch>,
}

impl Ingestor {
    /// An ingestor that appends through `writer`.
    pub fn new(writer: Recipient<AppendBatch>) -> Ingestor {
        Ingestor { writer }
    }
}

impl Actor for Ingestor {
    type Context = Context<Self>;
}

impl Supervised for Ingestor {}

/// Parses, filters and encodes a body (CPU work, on a blocking thread).
pub fn prepare(msg: &IngestBody) -> Result<(Option<EncodedBlock>, Ingested), IngestError> {
    let mut events = match msg.format {
        IngestFormat::Clef => parse_clef_with(&msg.body, &msg.limits)?,
        IngestFormat::Legacy => parse_legacy_with(&msg.body, &msg.limits)?,
        IngestFormat::Otlp(signal, encoding) => skein_otlp::decode(signal, &msg.body, encoding)?,
    };
    let before = events.len();
    if let Some(min) = msg.minimum_level {
        events.retain(|e| e.level.severity >= min);
    }
    if !msg.applied_properties.is_empty() {
        for e in &mut events {
            e.properties = apply_properties(&e.properties, &msg.applied_properties);
        }
    }
    let ingested = Ingested {
        stored: events.len(),
        dropped: before - events.len(),
        term: None,
    };
    let block = (!events.is_empty()).then(|| encode_block(&events));
    Ok((block, ingested))
}

/// `properties` with every applied property set: a property of the same
/// name is replaced, the applied ones come last in their given order.
pub fn apply_properties(properties: &JsonMap, applied: &[(String, serde_json::Value)]) -> JsonMap {
    let encoded: Vec<(String, String)> = applied
        .iter()
        .map(|(name, value)| {
            let quoted = serde_json::Value::String(name.clone()).to_string();
            (quoted[1..quoted.len() - 1].to_owned(), value.to_string())
        })
        .collect();
    let kept = properties
        .iter_raw()
        .filter(|(raw, _)| !applied.iter().any(|(name, _)| raw_name_eq(raw, name)));
    JsonMap::from_raw_pairs(kept.chain(encoded.iter().map(|(n, v)| (n.as_str(), v.as_str()))))
}

impl Handler<IngestBody> for Ingestor {
    type Result = ResponseFuture<Result<Ingested, IngestError>>;

    fn handle(&mut self, msg: IngestBody, _: &mut Context<Self>) -> Self::Result {
        let writer = self.writer.clone();
        Box::pin(async move {
            let (block, mut ingested) = tokio::task::spawn_blocking(move || prepare(&msg))
                .await
                .map_err(|_| IngestError::Unavailable)??;
            if let Some(block) = block {
                let receipt = writer
                    .send(AppendBatch { block })
                    .await
                    .map_err(|_| IngestError::Unavailable)??;
                ingested.term = Some(receipt.term);
            }
            Ok(ingested)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applied_properties_replace_sent_ones_and_come_last() {
        let sent = JsonMap::from_raw_pairs([("App", "\"forged\""), ("N", "1"), ("Q\\\"", "2")]);
        let applied = vec![
            ("App".to_string(), json!("shop")),
            ("Env \"x\"".to_string(), json!({"a": [1]})),
        ];
        let out = apply_properties(&sent, &applied);
        assert_eq!(
            out.as_json(),
            r#"{"N":1,"Q\"":2,"App":"shop","Env \"x\"":{"a":[1]}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(out.as_json()).unwrap();
        assert_eq!(parsed["App"], json!("shop"));
        assert_eq!(apply_properties(&JsonMap::new(), &[]).as_json(), "{}");
    }
}
