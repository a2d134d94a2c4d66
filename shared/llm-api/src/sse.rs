//! Server-sent events (WHATWG HTML Living Standard, "Server-sent events", event stream
//! interpretation): lines `field: value`; an empty line dispatches the event; several `data:`
//! lines join with `\n`; lines starting with `:` are comments. Chat Completions streams one JSON
//! chunk per event and ends with `data: [DONE]`. Bytes may arrive split anywhere (even inside a
//! UTF-8 sequence), so the parser buffers until a line is complete.

/// One dispatched event's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The `data` of an event (a JSON chunk for Chat Completions).
    Data(String),
    /// `data: [DONE]`: the stream is over.
    Done,
}

/// Incremental parser: [`Parser::feed`] bytes as they arrive, get the events completed so far.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    data: Vec<String>,
}

/// Longest line kept (bytes): a peer that never sends a newline cannot grow memory without bound.
pub const MAX_LINE_BYTES: usize = 1 << 20;

impl Parser {
    /// Adds `bytes`; returns the events they complete, in order.
    ///
    /// Errors: a line longer than [`MAX_LINE_BYTES`], or not UTF-8.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Event>, String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8(line).map_err(|_| "event stream is not UTF-8")?;
            if line.is_empty() {
                if !self.data.is_empty() {
                    let data = std::mem::take(&mut self.data).join("\n");
                    out.push(if data.trim() == "[DONE]" {
                        Event::Done
                    } else {
                        Event::Data(data)
                    });
                }
            } else if let Some(v) = line.strip_prefix("data") {
                if v.is_empty() || v.starts_with(':') {
                    let v = v.strip_prefix(':').unwrap_or(v);
                    self.data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                }
            }
        }
        if self.buf.len() > MAX_LINE_BYTES {
            return Err("event stream line too long".into());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_come_out_whole_and_in_order() {
        let stream =
            "data: {\"a\":1}\n\n: keep-alive\n\ndata:{\"b\":\"é\"}\r\n\r\ndata: [DONE]\n\n";
        let bytes = stream.as_bytes();
        for cut in 0..bytes.len() {
            let mut p = Parser::default();
            let mut events = p.feed(&bytes[..cut]).unwrap();
            events.extend(p.feed(&bytes[cut..]).unwrap());
            assert_eq!(
                events,
                vec![
                    Event::Data("{\"a\":1}".into()),
                    Event::Data("{\"b\":\"é\"}".into()),
                    Event::Done
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn multi_line_data_joins_and_other_fields_are_ignored() {
        let mut p = Parser::default();
        let ev = p.feed(b"event: x\nid: 3\ndata: a\ndata: b\n\n").unwrap();
        assert_eq!(ev, vec![Event::Data("a\nb".into())]);
        assert!(p.feed(&vec![b'x'; MAX_LINE_BYTES + 1]).is_err());
    }
}
