//! Seq's event entity: the JSON shape `GET /api/events` returns.

use serde::Serialize;
use serde_json::value::RawValue;
use skein_store::event::model::unescape_json_str;
use skein_store::event::{format_timestamp, render_message, MessageTemplateTokens};
use skein_store::{Event, EventId, EventView};

use super::links::Links;

/// One property as Seq lists it: name and value (JSON type and digits kept).
#[derive(Serialize)]
pub struct PropertyEntity {
    /// The property's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Its value, exactly as stored.
    #[serde(rename = "Value")]
    pub value: Box<RawValue>,
}

/// Links of an event.
#[derive(Serialize)]
pub struct EventLinks {
    /// The event's own URL, relative to the server root.
    #[serde(rename = "Self")]
    pub self_link: String,
}

/// An event as the Seq API returns it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventEntity {
    /// `event-…`.
    pub id: String,
    /// ISO 8601 with 7 fractional digits and `Z`.
    pub timestamp: String,
    /// The level as sent (`Information` when absent).
    pub level: String,
    /// The message template split into text and property tokens.
    pub message_template_tokens: MessageTemplateTokens,
    /// The rendered message, when asked for (`render=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered_message: Option<String>,
    /// Properties in sent order.
    pub properties: Vec<PropertyEntity>,
    /// The exception text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
    /// `$XXXXXXXX` from `@i`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// `@tr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// `@sp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// Links.
    pub links: EventLinks,
}

impl EventEntity {
    /// The entity for a stored event.
    pub fn new(id: EventId, e: &Event, render: bool, links: &Links) -> EventEntity {
        let tokens = match (&e.message_template, &e.message) {
            (Some(t), _) => MessageTemplateTokens::parse(t),
            (None, Some(m)) => {
                MessageTemplateTokens::parse(&m.replace('{', "{{").replace('}', "}}"))
            }
            (None, None) => MessageTemplateTokens(Vec::new()),
        };
        let mut properties = Vec::with_capacity(e.properties.len());
        e.for_each_property(&mut |name, value| {
            let name = unescape_json_str(name).unwrap_or_else(|| name.to_owned());
            // Stored values are valid JSON by construction.
            if let Ok(value) = RawValue::from_string(value.to_owned()) {
                properties.push(PropertyEntity { name, value });
            }
        });
        let id_text = id.to_string();
        EventEntity {
            timestamp: format_timestamp(e.timestamp),
            level: e.level.display().to_owned(),
            message_template_tokens: tokens,
            rendered_message: render.then(|| render_message(e)),
            properties,
            exception: e.exception.as_deref().map(str::to_owned),
            event_type: e.event_type().map(|t| format!("${t:08X}")),
            trace_id: e.trace_id.as_deref().map(str::to_owned),
            span_id: e.span_id.as_deref().map(str::to_owned),
            links: EventLinks {
                self_link: links.resource("events", &id_text),
            },
            id: id_text,
        }
    }
}
