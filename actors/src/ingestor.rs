//! [`Ingestor`]: turns request bodies into durable batches. Parsing, the
//! minimum-level filter and block encoding run on blocking threads, so
//! concurrent requests use every core; the encoded batch goes to the
//! StoreWriter and the answer waits for its fsync. A body with any bad event
//! stores nothing.

use actix::prelude::*;
use skein_store::block::{encode_block, EncodedBlock};
use skein_store::event::{parse_clef_with, parse_legacy_with};

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
    };
    let before = events.len();
    if let Some(min) = msg.minimum_level {
        events.retain(|e| e.level.severity >= min);
    }
    let ingested = Ingested {
        stored: events.len(),
        dropped: before - events.len(),
    };
    let block = (!events.is_empty()).then(|| encode_block(&events));
    Ok((block, ingested))
}

impl Handler<IngestBody> for Ingestor {
    type Result = ResponseFuture<Result<Ingested, IngestError>>;

    fn handle(&mut self, msg: IngestBody, _: &mut Context<Self>) -> Self::Result {
        let writer = self.writer.clone();
        Box::pin(async move {
            let (block, ingested) = tokio::task::spawn_blocking(move || prepare(&msg))
                .await
                .map_err(|_| IngestError::Unavailable)??;
            if let Some(block) = block {
                writer
                    .send(AppendBatch { block })
                    .await
                    .map_err(|_| IngestError::Unavailable)??;
            }
            Ok(ingested)
        })
    }
}
