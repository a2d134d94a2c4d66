//! A second DynamoDB stand-in for the warm figures: [dynalite](https://github.com/architect/dynalite)
//! (pinned in the Makefile's bench install; an implementation of the DynamoDB JSON protocol on
//! Node.js, in memory), which answers a `GetItem` in about 0.3 ms where moto takes about 2–3 ms.
//!
//! Why: moto is one Python process; a webhook's concurrent DynamoDB calls queue behind each
//! other there, so a warm frontdoor measured against moto is mostly moto (issue 26: 19.7 of
//! 21.1 ms). DynamoDB itself answers in single-digit milliseconds and serves concurrent calls in
//! parallel; dynalite is the closer floor. Only DynamoDB moves: S3, SNS and the media host stay on
//! their stand-ins.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, Projection,
};
use aws_sdk_dynamodb::Client;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One dynalite process on 127.0.0.1, killed on drop.
pub struct Dynalite {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Dynalite {
    /// Starts `node <node_modules>/dynalite/cli.js` on a free port (tables become ACTIVE at once)
    /// and waits until it accepts connections (at most 10 s).
    ///
    /// Errors: the process does not start or does not listen in time.
    pub async fn start(node: &Path, node_modules: &Path) -> Result<Self, String> {
        let port = crate::free_port();
        let cli = node_modules.join("dynalite/cli.js");
        let child = Command::new(node)
            .arg(&cli)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--createTableMs", "0", "--updateTableMs", "0"])
            .args(["--deleteTableMs", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", cli.display()))?;
        let me = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                return Err(format!("dynalite did not listen on {port}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(me)
    }
}

impl Drop for Dynalite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies each table in `names` from `from` (moto) to `to`: key schema, attribute definitions and
/// global secondary indexes (on-demand), then every item (a paginated `Scan`, one `PutItem`
/// each).
///
/// Errors: any DynamoDB call failing, with the table's name.
pub async fn copy_tables(from: &Client, to: &Client, names: &[String]) -> Result<(), String> {
    for name in names {
        let err = |e: &dyn std::fmt::Display| format!("{name}: {e}");
        let table = from
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?
            .table
            .ok_or_else(|| err(&"no description"))?;
        let gsis = table
            .global_secondary_indexes()
            .iter()
            .map(|g| {
                GlobalSecondaryIndex::builder()
                    .index_name(g.index_name().unwrap_or_default())
                    .set_key_schema(Some(g.key_schema().to_vec()))
                    .projection(g.projection().cloned().unwrap_or_else(|| {
                        Projection::builder()
                            .projection_type(aws_sdk_dynamodb::types::ProjectionType::All)
                            .build()
                    }))
                    .build()
                    .map_err(|e| err(&e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let keys: Vec<KeySchemaElement> = table.key_schema().to_vec();
        let attrs: Vec<AttributeDefinition> = table.attribute_definitions().to_vec();
        to.create_table()
            .table_name(name)
            .set_key_schema(Some(keys))
            .set_attribute_definitions(Some(attrs))
            .set_global_secondary_indexes((!gsis.is_empty()).then_some(gsis))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        let mut start = None;
        loop {
            let page = from
                .scan()
                .table_name(name)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            for item in page.items() {
                to.put_item()
                    .table_name(name)
                    .set_item(Some(item.clone()))
                    .send()
                    .await
                    .map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
    }
    Ok(())
}
